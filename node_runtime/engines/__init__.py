"""Container engines the apply step runs a plan through.

* :mod:`.container_engine` — the :class:`ContainerEngine` protocol, the
  podman runner protocol and the engine errors;
* :mod:`.podman_engine` — ``podman run`` per member (hosts without a systemd
  user session; what the tests and CI run);
* :mod:`.podman_args` — the ``podman`` arguments that engine runs, derived from the
  same member spec the Quadlet renderer uses;
* :mod:`.quadlet_engine` — writes the catalog's Quadlet units and drives
  them with ``systemctl --user``;
* :mod:`.stage_engine` — writes the catalog's units into a directory and starts
  nothing (a node user without a usable container engine; ``--engine stage``);
* :func:`choose_engine` — Quadlet when a systemd user session exists, else podman.

Importing this package imports no engine: :func:`choose_engine` imports the one it
makes (``stage`` builds on ``quadlet``, which builds on ``podman``), so ``status`` or
``list`` on a podman node never loads the Quadlet code, and ``--help`` loads none.
``is_podman_engine``/``is_quadlet_engine``/``is_stage_engine`` are ``isinstance`` checks
that import nothing (an engine whose module is not loaded cannot exist).

May import ``catalog``, ``node_runtime.store`` (atomic writes) and the planner's
observed-state types (``node_runtime.plan.observed``); never ``node_runtime.apply``,
the fetch stage, a command or ``pipeline``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard

from node_runtime.engines.engine_names import ENGINE_NAMES, STAGE_ENGINE_NAME

if TYPE_CHECKING:
    from node_runtime.engines.container_engine import ContainerEngine, PodmanRunner
    from node_runtime.engines.podman_engine import PodmanEngine
    from node_runtime.engines.quadlet_engine import QuadletEngine
    from node_runtime.engines.stage_engine import StageEngine

__all__ = ["ENGINE_NAMES", "STAGE_ENGINE_NAME", "choose_engine"]

QUADLET_DIR_ENV = "ARCHY_NODE_QUADLET_DIR"
STAGED_UNITS_DIR = "staged-units"


def choose_engine(
    name: str = "auto",
    *,
    runner: PodmanRunner | None = None,
    quadlet_dir: Path | None = None,
    state_root: Path | None = None,
) -> ContainerEngine:
    """The engine called ``name``; ``auto`` picks Quadlet only where systemd runs the user.

    The unit dir (Quadlet and stage) is ``quadlet_dir``, else ``$ARCHY_NODE_QUADLET_DIR``,
    else, for stage, ``STATE_ROOT/staged-units`` (staging never writes where a running
    systemd would pick the units up unless told to), else where the user's Quadlet
    generator reads (``~/.config/containers/systemd``).
    """
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINE_NAMES)}")
    if quadlet_dir is None and os.environ.get(QUADLET_DIR_ENV):
        quadlet_dir = Path(os.environ[QUADLET_DIR_ENV])
    from node_runtime.engines.podman_engine import LocalPodmanRunner, PodmanEngine

    if name == STAGE_ENGINE_NAME:
        from node_runtime.engines.quadlet_engine import default_quadlet_dir
        from node_runtime.engines.stage_engine import StageEngine

        if quadlet_dir is None and state_root is not None:
            quadlet_dir = state_root / STAGED_UNITS_DIR
        return StageEngine(Path(os.path.abspath(quadlet_dir or default_quadlet_dir())))
    podman = runner if runner is not None else LocalPodmanRunner()
    if name == "podman" or (name == "auto" and not _systemd_user_session_available()):
        return PodmanEngine(podman)
    from node_runtime.engines.quadlet_engine import (
        LocalSystemctl,
        QuadletEngine,
        default_quadlet_dir,
    )

    return QuadletEngine(podman, LocalSystemctl(), quadlet_dir or default_quadlet_dir())


def _systemd_user_session_available() -> bool:
    from node_runtime.engines.quadlet_engine import systemd_user_session_available

    return systemd_user_session_available()


def _loaded_class(module: str, name: str) -> type | None:
    loaded = sys.modules.get(f"node_runtime.engines.{module}")
    found = getattr(loaded, name, None)
    return found if isinstance(found, type) else None


def is_podman_engine(engine: object) -> TypeGuard[PodmanEngine]:
    kind = _loaded_class("podman_engine", "PodmanEngine")
    return kind is not None and isinstance(engine, kind)


def is_quadlet_engine(engine: object) -> TypeGuard[QuadletEngine]:
    kind = _loaded_class("quadlet_engine", "QuadletEngine")
    return kind is not None and isinstance(engine, kind)


def is_stage_engine(engine: object) -> TypeGuard[StageEngine]:
    kind = _loaded_class("stage_engine", "StageEngine")
    return kind is not None and isinstance(engine, kind)
