"""Where each file of the node's state root lives, and the error for a state file.

Layout (DESIGN §7)::

    <state root>/config.json                 the node config (store.node_config)
    <state root>/trust/                      trusted TUF metadata (root.json, timestamp.json, …)
    <state root>/blobs/<blake3>              verified content (store.blob_store)
    <state root>/secrets/<app>/<name>        secret values and owner settings (0600)
    <state root>/state/installed.json        what the owner installed (store.installed)
    <state root>/state/applied.json          what was last applied, per app (store.applied)
    <state root>/state/catalog.json          the current catalog pointer (store.catalog_pointer)
    <state root>/state/last-pull.json        the last pull's outcome (store.pulls)
    <state root>/state/apply-failures.json   updates on hold after a failure (store.failures)
    <state root>/state/stopped.json          apps the owner stopped (store.stopped)
    <state root>/state/observed.json         the last app list the engine gave (store.observations)
    <state root>/state/secret-owners.json    which app each Podman secret was made for
                                             (store.secret_owners)
    <state root>/state/changed-settings.json owner settings changed since their Podman
                                             secret was made (store.changed_settings)
    <state root>/state/hook-runs/<container> which start of a member its hooks last ran
                                             for (store.hook_runs)
    <state root>/state/migrations.json       one-time migrations of the node's state that
                                             are done (store.migrations)
    <state root>/state/.lock                 held while a command changes state
    <state root>/state/app-registries.json   which third-party registry owns each app id
                                             (store.registry_state)
    <state root>/registries/<name>/          one third-party registry: registry.json, and
                                             its own config.json, trust/ and state/
                                             (store.registry_state; blobs are shared)

Each state file has one module that owns its model and is the only reader and
writer of it.  Pure apart from :func:`secret_file_exists` (one no-follow walk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from catalog.refusal import Refused
from node_runtime.store.safe_paths import UnsafePath, entry_kind, open_directory


class StateError(Refused):
    """A state file cannot be read or written; the message names the file."""


def utc_now_text() -> str:
    """Now, as ``2026-01-31T12:00:00Z`` (the form every state file uses)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class NodePaths:
    root: Path
    shared_blobs: Path | None = None
    """A third-party registry's state root (``registries/<name>/``) keeps its blobs in the
    node's one content-addressed store: the apply reads every app's files from there."""

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
        return self.shared_blobs if self.shared_blobs is not None else self.root / "blobs"

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
    def failures_file(self) -> Path:
        return self.state_dir / "apply-failures.json"

    @property
    def stopped_file(self) -> Path:
        return self.state_dir / "stopped.json"

    @property
    def observed_file(self) -> Path:
        return self.state_dir / "observed.json"

    @property
    def secret_owners_file(self) -> Path:
        return self.state_dir / "secret-owners.json"

    @property
    def migrations_file(self) -> Path:
        return self.state_dir / "migrations.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / ".lock"

    @property
    def app_registries_file(self) -> Path:
        return self.state_dir / "app-registries.json"

    @property
    def registries_dir(self) -> Path:
        return self.root / "registries"


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
