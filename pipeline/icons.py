"""What an app's icon must be, decided once for ``archy validate`` and the catalog build."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_ICON_BYTES = 1 << 20


def icon_problem(
    filename: str, *, exists: bool, is_symlink: bool, size: int, head: bytes
) -> str | None:
    """Why the icon file cannot go into the catalog, or None.

    ``head`` is the file's bytes (or enough of them to hold 256 past leading blanks).
    """
    if not exists:
        return f"{filename}: missing (the manifest's icon); add the SVG file"
    if is_symlink:
        return f"{filename}: is a symlink; icons must be files, copy it in"
    if size > MAX_ICON_BYTES:
        return f"{filename}: {size} bytes; icons are at most 1 MiB, simplify it"
    start = head.lstrip()[:256]
    if not (start.startswith(b"<svg") or start.startswith(b"<?xml")):
        return f"{filename}: is not an SVG document; export the icon as SVG"
    return None


def icon_file_problem(path: Path, filename: str) -> str | None:
    """:func:`icon_problem` for a file on disk (never following a symlink)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return icon_problem(filename, exists=False, is_symlink=False, size=0, head=b"")
    if stat.S_ISLNK(info.st_mode):
        return icon_problem(filename, exists=True, is_symlink=True, size=0, head=b"")
    if not stat.S_ISREG(info.st_mode):
        return f"{filename}: is not a regular file; icons must be SVG files"
    head = b""
    if info.st_size <= MAX_ICON_BYTES:
        with open(path, "rb") as stream:
            head = stream.read(MAX_ICON_BYTES)
    return icon_problem(filename, exists=True, is_symlink=False, size=info.st_size, head=head)
