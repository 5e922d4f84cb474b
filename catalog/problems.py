"""Problems found in a manifest, and the one error type that carries them.

Every problem names the file, the line where one is known, and the field
path, so ``apps/immich/manifest.yml:14: containers[1].volumes[0].path: …`` is
what the user reads — never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


def format_field_path(location: Sequence[str | int]) -> str:
    """``("containers", 1, "volumes", 0, "path")`` -> ``containers[1].volumes[0].path``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + part
    return text


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one manifest."""

    file: str
    line: int | None
    field: str
    message: str
    rule: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        rule = f" ({self.rule})" if self.rule else ""
        return f"{where}:{field} {self.message}{rule}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "rule": self.rule,
            "severity": self.severity,
        }


class ManifestError(Exception):
    """A manifest (or a set of them) was refused; ``problems`` says why, all of it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems, key=_sort_key)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _sort_key(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.file, problem.line or 0, problem.field, problem.message)
