"""Durable, atomic file writes on the node.

A file is written to a temporary file in the same directory, fsynced, then
moved into place and the directory fsynced, so a reader (or a crash) sees
the old file or the new one, never half of one.

Public API:

- ``write_file_atomically(path, data, mode=0o644)`` — create or replace;
- ``create_file_once(path, data, mode=0o600) -> bool`` — create, never
  replace: False (and nothing written) when ``path`` already exists;
- ``create_file_once_in(directory_fd, name, data, mode=0o600) -> bool`` — the same inside
  an open directory, following no symlink;
- ``fsync_directory(directory)``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _write_temporary(handle: int, data: bytes, mode: int) -> None:
    os.fchmod(handle, mode)
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def write_file_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: a reader (or a crash) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        _write_temporary(handle, data, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    fsync_directory(path.parent)


def create_file_once(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Create ``path`` with ``data`` unless it exists; False when it already did.

    The finished temporary file is hard-linked into place, which fails rather
    than replace a file that exists (or appeared meanwhile).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        _write_temporary(handle, data, mode)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    fsync_directory(path.parent)
    return True


def create_file_once_in(directory: int, name: str, data: bytes, mode: int = 0o600) -> bool:
    """``create_file_once`` inside an open directory (``directory`` is its descriptor), so no
    symlink on the way can redirect it; the new name itself is never followed either."""
    temporary = f".tmp-{os.getpid()}-{secrets.token_hex(8)}"
    handle = os.open(
        temporary,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
        mode,
        dir_fd=directory,
    )
    try:
        _write_temporary(handle, data, mode)
        try:
            os.link(temporary, name, src_dir_fd=directory, dst_dir_fd=directory,
                    follow_symlinks=False)  # fmt: skip
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=directory)
    os.fsync(directory)
    return True
