"""One import run: each source app read, mapped, checked in memory, then written or refused.

A manifest is written only after the exact bytes to be written parsed with
the manifest loader and passed the per-app policy and the cross-app rules that
concern it (with its providers and the apps already in the target); the
written folder is validated again with ``archy validate``'s own function.
After ``--all`` the whole target ``apps/`` is validated once more.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from catalog.loader import ManifestSource, parse_manifest_source
from catalog.problems import ManifestError, Problem
from pipeline.appset import display_path, load_app_folder, load_app_folders
from pipeline.crossapp import check_catalog
from pipeline.crossapp_requirements import providers
from pipeline.importer.casaos import read_casaos_app
from pipeline.importer.clashes import Claims, reassign
from pipeline.importer.mapper_base import MappedApp
from pipeline.importer.mapping import map_app
from pipeline.importer.reasons import CODES, ImportRefused, Reason, Severity
from pipeline.importer.source_app import SourceApp
from pipeline.importer.umbrel import read_umbrel_app
from pipeline.importer.writer import render_import_notes, render_manifest, write_app
from pipeline.policy import check_app
from pipeline.policy_rules import RULES
from pipeline.validation import ValidationReport, validate_paths

Store = Literal["umbrel", "casaos"]
Status = Literal["imported", "warnings", "refused"]
READERS: dict[str, Callable[[Path, str], SourceApp]] = {
    "umbrel": read_umbrel_app,
    "casaos": read_casaos_app,
}


@dataclass
class AppResult:
    app_id: str
    source: str
    status: Status
    reasons: list[Reason]
    notes: list[Reason] = field(default_factory=list)
    written: Path | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.app_id,
            "source": self.source,
            "status": self.status,
            "reasons": [reason.as_json() for reason in self.reasons],
        }


@dataclass
class ImportRun:
    results: list[AppResult] = field(default_factory=list)
    final_validation: ValidationReport | None = None

    @property
    def ok(self) -> bool:
        final_ok = self.final_validation is None or self.final_validation.ok
        return final_ok and all(result.status != "refused" for result in self.results)

    def reason_counts(self) -> dict[str, dict[str, Any]]:
        """Per code: how many apps it concerns, how often it was said, and what it means."""
        apps: Counter[str] = Counter()
        times: Counter[str] = Counter()
        refusing: Counter[str] = Counter()
        for result in self.results:
            codes = [reason.code for reason in result.reasons]
            times.update(codes)
            apps.update(set(codes))
            refusing.update({r.code for r in result.reasons if r.severity == "refusal"})
        return {
            code: {
                "apps": apps[code],
                "times": times[code],
                "refused_apps": refusing[code],
                "meaning": CODES.get(code) or (RULES[code].summary if code in RULES else ""),
            }
            for code in sorted(times)
        }

    def as_json(self) -> dict[str, Any]:
        statuses = Counter(result.status for result in self.results)
        document: dict[str, Any] = {
            "apps": [result.as_json() for result in self.results],
            "counts": {status: statuses[status] for status in ("imported", "warnings", "refused")},
            "reasons_by_code": self.reason_counts(),
        }
        if self.final_validation is not None:
            document["apps_dir_valid"] = self.final_validation.ok
            document["apps_dir_problems"] = [
                str(problem) for problem in self.final_validation.errors
            ]
        return document


def find_sources(store: Store, parent: Path) -> list[Path]:
    """The app folders of a store checkout (``Apps/`` for CasaOS when present)."""
    marker = "umbrel-app.yml" if store == "umbrel" else "docker-compose.yml"
    root = parent / "Apps" if store == "casaos" and (parent / "Apps").is_dir() else parent
    return sorted(
        child
        for child in root.iterdir()
        if child.is_dir()
        and not child.name.startswith(".")
        and ((child / marker).exists() or (child / "docker-compose.yaml").exists())
    )


class Importer:
    """Imports source folders into ``apps_dir`` one by one, keeping the claims up to date."""

    def __init__(self, store: Store, apps_dir: Path, force: bool, batch: bool = False) -> None:
        self.store = store
        self.batch = batch
        self.apps_dir = apps_dir
        self.force = force
        existing, _ = load_app_folders([apps_dir]) if apps_dir.is_dir() else ([], [])
        self.existing: dict[str, ManifestSource] = {app.app_id: app.source for app in existing}
        self.claims = Claims()
        for source in self.existing.values():
            self.claims.add(source.manifest)
        self.imported_ids: set[str] = set()

    def import_folder(self, folder: Path) -> AppResult:
        shown = display_path(folder)
        try:
            source = READERS[self.store](folder, shown)
            return self._import(source, shown)
        except ImportRefused as refused:
            return AppResult(folder.name, shown, "refused", [refused.reason])

    def _import(self, source: SourceApp, shown: str) -> AppResult:
        assert source.meta.id is not None
        from pipeline.importer.mapper_base import app_id_of

        app_id, _ = app_id_of(source.meta.id, source.meta.file, source.meta.line("id"))
        if app_id in self.imported_ids:
            reason = Reason(
                "I010",
                f"another app of this run already has the id {app_id!r}",
                "refusal",
                source.meta.file,
                source.meta.line("id"),
            )
            return AppResult(app_id, shown, "refused", [reason])
        exists = (self.apps_dir / app_id).exists()
        if exists and not self.force:
            reason = Reason(
                "I010",
                f"{display_path(self.apps_dir / app_id)} exists; use --force to replace it",
                "refusal",
                source.meta.file,
                source.meta.line("id"),
            )
            return AppResult(app_id, shown, "refused", [reason])
        capability_of = sorted(
            other.manifest.id
            for other in self.existing.values()
            if app_id in other.manifest.capabilities
        )
        if capability_of:
            reason = Reason(
                "P016",
                f"app id {app_id!r} is a capability that {', '.join(capability_of)} provide; "
                "an imported app needs an id of its own (the store's own node apps are "
                "provided here already)",
                "refusal",
                source.meta.file,
                source.meta.line("id"),
            )
            return AppResult(app_id, shown, "refused", [reason])
        claims = self.claims.without(app_id) if exists else self.claims
        mapped = map_app(source, claims.name_taken)
        filename = display_path(self.apps_dir / app_id / "manifest.yml")
        mapped.reasons.extend(reassign(mapped.document, claims, mapped.origin_of))
        data = render_manifest(mapped.document, _header(self.store, shown))
        candidate, problems = self._check(data, filename, app_id, mapped)
        reasons = [r for r in mapped.reasons if r.severity != "note"] + problems
        notes = [r for r in mapped.reasons if r.severity == "note"]
        if candidate is None or any(reason.severity == "refusal" for reason in reasons):
            return AppResult(app_id, shown, "refused", _refusals_first(reasons), notes)
        status: Status = "warnings" if reasons else "imported"
        files = {
            "manifest.yml": data,
            "IMPORT.md": render_import_notes(
                app_id,
                self.store,
                shown,
                "imported" if status == "imported" else "imported with warnings",
                [*reasons, *notes],
                _facts(source),
            ),
        }
        written = write_app(self.apps_dir, app_id, files, source.icon, replace=exists)
        errors = self._check_written(written, data)
        refusal: Severity = "refusal"
        if errors:  # a bug: the in-memory check and the file check disagree
            shutil.rmtree(written, ignore_errors=True)
            bug = [Reason("I014", str(problem), refusal) for problem in errors]
            return AppResult(app_id, shown, "refused", bug, notes)
        self.claims = self.claims.without(app_id) if exists else self.claims
        self.claims.add(candidate.manifest)
        self.existing[app_id] = candidate
        self.imported_ids.add(app_id)
        return AppResult(app_id, shown, status, reasons, notes, written)

    def _check(
        self, data: bytes, filename: str, app_id: str, mapped: MappedApp
    ) -> tuple[ManifestSource | None, list[Reason]]:
        """Parse the bytes to be written and run the policy on them; problems as reasons."""
        try:
            candidate = parse_manifest_source(data, filename, app_id)
        except ManifestError as error:
            return None, [self._reason(problem, mapped, "I014") for problem in error.problems]
        return candidate, [
            self._reason(problem, mapped, problem.rule or "I014")
            for problem in self._problems(candidate)
        ]

    def _check_written(self, written: Path, data: bytes) -> list[Problem]:
        """Read the written manifest back: the checked bytes, and (one app) the validate checks.

        In an ``--all`` run the whole apps/ dir is validated at the end, so each
        app is only compared byte for byte here.
        """
        manifest_path = written / "manifest.yml"
        if manifest_path.read_bytes() != data:
            return [Problem(display_path(manifest_path), None, "", "differs from what was checked")]
        if self.batch:
            return []
        try:
            source = load_app_folder(written).source
        except ManifestError as error:
            return error.problems
        return [problem for problem in self._problems(source) if problem.severity == "error"]

    def _problems(self, candidate: ManifestSource) -> list[Problem]:
        """The per-app policy, and the cross-app rules with the apps this one concerns."""
        app_id = candidate.manifest.id
        problems = list(check_app(candidate))
        neighbours = [
            other
            for other in self.existing.values()
            if other.manifest.id != app_id
            and (
                any(providers(r, [other]) for r in candidate.manifest.requires)
                or other.manifest.id in candidate.manifest.capabilities
                or app_id in other.manifest.capabilities
            )
        ]
        problems.extend(
            p for p in check_catalog([candidate, *neighbours]) if p.file == candidate.filename
        )
        return problems

    @staticmethod
    def _reason(problem: Problem, mapped: MappedApp, code: str) -> Reason:
        origin = mapped.origin_of(problem.field)
        severity: Severity = "refusal" if problem.severity == "error" else "warning"
        field = f"{problem.field}: " if problem.field else ""
        file, line = origin if origin is not None else (problem.file, problem.line)
        return Reason(code, f"{field}{problem.message}", severity, file, line)


def _refusals_first(reasons: list[Reason]) -> list[Reason]:
    return sorted(reasons, key=lambda reason: reason.severity != "refusal")


def _header(store: str, source: str) -> str:
    return (
        f"Imported from {source} ({store}) by `archy import {store}`.\n"
        "Review IMPORT.md beside this file before publishing."
    )


def _facts(source: SourceApp) -> list[str]:
    meta = source.meta
    facts = []
    for label, value in (
        ("developer", meta.developer),
        ("support", meta.support),
        ("default username", meta.default_username),
    ):
        if value:
            facts.append(f"{label}: {value}")
    if meta.deterministic_password:
        facts.append(
            "the store shows users a per-app password (APP_PASSWORD); here it is the "
            "generated secret app-password when the app uses it"
        )
    return facts


def run_import(
    store: Store,
    folders: list[Path],
    apps_dir: Path,
    force: bool,
    validate_all: bool,
    progress: Callable[[str], None] | None = None,
) -> ImportRun:
    """Import every folder in order; validate the whole target after an --all run."""
    importer = Importer(store, apps_dir, force, batch=validate_all)
    run = ImportRun()
    for folder in folders:
        if progress is not None:
            progress(folder.name)
        run.results.append(importer.import_folder(folder))
    if validate_all:
        run.final_validation = validate_paths([apps_dir])
    return run
