"""What the commands that touch a set-up node share: is it initialised, which engine,
which data root, and the one call that applies the current catalog.

``require_initialised`` refuses with the same line for every command (and prints the
``--json`` document first when asked).  ``NodeContext`` is the node a command works
on: its paths and state, its data root (the option, else the config's), its engine
(the option, else the one ``init --engine`` remembered, else auto) and ``apply``,
which hands the current catalog and the installed apps to
:func:`node_runtime.apply.apply`.  The caller holds the state lock around ``apply``.

Refusals raise :class:`catalog.refusal.Refused`; printing them is the registry's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from catalog.refusal import Refused
from node_runtime.apply import ApplyReport, apply
from node_runtime.blob_store import BlobStore
from node_runtime.commands.options import print_json, state_root_hint
from node_runtime.engines import choose_engine
from node_runtime.engines.container_engine import ContainerEngine
from node_runtime.node_config import NodeConfigError, load_config
from node_runtime.node_state import NodePaths, NodeState, StateError, load_current_catalog

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


def require_initialised(paths: NodePaths, as_json: bool = False) -> None:
    """Refuse, with the same one line for every command, on a node that was never set up."""
    if paths.config_file.exists() or paths.config_file.is_symlink():
        return
    message = (
        f"this node is not initialised ({paths.root} has no {paths.config_file.name}); run "
        f"`archy-node init --root ROOT.json --origin URL{state_root_hint(paths.root)}` first"
    )
    if as_json:
        print_json({"ok": False, "error": message})
    raise Refused(message)


def _data_root(paths: NodePaths, option: Path | None) -> str:
    if option is not None:
        return str(option)
    try:
        return load_config(paths).data_root
    except NodeConfigError as error:
        raise Refused(str(error)) from None


class NodeContext:
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
        self.hook_sources = tuple(str(path) for path in hook_sources)

    @property
    def engine_name(self) -> str:
        return self.engine.name

    def lock(self) -> AbstractContextManager[object]:
        """The state lock: held around every change (``apply`` included)."""
        return self.state.lock()

    def installed(self) -> set[str]:
        return set(self.state.installed().apps)

    def apply(self, *, only: set[str] | None = None, retry_failed: bool = True) -> ApplyReport:
        """Apply the current catalog to the installed apps (``only``: just these)."""
        loaded = load_current_catalog(self.state, BlobStore(self.paths.blobs_dir))
        if loaded is None:
            raise StateError(NO_CATALOG)
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
