"""``NodeState``: the state files of one state root behind one object, and the state lock.

Each file's model and its reading and writing live in the module that owns the
file (``installed``, ``applied``, ``catalog_pointer``, ``pulls``); this class only
delegates to them, so a command can pass one object around, and holds the
node's state lock (an exclusive ``flock`` on ``state/.lock``: one changer at a
time).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from node_runtime.store import applied as applied_file
from node_runtime.store import catalog_pointer, installed, pulls, registry_state
from node_runtime.store.applied import AppliedApp, AppliedApps
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import CatalogPointer, CurrentCatalog, LoadedCatalog
from node_runtime.store.installed import InstalledApps
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.pulls import PullRecord


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
        return installed.read_installed(self.paths)

    def save_installed(self, apps: InstalledApps) -> None:
        installed.save_installed(self.paths, apps)

    # applied state

    def applied(self) -> AppliedApps:
        return applied_file.read_applied_file(self.paths)

    def save_applied(self, apps: AppliedApps) -> None:
        applied_file.save_applied_file(self.paths, apps)

    def record_applied(self, app_id: str, app: AppliedApp) -> None:
        applied_file.record_applied(self.paths, app_id, app)

    def forget_applied(self, app_id: str) -> None:
        applied_file.forget_applied(self.paths, app_id)

    # the current catalog

    def current_catalog(self) -> CurrentCatalog | None:
        return catalog_pointer.read_current_catalog(self.paths)

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
                return catalog_pointer.move_pointer_aside(self.paths)

    def switch_catalog(self, pointer: CatalogPointer) -> CurrentCatalog:
        """Make ``pointer`` current in one rename; the old current becomes ``previous``."""
        return catalog_pointer.switch_catalog(self.paths, pointer)

    # pulls

    def last_pull(self) -> PullRecord | None:
        return pulls.read_last_pull(self.paths)

    def record_pull(self, record: PullRecord) -> None:
        pulls.save_last_pull(self.paths, record)


def load_current_catalog(state: NodeState, store: BlobStore) -> LoadedCatalog | None:
    """The current catalog, re-verified from the store; None before the first pull.

    The apps third-party registries own come from their own verified catalogs
    (:func:`node_runtime.store.registry_state.merged_catalog`).

    Raises :class:`StateError` when its blob is missing or was changed on disk
    (a changed blob is removed, so the next pull fetches it again).
    """
    official = catalog_pointer.load_current_catalog_at(state.paths, store)
    if official is None:
        return None
    return registry_state.merged_catalog(state.paths, store, official)
