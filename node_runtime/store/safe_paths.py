"""Paths a container cannot redirect: directories walked component by component, no symlinks.

A container that can write to its app's data dir can replace a directory the
node will use later (a volume's host dir, the dir a secret file lives in) with
a symlink to anywhere the node user may write, e.g. ``~/.config/systemd/user``.
Anything that resolves such a path by name (``os.makedirs``, ``os.path.isdir``,
Podman mounting ``-v host:…``) follows the link.  So the node never does: it
opens the trusted root (the data root, the state root, an allowlisted hook
source dir; configured by the node's owner and resolved once), then each
component below it with ``O_NOFOLLOW | O_DIRECTORY`` relative to the previous
one (``openat``), and refuses with :class:`UnsafePath` when a component is a
symlink or not a directory.  Every apply and every start checks again: a
container may plant a link between two starts.

Components above the trusted root are the owner's business (``/var`` may well
be a link) and are followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator, Sequence
from typing import Literal

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(Exception):
    """A path the node was about to use leads through a symlink or a non-directory."""


def relative_parts(root: str, path: str) -> list[str]:
    """The components of ``path`` below ``root`` (both absolute); UnsafePath if outside it."""
    root_parts = [p for p in root.split("/") if p]
    parts = [p for p in path.split("/") if p]
    if parts[: len(root_parts)] != root_parts or any(p in (".", "..") for p in parts):
        raise UnsafePath(f"{path} is not inside {root}")
    return parts[len(root_parts) :]


def describe_entry(parent: int, name: str, shown: str) -> str:
    try:
        target = os.readlink(name, dir_fd=parent)
    except OSError:
        return f"{shown} is not a directory"
    return f"{shown} is a symlink (to {target})"


@contextlib.contextmanager
def open_directory(
    root: str, path: str, *, create: bool = False, mode: int = 0o755
) -> Iterator[int]:
    """A descriptor of directory ``path`` (``root`` or below it), opened without following
    any symlink below ``root``; ``create`` makes missing components (``mode``).

    Raises UnsafePath naming the first component that is a symlink or not a directory,
    FileNotFoundError when one is missing and ``create`` is False.
    """
    parts = relative_parts(root, path)
    if create:
        os.makedirs(root, mode=mode, exist_ok=True)
    current = os.open(os.path.realpath(root), _DIR_FLAGS)
    shown = root.rstrip("/")
    try:
        for name in parts:
            shown = f"{shown}/{name}"
            try:
                following = os.open(name, _DIR_FLAGS, dir_fd=current)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, mode, dir_fd=current)
                try:
                    following = os.open(name, _DIR_FLAGS, dir_fd=current)
                except OSError as error:
                    if error.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafePath(describe_entry(current, name, shown)) from None
                    raise
            except OSError as error:
                if error.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(describe_entry(current, name, shown)) from None
                raise
            os.close(current)
            current = following
        yield current
    finally:
        os.close(current)


def directory_state(root: str, path: str) -> Literal["missing", "directory"]:
    """Whether ``path`` is a real directory below ``root`` (no symlink on the way) or missing;
    UnsafePath when a component is a symlink or not a directory."""
    try:
        with open_directory(root, path):
            return "directory"
    except FileNotFoundError:
        return "missing"


def entry_kind(parent: int, name: str) -> Literal["missing", "directory", "file", "other"]:
    """What ``name`` in the directory ``parent`` is, without following a symlink."""
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return "missing"
    if stat.S_ISDIR(info.st_mode):
        return "directory"
    if stat.S_ISREG(info.st_mode):
        return "file"
    return "other"


def check_directories(roots: Sequence[str], paths: Sequence[str], what: str) -> None:
    """Every path that exists below one of ``roots`` is a real directory (no symlink on the
    way); raises UnsafePath naming ``what`` (e.g. "volume dir of member web") otherwise.
    A path below none of the roots is refused too."""
    for path in paths:
        root = next((r for r in roots if relative_parts_or_none(r, path) is not None), None)
        if root is None:
            raise UnsafePath(f"{what} {path} is outside the node's data root")
        try:
            directory_state(root, path)
        except UnsafePath as error:
            raise UnsafePath(f"{what} {path}: {error}") from None


def relative_parts_or_none(root: str, path: str) -> list[str] | None:
    try:
        return relative_parts(root, path)
    except UnsafePath:
        return None
