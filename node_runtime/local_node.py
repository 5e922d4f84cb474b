"""The node this process runs on, as the commands and the daemon use it: is it set up,
which engine, which data root, and the few operations that apply its current catalog.

``require_initialised`` refuses with the same line for every command.  ``LocalNode``
is a set-up node: its paths and state, its data root (the option, else the config's),
its engine (the option, else the one ``init --engine`` remembered, else auto), its hook
source dirs (the ``--hook-source-dir`` values, remembered in the config; else the config's);
``apply`` hands the current catalog and the installed apps to
:func:`node_runtime.apply.run.apply` (the caller holds the state lock), ``plan`` lists the
steps an apply would run, ``apply_and_purge``, ``set_stopped`` and ``restart`` act
under the lock.  ``apply_app_alone`` is what ``install`` and ``uninstall`` run after
changing the desired state.

Refusals raise :class:`catalog.refusal.Refused`; printing them is the command
registry's job (``node_runtime.commands``).  Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from catalog.refusal import Refused
from node_runtime.apply.onion_sync import onion_hostname
from node_runtime.apply.outcome import ApplyReport, AppResult
from node_runtime.apply.purge import PurgeRefused, purge_app
from node_runtime.apply.restart import restart_app
from node_runtime.apply.run import apply, plan_apply
from node_runtime.engines import choose_engine, is_stage_engine
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.onion_services import TOR_APP, onion_requests
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import LoadedCatalog
from node_runtime.store.node_config import (
    DEFAULT_STATE_ROOT,
    NodeConfigError,
    hook_sources_for,
    load_config,
)
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.stopped import read_stopped, save_stopped

NO_CATALOG = "no catalog yet; run `archy-node pull` first"


def node_engine(paths: NodePaths, engine_name: str | None) -> ContainerEngine:
    """The engine a command uses: the one asked for, else the one ``init --engine``
    remembered, else auto; its unit dir from the config (stage: under the state root)."""
    config = load_config(paths)
    name = engine_name or config.engine
    unit_dir = None if config.unit_dir is None else Path(config.unit_dir)
    return choose_engine(name, quadlet_dir=unit_dir, state_root=paths.root)


def engine_unit_dir(engine: ContainerEngine) -> Path | None:
    """Where this engine writes units (stage and Quadlet), else None."""
    unit_dir = getattr(engine, "unit_dir", None)
    return unit_dir if isinstance(unit_dir, Path) else None


class NodeNotInitialised(Refused):
    """The state root holds no node config: ``archy-node init`` was never run there."""


def require_initialised(paths: NodePaths) -> None:
    """Refuse, with the same one line for every command, on a node that was never set up."""
    if paths.config_file.exists() or paths.config_file.is_symlink():
        return
    hint = "" if paths.root == DEFAULT_STATE_ROOT else f" --state-root {paths.root}"
    raise NodeNotInitialised(
        f"this node is not initialised ({paths.root} has no {paths.config_file.name}); run "
        f"`archy-node init --root ROOT.json --origin URL{hint}` first"
    )


def _data_root(paths: NodePaths, option: Path | None) -> str:
    if option is not None:
        return str(option)
    try:
        return load_config(paths).data_root
    except NodeConfigError as error:
        raise Refused(str(error)) from None


class LocalNode:
    """What every command that runs apps needs: the state, the current catalog, the engine."""

    def __init__(
        self,
        state_root: Path,
        engine_name: str | None,
        data_root: Path | None,
        hook_sources: Sequence[Path] = (),
    ) -> None:
        self.paths = NodePaths(state_root)
        self.state = NodeState(self.paths)
        self.data_root = _data_root(self.paths, data_root)
        require_initialised(self.paths)
        self.engine: ContainerEngine = node_engine(self.paths, engine_name)
        try:
            self.hook_sources = hook_sources_for(self.paths, hook_sources)
        except NodeConfigError as error:
            raise Refused(str(error)) from None

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def lock(self) -> AbstractContextManager[object]:
        """The state lock: held around every change (``apply`` included)."""
        return self.state.lock()

    def installed(self) -> set[str]:
        return set(self.state.installed().apps)

    def current_catalog(self) -> LoadedCatalog:
        loaded = load_current_catalog(self.state, BlobStore(self.paths.blobs_dir))
        if loaded is None:
            raise StateError(NO_CATALOG)
        return loaded

    def onion_addresses(self) -> dict[str, str | None]:
        """Each installed app with an ``expose: tor`` port -> its ``.onion`` address
        (None until tor has made it); empty while tor is not installed."""
        installed = self.installed()
        loaded = load_current_catalog(self.state, BlobStore(self.paths.blobs_dir))
        if TOR_APP not in installed or loaded is None:
            return {}
        apps = loaded.catalog.apps
        requests = onion_requests(apps[a].manifest for a in installed if a in apps)
        runner = getattr(self.engine, "runner", None)
        return {r.app_id: onion_hostname(r.app_id, self.data_root, runner) for r in requests}

    def plan(self) -> list[str]:
        """The steps an apply would run now (changes nothing)."""
        loaded = self.current_catalog()
        if is_stage_engine(self.engine):
            from node_runtime.apply.stage import plan_stage  # the stage engine's module is loaded

            return plan_stage(loaded.catalog, self.installed(), engine=self.engine)
        return plan_apply(
            loaded.catalog, self.installed(), state_root=self.paths.root,
            data_root=self.data_root, engine=self.engine,
        ).steps  # fmt: skip

    def apply_and_purge(self, purge: Sequence[str]) -> tuple[ApplyReport, dict[str, list[str]]]:
        """Apply under the lock, then delete the data of each uninstalled app in ``purge``."""
        with self.lock():
            report = self.apply()
            purged: dict[str, list[str]] = {}
            for app_id in purge:
                purged[app_id] = purge_app(
                    app_id, state_root=self.paths.root, data_root=self.data_root,
                    engine=self.engine, installed=self.installed(),
                )  # fmt: skip
        return report, purged

    def set_stopped(self, app_id: str, stopped: bool) -> AppResult:
        """Record whether the owner wants APP stopped, then apply APP alone to match."""
        with self.lock():
            self._require_installed(app_id)
            others = read_stopped(self.paths) - {app_id}
            save_stopped(self.paths, others | {app_id} if stopped else others)
            return app_result(self.apply(only={app_id}), app_id)

    def restart(self, app_id: str) -> AppResult:
        """Restart APP's members in start order (refused while the owner has it stopped)."""
        with self.lock():
            self._require_installed(app_id)
            if app_id in read_stopped(self.paths):
                raise Refused(f"{app_id} is stopped; `archy-node start {app_id}` starts it")
            return restart_app(
                app_id, state_root=self.paths.root, engine=self.engine,
                hook_sources=self.hook_sources,
            )  # fmt: skip

    def _require_installed(self, app_id: str) -> None:
        if app_id not in self.installed():
            raise Refused(f"{app_id!r} is not installed; `archy-node install {app_id}` first")

    def apply(self, *, only: set[str] | None = None, retry_failed: bool = True) -> ApplyReport:
        """Apply the current catalog to the installed apps (``only``: just these)."""
        loaded = self.current_catalog()
        return apply(
            loaded.catalog,
            self.installed(),
            state_root=self.paths.root,
            data_root=self.data_root,
            engine=self.engine,
            catalog_blake3=loaded.pointer.blake3,
            only=only,
            retry_failed=retry_failed,
            hook_sources=self.hook_sources,
        )


