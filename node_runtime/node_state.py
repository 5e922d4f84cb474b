"""The node's state root: where each file lives, and the small state files in it.

Layout (DESIGN §7)::

    <state root>/config.json           the node config (node_runtime.node_config)
    <state root>/trust/                trusted TUF metadata (root.json, timestamp.json, …)
    <state root>/blobs/<blake3>        verified content (node_runtime.blob_store)
    <state root>/state/installed.json  what the owner installed (desired state)
    <state root>/state/applied.json    what was last applied, per app (for rollback)
    <state root>/state/catalog.json    the current catalog pointer (and the one before it)
    <state root>/state/last-pull.json  when the last pull ran and how it ended
    <state root>/state/.lock           held while a command changes state

Every write goes through :func:`write_file_atomically` (``node_runtime.atomic_file``:
temporary file, fsync, rename, fsync of the directory), so a crash leaves the
old file or the new one.  The models allow fields they do not know, and keep
them when written back: a node rolled back to an older binary must still read
the state a newer one wrote.

Public API:

- ``NodePaths(root)`` — every path above;
- ``write_file_atomically(path, data, mode=0o644)`` (from ``node_runtime.atomic_file``);
- models: ``InstalledApp``, ``InstalledApps``, ``AppliedApp``, ``AppliedApps``,
  ``CatalogPointer``, ``CurrentCatalog``, ``PullRecord``;
- ``NodeState(paths)``: ``installed()``/``save_installed()``,
  ``applied()``/``save_applied()``/``record_applied()``/``forget_applied()``,
  ``current_catalog()``/``switch_catalog()``, ``last_pull()``/``record_pull()``,
  ``lock()`` (an exclusive ``flock``, one changer at a time);
- ``StateError`` — a state file cannot be read or written; one line says which;
- the current catalog: ``load_current_catalog(state, store) -> LoadedCatalog | None``;
- desired state: ``unmet_requirements(catalog, app_id) -> list[str]``,
  ``requirement_providers(catalog, app_id)``, ``install_app(state, store, app_id)``,
  ``uninstall_app(state, app_id)`` -> ``DesiredChange``, ``InstallRefused``;
- reports: ``status_report(state, store)``, ``catalog_listing(state, store)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.capabilities import (
    dependents,
    missing_providers,
    provider_conflict,
    satisfies,
    shortfall,
)
from catalog.catalog_model import AppCatalog, CatalogApp, CatalogError, parse_catalog
from catalog.manifest import Manifest, Requirement
from node_runtime.atomic_file import write_file_atomically
from node_runtime.blob_store import BlobError, BlobStore
from node_runtime.safe_paths import UnsafePath, entry_kind, open_directory

STATE_SCHEMA_VERSION: Literal[1] = 1


class StateError(Exception):
    """A state file cannot be read or written; the message names the file."""


def utc_now_text() -> str:
    """Now, as ``2026-01-31T12:00:00Z`` (the form every state file uses)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- where things live ---


@dataclass(frozen=True)
class NodePaths:
    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / "config.json"

    @property
    def trust_dir(self) -> Path:
        return self.root / "trust"

    @property
    def trusted_root_file(self) -> Path:
        return self.trust_dir / "root.json"

    @property
    def blobs_dir(self) -> Path:
        return self.root / "blobs"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def installed_file(self) -> Path:
        return self.state_dir / "installed.json"

    @property
    def applied_file(self) -> Path:
        return self.state_dir / "applied.json"

    @property
    def catalog_pointer_file(self) -> Path:
        return self.state_dir / "catalog.json"

    @property
    def last_pull_file(self) -> Path:
        return self.state_dir / "last-pull.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / ".lock"


# --- the models ---


class StateModel(BaseModel):
    # "allow": fields a newer binary wrote survive a read and write by this one.
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class InstalledApp(StateModel):
    installed_at: str = Field(description="when the owner installed it (UTC)")


