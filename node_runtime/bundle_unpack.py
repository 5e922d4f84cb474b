"""Unpacking a verified node bundle into its versioned folder, as hostile input.

The archive's length and BLAKE3 were checked against the signed targets before this
runs; still, every member is checked (``catalog/node_bundle.py``) before a byte of it is
written: files are created with ``O_EXCL | O_NOFOLLOW`` and fsynced, every folder is
made 0755 whatever the umask, symlinks last, and a refused archive leaves nothing.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from catalog.node_bundle import (
    MAX_MEMBERS,
    MAX_UNPACKED_BYTES,
    BundleError,
    walk_bundle,
)
from node_runtime.store.atomic_file import fsync_directory

_COPY_CHUNK = 1 << 20


def _make_folders(path: Path) -> None:
    """Make ``path`` and its missing parents 0755 whatever the umask (``mkdir -p`` gives the
    parents it makes the umask's mode: 0777 under umask 0, writable by every local user)."""
    missing: list[Path] = []
    while not os.path.lexists(path):
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o755)
        os.chmod(folder, 0o755)  # noqa: S103 - the bundle is read and run by the service user


def _write_member(
    root: Path, kind: str, name: str, member: tarfile.TarInfo, tar: tarfile.TarFile
) -> None:
    path = root / name
    if kind == "dir":
        _make_folders(path)
        return
    if kind == "symlink":
        return  # made last, once every file is written (see unpack_bundle)
    _make_folders(path.parent)
    source = tar.extractfile(member)
    if source is None:
        raise BundleError(f"{name}: its data cannot be read")
    mode = 0o755 if member.mode & 0o111 else 0o644
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(path, flags, mode)
    with os.fdopen(descriptor, "wb") as writer:
        while chunk := source.read(_COPY_CHUNK):
            writer.write(chunk)
        writer.flush()
        os.fchmod(writer.fileno(), mode)
        os.fsync(writer.fileno())


def _fsync_directories(root: Path) -> None:
    for directory, _dirs, _files in os.walk(root, topdown=False):
        fsync_directory(Path(directory))


def unpack_bundle(
    archive: Path,
    destination: Path,
    *,
    limit: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> None:
    """Unpack the bundle ``archive`` into the new directory ``destination`` (fsynced).

    ``destination`` must not exist.  On BundleError or OSError it is removed again
    (as far as it was made), so a refused archive leaves nothing behind.
    """
    destination.mkdir(mode=0o755)
    try:
        os.chmod(destination, 0o755)  # noqa: S103 - as every folder of the bundle
        with archive.open("rb") as stream:
            seen = walk_bundle(
                stream,
                lambda kind, name, member, tar: _write_member(destination, kind, name, member, tar),
                limit=limit,
                max_members=max_members,
            )
        for name, target in sorted(seen.links.items()):
            os.symlink(target, destination / name)
        _fsync_directories(destination)
    except BaseException:
        _remove_tree(destination)
        raise


def _remove_tree(path: Path) -> None:
    """Remove a directory this module made (symlinks in it are removed, never followed)."""
    shutil.rmtree(path, ignore_errors=True)
