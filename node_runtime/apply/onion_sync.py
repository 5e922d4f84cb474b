"""Tor onion services on the node: write the tor app's ``services.torrc``, reload tor,
read each app's ``.onion`` address, and delete an app's keys on purge.

What goes into the file is :mod:`node_runtime.plan.onion_services` (pure); here are
the edges: the members' addresses and tor's reload (``podman inspect`` / ``podman kill
--signal HUP tor`` through the engine's runner), the file itself (written atomically,
only when its bytes change, never through a symlink), the ``hostname`` file tor makes
in each service directory (read without following a symlink; only a valid v3 name is
ever returned), and the keys' directory (removed only by purge).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from catalog.manifest import Manifest
from catalog.runtime_names import app_data_dir
from node_runtime.engines.container_engine import (
    ContainerEngine,
    EngineError,
    PodmanRunner,
)
from node_runtime.plan.onion_services import (
    ONION_DIR_PREFIX,
    SERVICES_FILE,
    TOR_APP,
    TOR_DATA_VOLUME,
    TOR_SERVICES_VOLUME,
    onion_requests,
    render_services_torrc,
    valid_onion_hostname,
)
from node_runtime.store.atomic_file import write_file_atomically

PODMAN_TIMEOUT = 30.0
HOSTNAME_LIMIT = 128
ADDRESS_FORMAT = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"


@dataclass(frozen=True)
class OnionSync:
    """What a sync did: ``changed`` (the file was rewritten), ``reloaded`` (tor got
    SIGHUP) and a ``warning`` when tor could not be told."""

    changed: bool = False
    reloaded: bool = False
    warning: str | None = None


def services_file(data_root: str) -> Path:
    return Path(app_data_dir(TOR_APP, data_root), TOR_SERVICES_VOLUME, SERVICES_FILE)


def keys_dir(app_id: str, data_root: str) -> Path:
    """The app's service directory on the host (tor's keys and ``hostname``)."""
    return Path(app_data_dir(TOR_APP, data_root), TOR_DATA_VOLUME, ONION_DIR_PREFIX + app_id)


def member_addresses(runner: PodmanRunner | None, members: Iterable[str]) -> dict[str, str]:
    """Each running member's first IP address on its networks (absent ones left out;
    none without an engine)."""
    addresses: dict[str, str] = {}
    if runner is None:
        return addresses
    for member in dict.fromkeys(members):
        result = runner(["inspect", "--type", "container", "--format", ADDRESS_FORMAT, member],
                        timeout=PODMAN_TIMEOUT)  # fmt: skip
        words = result.stdout.decode(errors="replace").split() if result.ok else []
        if words:
            addresses[member] = words[0]
    return addresses


def _no_symlink_below(root: str, path: Path) -> bool:
    """No component of ``path`` from ``root`` down (inclusive) is a symlink."""
    current = Path(root)
    for part in path.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            return False
    return True


def sync_onion_services(
    manifests: Iterable[Manifest], data_root: str, runner: PodmanRunner | None
) -> OnionSync:
    """Bring tor's ``services.torrc`` to the installed apps; reload tor when it changed.

    Does nothing until the tor app's services dir exists (tor not installed yet).
    ``runner`` None (the stage engine): nothing runs, so no member has an address and
    tor is not reloaded; the file names every app that asks, each left out for now.
    """
    path = services_file(data_root)
    if not path.parent.is_dir() or not _no_symlink_below(data_root, path.parent):
        return OnionSync()
    requests = onion_requests(manifests)
    members = [member for request in requests for member in request.members]
    text = render_services_torrc(requests, member_addresses(runner, members))
    if path.is_symlink():
        return OnionSync(warning=f"{path} is a symlink; the onion services were not written")
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            return OnionSync()
    try:
        write_file_atomically(path, text.encode(), mode=0o644)
    except PermissionError:
        if runner is None:
            return OnionSync(warning=f"{path} was not written: permission denied")
        # the services dir belongs to tor's user: move the file in from its user namespace
        staged = path.parent.parent / f".{SERVICES_FILE}.new"
        write_file_atomically(staged, text.encode(), mode=0o644)
        moved = runner(["unshare", "mv", "-f", "--", str(staged), str(path)],
                       timeout=PODMAN_TIMEOUT)  # fmt: skip
        if not moved.ok:
            return OnionSync(warning=f"{path} was not written: {moved.error_line()}")
    if runner is None:
        return OnionSync(changed=True)  # nothing runs: tor reads it when it starts
    result = runner(["kill", "--signal", "HUP", TOR_APP], timeout=PODMAN_TIMEOUT)
    if result.ok:
        return OnionSync(changed=True, reloaded=True)
    return OnionSync(changed=True, warning=f"tor was not reloaded: {result.error_line()}")


def onion_hostname(app_id: str, data_root: str, runner: PodmanRunner | None = None) -> str | None:
    """The app's ``.onion`` address once tor has made it, else None.

    Tor's files belong to the tor container's user; when the node user cannot read
    them directly, they are read inside its user namespace (``podman unshare``).
    """
    path = keys_dir(app_id, data_root) / "hostname"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except PermissionError:
        if runner is None:
            return None
        result = runner(["unshare", "cat", "--", str(path)], timeout=PODMAN_TIMEOUT)
        text = result.stdout[:HOSTNAME_LIMIT] if result.ok else b""
        return valid_onion_hostname(text.decode(errors="replace"))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as stream:
        return valid_onion_hostname(stream.read(HOSTNAME_LIMIT).decode(errors="replace"))


def purge_onion_keys(app_id: str, data_root: str, engine: ContainerEngine) -> str | None:
    """Delete the app's onion keys (purge only); returns what was removed."""
    path = keys_dir(app_id, data_root)
    if not path.parent.is_dir() or not _no_symlink_below(data_root, path.parent):
        return None
    # tor's data dir may be closed to the node user: then only its user namespace can look
    if os.access(path.parent, os.X_OK) and not os.path.lexists(path):
        return None
    try:
        engine.remove_tree_in_user_namespace(str(path))
    except EngineError:
        return None
    return f"{path} (onion keys)"
