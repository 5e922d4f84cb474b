"""Durable, atomic file writes on the node.

A file is written to a temporary file in the same directory, fsynced, then
moved into place and the directory fsynced, so a reader (or a crash) sees
the old file or the new one, never half of one.

Public API:

- ``write_file_atomically(path, data, mode=0o644)`` — create or replace;
- ``create_file_once(path, data, mode=0o600) -> bool`` — create, never
  replace: False (and nothing written) when ``path`` already exists;
- ``fsync_directory(directory)``.
"""

from __future__ import annotations

import contextlib
import os
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
