"""What an apply reports: one result per app, and the error one action fails with.

Pure data.  ``SYMLINK_HINT`` is the one sentence every refusal of a planted
symlink ends with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "unchanged", "failed", "removed", "stopped", "staged"]

SYMLINK_HINT = (
    "the node never follows a symlink below its data root or state root; remove it "
    "(a container may have planted it)"
)


class ActionFailed(Exception):
    """One action could not be completed; the message is the user-facing reason."""


@dataclass(frozen=True)
class AppResult:
    app_id: str
    status: Status
    reason: str | None = None
    version: str | None = None
    change: str = "unchanged"
    warnings: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "app": self.app_id,
            "status": self.status,
            "change": self.change,
            "version": self.version,
            "reason": self.reason,
            "warnings": list(self.warnings),
        }


@dataclass
class ApplyReport:
    engine: str
    results: dict[str, AppResult] = field(default_factory=dict)
    engine_slow: str | None = None
    steps: list[str] = field(default_factory=list)
    migrated: list[str] = field(default_factory=list)
    """One-time migrations of the node's names done by this apply (``old -> new``)."""

    @property
    def ok(self) -> bool:
        return self.engine_slow is None and all(
            result.status != "failed" for result in self.results.values()
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "engine": self.engine,
            "engine_slow": self.engine_slow,
            "apps": [result.to_document() for result in self.results.values()],
            "steps": self.steps,
            "migrated": self.migrated,
        }
