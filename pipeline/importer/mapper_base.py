"""The state of one app's mapping: the result being built, its reasons, each field's origin.

:class:`MappedApp` is what the importer writes: the manifest document, the source
file and line of each field (``origins``, so a later policy problem points at the
Compose line that caused it) and every reason to tell the owner.  :class:`MapperBase`
holds that state for the mapping steps; :func:`app_id_of` and :func:`safe_name` make
store names into manifest names (a warning when one had to change).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.manifest_fields import (
    APP_ID_PATTERN,
    NAME_PATTERN,
)
from pipeline.hostpaths import data_dir
from pipeline.importer.reasons import Reason, refuse
from pipeline.importer.source_app import SourceApp

Origin = tuple[str, int | None]


@dataclass
class MappedApp:
    """The manifest document to write, and everything the owner should know about it."""

    app_id: str
    document: dict[str, Any]
    origins: dict[str, Origin] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)  # IMPORT.md: what mapped as it was

    def origin_of(self, field_path: str) -> Origin | None:
        """The source place of ``field_path`` or of its nearest parent that has one."""
        path = field_path
        while path:
            if path in self.origins:
                return self.origins[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


NameTaken = Callable[[str], bool]


def safe_name(text: str, pattern: str = NAME_PATTERN, limit: int = 63) -> str:
    """Lowercase, runs of other characters to '-', a leading letter, cut to ``limit``."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not name or not name[0].isalpha():
        name = f"v-{name}" if name else "v"
    name = name[:limit].rstrip("-_")
    return name if re.fullmatch(pattern, name) else "v"


def app_id_of(raw: str, file: str, line: int | None) -> tuple[str, Reason | None]:
    """The manifest id for a store id; a warning when it had to change."""
    candidate = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:40].rstrip("-")
    if not re.fullmatch(APP_ID_PATTERN, candidate):
        raise refuse("I013", f"app id {raw!r} cannot be made into an id like 'my-app'", file, line)
    if candidate == raw:
        return candidate, None
    return candidate, Reason("I013", f"app id {raw!r} became {candidate!r}", "warning", file, line)


class MapperBase:
    """One app's mapping state: the source, the result and the names chosen so far."""

    def __init__(self, source: SourceApp, name_taken: NameTaken) -> None:
        self.source = source
        self.project = source.project
        self.file = source.project.filename
        self.name_taken = name_taken
        meta = source.meta
        assert meta.id is not None
        self.app_id, renamed = app_id_of(meta.id, meta.file, meta.line("id"))
        self.mapped = MappedApp(self.app_id, {})
        self.reasons = self.mapped.reasons
        self.reasons.extend(source.reasons)
        if renamed is not None:
            self.reasons.append(renamed)
        self.home = data_dir(self.app_id)
        self.secrets: dict[str, dict[str, Any]] = {}
        self.container_names: dict[str, str] = {}
        self.permissions: dict[str, Any] = {}
        self.provider_paths: dict[str, str] = {}

    def say(
        self,
        code: str,
        message: str,
        severity: str = "warning",
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        self.reasons.append(Reason(code, message, severity, file or self.file, line))  # type: ignore[arg-type]

    def origin(self, path: str, line: int | None, file: str | None = None) -> None:
        self.mapped.origins[path] = (file or self.file, line)