class InstalledApps(StateModel):
    """``state/installed.json``: the apps the owner wants on this node (desired state)."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, InstalledApp] = Field(default_factory=dict)

    def with_app(self, app_id: str) -> InstalledApps:
        if app_id in self.apps:
            return self
        return self.model_copy(
            update={"apps": {**self.apps, app_id: InstalledApp(installed_at=utc_now_text())}}
        )

    def without_app(self, app_id: str) -> InstalledApps:
        return self.model_copy(update={"apps": {k: v for k, v in self.apps.items() if k != app_id}})


class AppliedApp(StateModel):
    """What the apply engine last brought one app to, successfully (the rollback target).

    The apply engine also keeps ``data_root`` and the whole applied catalog
    entry (``catalog_app``) here as extra fields, so a rollback never depends
    on an old catalog still being in the store.
    """

    version: str
    revision: int
    manifest_blake3: str
    catalog_blake3: str = Field(description="the catalog blob the app was applied from")
    units: dict[str, str] = Field(
        default_factory=dict, description="the unit files as applied (the rollback target)"
    )
    applied_at: str

    @property
    def version_text(self) -> str:
        return f"{self.version}-r{self.revision}"


class AppliedApps(StateModel):
    """``state/applied.json``: per app, the last successful apply."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, AppliedApp] = Field(default_factory=dict)


class CatalogPointer(StateModel):
    """One verified catalog in the blob store, and what the node knew about it when pulled."""

    blake3: str
    length: int
    commit: str
    targets_version: int = Field(description="the TUF targets metadata version that signed it")
    pulled_at: str


class CurrentCatalog(StateModel):
    """``state/catalog.json``: the catalog the node applies, and the one before it."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    current: CatalogPointer
    previous: CatalogPointer | None = None


class PullRecord(StateModel):
    """``state/last-pull.json``: the last pull's time and outcome."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    at: str
    ok: bool
    error: str | None = None
    catalog_blake3: str | None = None
    changed: bool = False
    downloaded: list[str] = Field(default_factory=list)


Model = TypeVar("Model", bound=StateModel)


def _dump(model: StateModel) -> bytes:
    text = json.dumps(model.model_dump(mode="json", by_alias=True), indent=2, sort_keys=True)
    return (text + "\n").encode()


def _load(path: Path, model: type[Model]) -> Model | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(f"{path}: cannot read ({error.strerror})") from None
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise StateError(
            f"{path}: {where}: {first['msg']}; restore the file from a backup or remove it"
        ) from None


def _save(path: Path, model: StateModel) -> None:
    try:
        write_file_atomically(path, _dump(model))
    except OSError as error:
        raise StateError(f"{path}: cannot write ({error.strerror})") from None


# --- the state files ---


