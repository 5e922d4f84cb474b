"""What changed since the previous catalog, and whether each change was versioned.

A node decides to update an app by its (version, revision), so an app whose
manifest, icon, image digests or companion context changed must bump one of them, and a
version never goes backwards.  Apps are compared by content (manifest
BLAKE3, icon BLAKE3, companion context BLAKE3), so the comparison does not
need the previous commit to be present in this clone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from catalog.catalog_model import AppCatalog, CatalogApp


@dataclass(frozen=True)
class AppState:
    """What the change check needs to know about one app in one build."""

    version: str
    revision: int
    manifest_blake3: str
    icon_blake3: str | None
    companion_contexts: tuple[tuple[str, str], ...]
    images: tuple[str, ...]

    @classmethod
    def of_catalog_app(cls, app: CatalogApp) -> AppState:
        return cls(
            version=app.version,
            revision=app.revision,
            manifest_blake3=app.manifest_blake3,
            icon_blake3=None if app.icon is None else app.icon.blake3,
            companion_contexts=tuple(
                sorted((each.member, each.context_blake3) for each in app.companions)
            ),
            images=tuple(image.pinned_reference for image in app.images),
        )

    @property
    def label(self) -> str:
        return f"{self.version}-r{self.revision}"


@dataclass
class ChangeReport:
    previous_commit: str | None
    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """One line per app, for people: ``+ app 1.0-r1``, ``- app``, ``~ app 1.0-r1 -> 1.0-r2``."""
        out = [f"+ {app_id} {label}" for app_id, label in sorted(self.added.items())]
        out += [f"- {app_id} {label}" for app_id, label in sorted(self.removed.items())]
        out += [
            f"~ {app_id} {before} -> {after} ({', '.join(what)})"
            for app_id, (before, after, what) in sorted(self.changed.items())
        ]
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "previous_commit": self.previous_commit,
            "added": sorted(self.added),
            "removed": sorted(self.removed),
            "changed": {
                app_id: {"from": before, "to": after, "what": what}
                for app_id, (before, after, what) in sorted(self.changed.items())
            },
            "errors": self.errors,
        }


_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")


def _natural_key(version: str) -> list[tuple[int, int | str]]:
    return [
        (0, int(number)) if number else (1, text)
        for number, text in _NUMBER_OR_TEXT.findall(version)
    ]


def compare_versions(left: str, right: str) -> int:
    """-1, 0 or 1: PEP 440 order when both parse, else a natural (numbers-aware) order."""
    if left == right:
        return 0
    try:
        a: Any = Version(left.removeprefix("v"))
        b: Any = Version(right.removeprefix("v"))
    except InvalidVersion:
        a, b = _natural_key(left), _natural_key(right)
    if a == b:
        return 0
    return -1 if a < b else 1


def what_changed(before: AppState, after: AppState) -> list[str]:
    parts = []
    if before.manifest_blake3 != after.manifest_blake3:
        parts.append("manifest")
    if before.icon_blake3 != after.icon_blake3:
        parts.append("icon")
    if before.companion_contexts != after.companion_contexts:
        parts.append("companion context")
    if before.images != after.images:
        parts.append("images")
    return parts


def detect_changes(previous: AppCatalog | None, current: dict[str, AppState]) -> ChangeReport:
    """Compare this build's apps with the previous catalog's."""
    report = ChangeReport(previous_commit=None if previous is None else previous.source.commit)
    before = (
        {}
        if previous is None
        else {app_id: AppState.of_catalog_app(app) for app_id, app in previous.apps.items()}
    )
    for app_id, state in sorted(current.items()):
        old = before.get(app_id)
        if old is None:
            report.added[app_id] = state.label
            continue
        order = compare_versions(state.version, old.version)
        if order < 0:
            report.errors.append(
                f"{app_id}: version goes backwards from {old.version} to {state.version}"
            )
            continue
        if order == 0 and state.revision < old.revision:
            report.errors.append(
                f"{app_id}: revision goes backwards from {old.label} to {state.label}"
            )
            continue
        what = what_changed(old, state)
        if not what and order == 0 and state.revision == old.revision:
            continue
        if what and order == 0 and state.revision == old.revision:
            report.errors.append(
                f"apps/{app_id}: the {' and '.join(what)} changed but version and revision "
                f"are still {state.label}; bump revision (or version) so nodes update"
            )
            continue
        report.changed[app_id] = (old.label, state.label, what or ["version"])
    for app_id, old in sorted(before.items()):
        if app_id not in current:
            report.removed[app_id] = old.label
    return report
