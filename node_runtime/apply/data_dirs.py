"""Data dirs: created once under a temporary name, owned by the member's container uid,
renamed into place; never touched again.  Volume dirs are re-checked before every start.

Every path is walked from the data root without following a symlink
(``store.safe_paths``), so a crash never leaves a dir with the wrong owner and a
container cannot redirect a mount by planting a link.
"""

from __future__ import annotations

import os
import posixpath

from catalog.member_spec import MemberSpec
from catalog.runtime_names import DEFAULT_DATA_ROOT
from node_runtime.apply.outcome import SYMLINK_HINT, ActionFailed
from node_runtime.engines.container_engine import ContainerEngine
from node_runtime.store.safe_paths import (
    UnsafePath,
    check_directories,
    describe_entry,
    directory_state,
    entry_kind,
    open_directory,
)


def data_dir_exists(path: str, data_root: str) -> bool:
    """``path`` is a real directory below ``data_root`` with no symlink on the way."""
    try:
        return directory_state(data_root, path) == "directory"
    except (OSError, UnsafePath):
        return False


def create_data_dir(
    engine: ContainerEngine, path: str, container_uid: int | None, data_root: str
) -> None:
    """Create ``path`` owned by ``container_uid``'s host uid; never touch an existing dir.

    Walks from ``data_root`` without following a symlink (ActionFailed when a component
    is one, or is not a directory).
    """
    parent, name = posixpath.split(path)
    try:
        with open_directory(data_root, parent, create=True) as folder:
            kind = entry_kind(folder, name)
            if kind == "directory":
                return
            if kind != "missing":
                raise UnsafePath(describe_entry(folder, name, path))
            staging = f".archy-creating-{name}"
            leftover = entry_kind(folder, staging)
            if leftover == "directory":
                try:
                    os.rmdir(staging, dir_fd=folder)  # an empty leftover of a crash; never data
                except OSError:
                    engine.remove_tree_in_user_namespace(posixpath.join(parent, staging))
            elif leftover != "missing":
                os.unlink(staging, dir_fd=folder)
            os.mkdir(staging, 0o755, dir_fd=folder)
            if container_uid:
                engine.chown_in_user_namespace(posixpath.join(parent, staging), container_uid)
            os.rename(staging, name, src_dir_fd=folder, dst_dir_fd=folder)
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None


def check_member_mounts(spec: MemberSpec, data_root: str) -> None:
    """Refuse (ActionFailed) to start a member whose volume dirs lead through a symlink.

    Runs before every start: a running container may have replaced a dir it can
    reach with a link since the last one, and Podman would follow it.
    """
    try:
        check_directories(
            list(dict.fromkeys([data_root, DEFAULT_DATA_ROOT])),
            [mount.host_path for mount in spec.mounts],
            f"volume dir of {spec.name}",
        )
    except UnsafePath as error:
        raise ActionFailed(f"refusing to start {spec.name}: {error}; {SYMLINK_HINT}") from None
