"""``state/hook-runs/<container>``: which start of a member its hooks last ran for.

One small file per container, holding the container's identity at the time
(``<container id> <start time>``, see ``ContainerEngine.container_identity``).
One file per container, not one shared file, because the hooks of a Quadlet
member run from its unit (``ExecStartPost=``, while the agent may hold the state
lock waiting for that very start): each writer only ever replaces its own
container's file, atomically, so no lock is needed and no run is lost.

Only this module reads or writes these files.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.paths import NodePaths, StateError

_CONTAINER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _record_path(paths: NodePaths, container: str) -> str:
    if _CONTAINER.fullmatch(container) is None:
        raise StateError(f"{container!r} is not a container name")
    return str(paths.state_dir / "hook-runs" / container)


def read_hook_run(paths: NodePaths, container: str) -> str | None:
    """The identity the container's hooks last ran for, None when they never ran."""
    try:
        with open(_record_path(paths, container), encoding="utf-8") as stream:
            return stream.read().strip() or None
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StateError(f"{_record_path(paths, container)}: {error.strerror}") from None


def read_hook_runs(paths: NodePaths, containers: Collection[str]) -> Mapping[str, str]:
    """``container -> identity`` for those of ``containers`` whose hooks ever ran."""
    found: dict[str, str] = {}
    for container in containers:
        identity = read_hook_run(paths, container)
        if identity is not None:
            found[container] = identity
    return found


def record_hook_run(paths: NodePaths, container: str, identity: str) -> None:
    """Remember that the container's hooks ran for ``identity`` (atomic, only on a change)."""
    if read_hook_run(paths, container) == identity:
        return
    path = paths.state_dir / "hook-runs" / container
    _record_path(paths, container)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_file_atomically(path, f"{identity}\n".encode(), mode=0o644)