class NodeState:
    """Reads and writes the files under ``state/``; each write is atomic."""

    def __init__(self, paths: NodePaths) -> None:
        self.paths = paths

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the node's state lock (blocks while another command changes state)."""
        try:
            self.paths.state_dir.mkdir(parents=True, exist_ok=True)
            handle = os.open(self.paths.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            raise StateError(f"{self.paths.lock_file}: cannot open ({error.strerror})") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # closing releases the lock

    # desired state

    def installed(self) -> InstalledApps:
        return _load(self.paths.installed_file, InstalledApps) or InstalledApps()

    def save_installed(self, installed: InstalledApps) -> None:
        _save(self.paths.installed_file, installed)

    # applied state

    def applied(self) -> AppliedApps:
        return _load(self.paths.applied_file, AppliedApps) or AppliedApps()

    def save_applied(self, applied: AppliedApps) -> None:
        _save(self.paths.applied_file, applied)

    def record_applied(self, app_id: str, app: AppliedApp) -> None:
        current = self.applied()
        self.save_applied(current.model_copy(update={"apps": {**current.apps, app_id: app}}))

    def forget_applied(self, app_id: str) -> None:
        current = self.applied()
        if app_id in current.apps:
            remaining = {k: v for k, v in current.apps.items() if k != app_id}
            self.save_applied(current.model_copy(update={"apps": remaining}))

    # the current catalog

    def current_catalog(self) -> CurrentCatalog | None:
        return _load(self.paths.catalog_pointer_file, CurrentCatalog)

    def set_aside_unreadable_pointer(self) -> Path | None:
        """Move an unreadable ``state/catalog.json`` aside (a pull then fetches and verifies
        the catalog again, as on a new node); return where it went, or None if it reads.

        The pointer only names a verified blob: losing it loses nothing a pull cannot redo.
        """
        with self.lock():
            try:
                self.current_catalog()
                return None
            except StateError:
                pointer = self.paths.catalog_pointer_file
                aside = pointer.with_name(f"{pointer.name}.unreadable")
                try:
                    os.replace(pointer, aside)
                except OSError as error:
                    raise StateError(f"{pointer}: cannot move aside ({error.strerror})") from None
                return aside

    def switch_catalog(self, pointer: CatalogPointer) -> CurrentCatalog:
        """Make ``pointer`` current in one rename; the old current becomes ``previous``."""
        old = self.current_catalog()
        if old is not None and old.current.blake3 == pointer.blake3:
            switched = old.model_copy(update={"current": pointer})
        else:
            previous = None if old is None else old.current
            switched = CurrentCatalog(current=pointer, previous=previous)
        _save(self.paths.catalog_pointer_file, switched)
        return switched

    # pulls

    def last_pull(self) -> PullRecord | None:
        return _load(self.paths.last_pull_file, PullRecord)

    def record_pull(self, record: PullRecord) -> None:
        _save(self.paths.last_pull_file, record)


# --- where the node keeps each app's secret values (generated ones and owner settings) ---


def secrets_dir(state_root: Path, app_id: str) -> Path:
    return state_root / "secrets" / app_id


def secret_file(state_root: Path, app_id: str, secret_name: str) -> Path:
    return secrets_dir(state_root, app_id) / secret_name


def secret_file_exists(path: Path, state_root: Path) -> bool:
    """A real file (not a symlink) at ``path``, reached without following a symlink."""
    try:
        with open_directory(str(state_root), str(path.parent)) as folder:
            return entry_kind(folder, path.name) == "file"
    except (OSError, UnsafePath):
        return False


# --- the current catalog, read back from the store ---


@dataclass(frozen=True)
class LoadedCatalog:
    pointer: CatalogPointer
    catalog: AppCatalog


def load_current_catalog(state: NodeState, store: BlobStore) -> LoadedCatalog | None:
    """The current catalog, re-verified from the store; None before the first pull.

    Raises :class:`StateError` when its blob is missing or was changed on disk
    (a changed blob is removed, so the next pull fetches it again).
    """
    pointer = state.current_catalog()
    if pointer is None:
        return None
    blake3 = pointer.current.blake3
    try:
        data = store.read_verified(blake3)
    except BlobError as error:
        raise StateError(f"the current catalog: {error}; run `archy-node pull`") from None
    try:
        catalog = parse_catalog(data)
    except CatalogError as error:
        raise StateError(f"the current catalog (blob {blake3}): {error}") from None
    return LoadedCatalog(pointer.current, catalog)


# --- desired state: install and uninstall ---


def _provider_shortfall(requirement: Requirement, provider: CatalogApp) -> str | None:
    """Why ``provider`` does not meet ``requirement``, or None if it does."""
    return shortfall(requirement, provider.manifest.id, provider.manifest)


def requirement_providers(catalog: AppCatalog, app_id: str) -> dict[str, list[str]]:
    """For each required app or capability of ``app_id``: the catalog apps that meet it."""
    app = catalog.apps[app_id]
    found: dict[str, list[str]] = {}
    for requirement in app.manifest.requires:
        found[requirement.app] = [
            other_id
            for other_id, other in sorted(catalog.apps.items())
            if other_id != app_id
            and satisfies(other_id, other.manifest, requirement)
            and _provider_shortfall(requirement, other) is None
        ]
    return found


def unmet_requirements(catalog: AppCatalog, app_id: str) -> list[str]:
    """Why ``app_id`` cannot be installed from ``catalog``: one reason per unmet requirement."""
    app = catalog.apps[app_id]
    reasons: list[str] = []
    for requirement in app.manifest.requires:
        if requirement.optional:
            continue
        candidates = [
            other
            for other_id, other in sorted(catalog.apps.items())
            if other_id != app_id and satisfies(other_id, other.manifest, requirement)
        ]
        wanted = requirement.app + (f" {requirement.version}" if requirement.version else "")
        if not candidates:
            reasons.append(
                f"{app_id} requires {wanted!r}, and no app in the catalog is or provides "
                f"{requirement.app!r}"
            )
            continue
        shortfalls = [_provider_shortfall(requirement, other) for other in candidates]
        if all(shortfall is not None for shortfall in shortfalls):
            reasons.append(
                f"{app_id} requires {wanted!r}, but "
                + " and ".join(str(shortfall) for shortfall in shortfalls)
            )
    return reasons


class InstallRefused(Exception):
    """The app cannot be installed or uninstalled; the message says why and what to do."""


@dataclass(frozen=True)
class DesiredChange:
    app_id: str
    changed: bool
    """False when installed.json already said so."""
    notes: list[str]
    """Things the owner should know (a required app that is not installed yet, …)."""
    dependents: tuple[str, ...] = ()
    """Installed apps left without their provider (``uninstall --force``): to be stopped."""


def install_app(state: NodeState, store: BlobStore, app_id: str) -> DesiredChange:
    """Add ``app_id`` to installed.json if the current catalog has it and can satisfy it."""
    with state.lock():
        loaded = load_current_catalog(state, store)
        if loaded is None:
            raise InstallRefused("no catalog yet; run `archy-node pull` first")
        catalog = loaded.catalog
        if app_id not in catalog.apps:
            raise InstallRefused(
                f"{app_id!r} is not in the catalog (commit {catalog.source.commit[:12]}); "
                "`archy-node list` shows the apps it has"
            )
        reasons = unmet_requirements(catalog, app_id)
        if reasons:
            raise InstallRefused("; ".join(reasons))
        installed = state.installed()
        notes: list[str] = []
        if app_id in installed.apps:
            return DesiredChange(app_id, False, notes)
        manifests = {each: app.manifest for each, app in catalog.apps.items()}
        present = {each: manifests[each] for each in installed.apps if each in manifests}
        refusal = provider_conflict(app_id, manifests[app_id], present) or missing_providers(
            app_id, manifests[app_id], present, manifests
        )
        if refusal is not None:
            raise InstallRefused(refusal)
        # owner_settings imports this module (the secrets' paths): import it here.
        from node_runtime.owner_settings import (
            SettingRefused,
            missing_required,
            missing_settings_message,
            write_defaults,
        )

        missing = missing_required(manifests[app_id], state.paths.root)
        if missing:
            raise InstallRefused(missing_settings_message(app_id, missing))
        try:
            write_defaults(manifests[app_id], state.paths.root)
        except (SettingRefused, OSError) as error:
            raise InstallRefused(
                f"{app_id}'s default settings cannot be written: {error}"
            ) from None
        state.save_installed(installed.with_app(app_id))
        return DesiredChange(app_id, True, notes)


def installed_manifests(state: NodeState, store: BlobStore | None) -> dict[str, Manifest]:
    """The current catalog's manifest of every installed app it still has."""
    catalog_apps: Mapping[str, CatalogApp] = {}
    if store is not None:
        with contextlib.suppress(StateError):
            loaded = load_current_catalog(state, store)
            catalog_apps = {} if loaded is None else loaded.catalog.apps
    return {
        app_id: catalog_apps[app_id].manifest
        for app_id in state.installed().apps
        if app_id in catalog_apps
    }


def uninstall_app(
    state: NodeState, app_id: str, *, store: BlobStore | None = None, force: bool = False
) -> DesiredChange:
    """Remove ``app_id`` from installed.json (its data is never touched here).

    A provider that installed apps depend on is refused (P028) unless ``force``:
    then the dependents stay installed but the next apply stops them (they have
    no provider), keeping their data, until another provider is installed.
    """
    with state.lock():
        installed = state.installed()
        if app_id not in installed.apps:
            raise InstallRefused(f"{app_id!r} is not installed; `archy-node status` shows what is")
        needing = dependents(app_id, installed_manifests(state, store))
        if needing and not force:
            raise InstallRefused(
                f"{', '.join(needing)} depend{'s' if len(needing) == 1 else ''} on {app_id}; "
                f"uninstall {'it' if len(needing) == 1 else 'them'} first, or run "
                f"`archy-node uninstall {app_id} --force` to stop "
                f"{'it' if len(needing) == 1 else 'them'} until another provider is "
                "installed (their data is kept) (P028)"
            )
        state.save_installed(installed.without_app(app_id))
        notes = [
            f"{each} is stopped (its data is kept) until another provider is installed; "
            f"then run `archy-node start {each}`"
            for each in needing
        ]
        return DesiredChange(app_id, True, notes, tuple(needing))


# --- what status and list show ---


def _version_text(app: CatalogApp | None) -> str | None:
    return None if app is None else f"{app.version}-r{app.revision}"


def _app_state(catalog_version: str | None, applied: AppliedApp | None, in_catalog: bool) -> str:
    if not in_catalog:
        return "not in catalog"
    if applied is None:
        return "not applied"
    if applied.version_text != catalog_version:
        return "update available"
    return "up to date"


def status_report(state: NodeState, store: BlobStore) -> dict[str, Any]:
    """Installed apps (catalog vs applied version), the current catalog and the last pull."""
    catalog_error = None
    try:
        loaded = load_current_catalog(state, store)
    except StateError as error:
        loaded, catalog_error = None, str(error)
    catalog_apps = {} if loaded is None else loaded.catalog.apps
    applied = state.applied().apps
    apps = []
    for app_id, installed in sorted(state.installed().apps.items()):
        catalog_version = _version_text(catalog_apps.get(app_id))
        applied_app = applied.get(app_id)
        apps.append(
            {
                "id": app_id,
                "installed_at": installed.installed_at,
                "catalog_version": catalog_version,
                "applied_version": None if applied_app is None else applied_app.version_text,
                "state": _app_state(
                    catalog_version, applied_app, loaded is None or app_id in catalog_apps
                ),
            }
        )
    last_pull = state.last_pull()
    return {
        "state_root": str(state.paths.root),
        "catalog": None
        if loaded is None
        else {
            "blake3": loaded.pointer.blake3,
            "commit": loaded.pointer.commit,
            "targets_version": loaded.pointer.targets_version,
            "pulled_at": loaded.pointer.pulled_at,
            "apps": len(catalog_apps),
        },
        "catalog_error": catalog_error,
        "last_pull": None
        if last_pull is None
        else {"at": last_pull.at, "ok": last_pull.ok, "error": last_pull.error},
        "apps": apps,
    }


def catalog_listing(state: NodeState, store: BlobStore) -> list[dict[str, Any]]:
    """Every app of the current catalog, installed or not; raise StateError without one."""
    loaded = load_current_catalog(state, store)
    if loaded is None:
        raise StateError("no catalog yet; run `archy-node pull` first")
    installed = state.installed().apps
    return [
        {
            "id": app_id,
            "name": app.manifest.name,
            "version": _version_text(app),
            "category": app.manifest.category,
            "summary": app.manifest.summary,
            "installed": app_id in installed,
        }
        for app_id, app in sorted(loaded.catalog.apps.items())
    ]
