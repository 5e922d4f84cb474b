"""Durable, atomic file writes for the publisher (the one atomic-write module of ``archy``).

A file is written to a temporary file in the same directory and fsynced,
then moved into place and the directory fsynced, so a reader — or a crash at
any point — sees the old file or the new one, never half of one, and a file
reported written survives a power cut.  Directories the write creates are
fsynced into their parents too.

Public API:

- ``write_file_atomically(path, data, mode=None, prefix=".tmp-", durable=True)`` —
  create or replace; ``durable=False`` skips every fsync (still atomic for
  readers, not across a power cut: for caches whose entries check themselves);
- ``create_file_once(path, data, mode=None, prefix=".tmp-") -> bool`` —
  create, never replace: False (and nothing written) when ``path`` exists;
- ``fsync_directory(directory)``;
- ``make_durable(files)`` — fsync files written with ``durable=False``: one by one
  when they are few, with one filesystem sync (``syncfs``) when they are many.

``mode`` None keeps the temporary file's mode (0600, from ``mkstemp``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def _fsync(path: Path, flags: int) -> None:
    handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC | flags)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (a rename, a new link) durable."""
    _fsync(directory, os.O_DIRECTORY)


# above this many files, one filesystem sync is cheaper than a journal commit per file
FSYNC_EACH_UP_TO = 16


def fsync_file(path: Path) -> None:
    _fsync(path, 0)


def sync_filesystem(path: Path) -> None:
    """Flush every written file on ``path``'s filesystem: ``syncfs(2)``, else ``sync(2)``."""
    import ctypes  # only here: the one caller that needs libc

    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux (or no syncfs): flush every filesystem
        os.sync()
        return
    handle = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if syncfs(handle) != 0:
            error = ctypes.get_errno()
            raise OSError(error, os.strerror(error), str(path))
    finally:
        os.close(handle)


def make_durable(files: list[Path]) -> None:
    """Make files written with ``durable=False`` survive a power cut (their data, not renames).

    Each file is fsynced when they are few; when they are many (a full build stages one
    icon per app), one ``syncfs`` of their filesystem costs one journal commit instead of
    one per file.
    """
    if len(files) <= FSYNC_EACH_UP_TO:
        for path in files:
            fsync_file(path)
    else:
        sync_filesystem(files[0].parent)


def _make_parents(directory: Path, durable: bool = True) -> None:
    """``mkdir -p``, fsyncing each new directory's parent so the new entry is durable."""
    missing = []
    while not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for new in reversed(missing):
        try:
            new.mkdir()
        except FileExistsError:
            if not new.is_dir():
                raise
        if durable:
            fsync_directory(new.parent)


def _write_temporary(
    path: Path, data: bytes, mode: int | None, prefix: str, durable: bool = True
) -> str:
    """A fsynced temporary file beside ``path`` holding ``data``; its name."""
    _make_parents(path.parent, durable)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        if mode is not None:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return temporary


def write_file_atomically(
    path: Path, data: bytes, mode: int | None = None, prefix: str = ".tmp-", durable: bool = True
) -> None:
    """Create or replace ``path``: readers see the old file or the new one, never half of one."""
    temporary = _write_temporary(path, data, mode, prefix, durable)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    if durable:
        fsync_directory(path.parent)


def create_file_once(
    path: Path, data: bytes, mode: int | None = None, prefix: str = ".tmp-"
) -> bool:
    """Create ``path`` with ``data`` unless it exists; False (nothing written) when it did.

    The finished temporary file is hard-linked into place, which fails rather
    than replace a file that exists (or appeared meanwhile).
    """
    temporary = _write_temporary(path, data, mode, prefix)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    fsync_directory(path.parent)
    return True
