"""The problems that stop a manifest from becoming containers, and how they are gathered.

Every check of the runtime spec adds to one :class:`ProblemCollector` instead of raising,
so :class:`RuntimeSpecError` lists every field that cannot be run, each with the policy
rule it breaks.  Paths written into units are checked here against :data:`SAFE_PATH`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from catalog.problems import format_field_path
from catalog.systemd_syntax import unit_text_problem

# Paths that pass through ``-v host:container:options`` and unit files unchanged.
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._@+=~/-]*$")


Location = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """One field of a manifest that no backend can run, and the policy rule it breaks."""

    location: Location
    message: str
    rule: str = "P023"


class RuntimeSpecError(ValueError):
    """The manifest cannot become containers; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(
                f"{format_field_path(p.location)}: {p.message} ({p.rule})" for p in self.problems
            )
        )


class ProblemCollector:
    """Gathers every :class:`SpecProblem` of one manifest, so a refusal lists them all."""

    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def add(self, location: Location, message: str, rule: str = "P023") -> None:
        self.problems.append(SpecProblem(location, message, rule))

    def text(self, location: Location, value: str) -> None:
        problem = unit_text_problem(value)
        if problem is not None:
            self.add(location, f"{problem}; remove it")

    def path(self, location: Location, value: str, what: str, dots_rule: str = "P003") -> None:
        if SAFE_PATH.fullmatch(value) is None:
            self.add(
                location,
                f"{what} {value!r} may use only letters, digits and . _ @ + = ~ / - "
                "(':' and ',' would split the volume option, '%' is a systemd specifier, "
                "spaces and quotes would need a shell); rename the path",
            )
        elif ".." in value.split("/"):
            self.add(
                location, f"{what} {value!r} must not contain '..'; write it without", dots_rule
            )