def app_result(report: ApplyReport, app_id: str) -> AppResult:
    """APP's line of a report (an engine too slow to answer fails it)."""
    if report.engine_slow is not None:
        return AppResult(app_id, "failed", f"engine slow: {report.engine_slow}")
    return report.results.get(app_id) or AppResult(app_id, "unchanged")


def apply_app_alone(
    paths: NodePaths,
    app_id: str,
    engine_name: str | None,
    hook_sources: tuple[Path, ...] = (),
    purge: bool = False,
    also: tuple[str, ...] = (),
) -> tuple[ApplyReport, list[str] | None]:
    """Apply ``app_id`` (and ``also``) alone under the state lock, and purge it if asked:
    the call ``archy-node apply`` makes, limited to that app.  Returns the report and
    what was purged (None when no purge ran)."""
    state = NodeState(paths)
    store = BlobStore(paths.blobs_dir)
    try:
        data_root = load_config(paths).data_root
        engine = node_engine(paths, engine_name)
        with state.lock():
            loaded = load_current_catalog(state, store)
            if loaded is None:
                raise Refused(NO_CATALOG)
            installed = set(state.installed().apps)
            report = apply(
                loaded.catalog, installed, state_root=paths.root, data_root=data_root,
                engine=engine, catalog_blake3=loaded.pointer.blake3, only={app_id, *also},
                hook_sources=hook_sources_for(paths, hook_sources),
            )  # fmt: skip
            purged = None
            if purge and report.ok:
                purged = purge_app(
                    app_id, state_root=paths.root, data_root=data_root, engine=engine,
                    installed=installed,
                )  # fmt: skip
    except (NodeConfigError, StateError, PurgeRefused, EngineError) as error:
        raise Refused(f"the desired state is changed, but applying it failed: {error}") from None
    return report, purged


def archives_not_pulled(paths: NodePaths, app_id: str) -> list[str]:
    """The app's companion image archives the blob store does not hold yet (a pull
    fetches them; applying before would ask a registry for an image only the archive has)."""
    store = BlobStore(paths.blobs_dir)
    try:
        loaded = load_current_catalog(NodeState(paths), store)
    except StateError:
        return []
    app = None if loaded is None else loaded.catalog.apps.get(app_id)
    if app is None:
        return []
    return [
        companion.archive.name
        for companion in app.companions
        if companion.archive is not None and not store.contains(companion.archive.blake3)
    ]
