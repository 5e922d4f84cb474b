"""Why an app was imported with warnings or refused: one reason type, stable codes.

Importer codes start with ``I``; refusals the security policy makes keep the
policy's own code (``P001`` …, docs/policy.md), so a maintainer can count how
many apps each rule blocks.  A *note* goes only into IMPORT.md (a detail that
was converted or dropped as expected); warnings and refusals also go into the
summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from catalog.refusal import Refused

Severity = Literal["refusal", "warning", "note"]

CODES: dict[str, str] = {
    "I001": "the source is not readable, not valid YAML, or not the store's format",
    "I002": "a variable has no value here; it was replaced by an empty string",
    "I003": "a secret is used inside a longer value; secrets pass only as whole env values",
    "I004": "a Compose setting has no equivalent in the manifest; it was dropped",
    "I005": "a Compose feature the importer cannot convert (build-only, extends, include, …)",
    "I006": "a setting that weakens isolation and has no reviewed permission in the manifest",
    "I007": "a host port, container name or route clashed and was reassigned",
    "I008": "app metadata was missing or guessed (license, category, architectures, version, icon)",
    "I009": "a dependency on another app needs the owner's attention (secrets, provider data)",
    "I010": "the app already exists in the target (use --force to replace it)",
    "I011": "a fixed default credential was replaced by a generated secret",
    "I012": "the source seeds a data directory with files it ships; the node starts with it empty",
    "I013": "the app id was not usable as is",
    "I014": "the written manifest failed validation (an importer bug; nothing was kept)",
    "I015": "a data-dir mount was flattened into one sub-directory (never nested or the dir)",
}


@dataclass(frozen=True)
class Reason:
    """One thing the owner should know about one app, with where in the source it comes from."""

    code: str
    message: str
    severity: Severity = "warning"
    file: str | None = None
    line: int | None = None

    @property
    def place(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        place = f"{self.place}: " if self.place else ""
        return f"{place}{self.message} ({self.code})"

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self)}


class ImportRefused(Refused):
    """The source cannot be imported at all; ``reason`` says why (one line)."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(str(reason))
        self.reason = reason


def refuse(
    code: str, message: str, file: str | None = None, line: int | None = None
) -> ImportRefused:
    return ImportRefused(Reason(code, message, "refusal", file, line))
