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

May import ``catalog``, ``node_runtime.store`` (atomic writes) and the planner's
observed-state types (``node_runtime.plan.observed``); never ``node_runtime.apply``,
the fetch stage, a command or ``pipeline``.
"""

from __future__ import annotations

import os
from pathlib import Path

from node_runtime.engines.container_engine import ContainerEngine, PodmanRunner
from node_runtime.engines.podman_engine import LocalPodmanRunner, PodmanEngine
from node_runtime.engines.quadlet_engine import (
    LocalSystemctl,
    QuadletEngine,
    default_quadlet_dir,
    systemd_user_session_available,
)
from node_runtime.engines.stage_engine import STAGE_ENGINE_NAME, StageEngine

ENGINE_NAMES = ("auto", "podman", "quadlet", STAGE_ENGINE_NAME)
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
    if quadlet_dir is None and os.environ.get(QUADLET_DIR_ENV):
        quadlet_dir = Path(os.environ[QUADLET_DIR_ENV])
    if name == STAGE_ENGINE_NAME:
        if quadlet_dir is None and state_root is not None:
            quadlet_dir = state_root / STAGED_UNITS_DIR
        return StageEngine(Path(os.path.abspath(quadlet_dir or default_quadlet_dir())))
    unit_dir = quadlet_dir or default_quadlet_dir()
    podman = runner if runner is not None else LocalPodmanRunner()
    if name == "quadlet" or (name == "auto" and systemd_user_session_available()):
        return QuadletEngine(podman, LocalSystemctl(), unit_dir)
    if name in ("auto", "podman"):
        return PodmanEngine(podman)
    raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINE_NAMES)}")
