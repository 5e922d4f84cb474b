"""Packing the node's one-dir bundle as its catalog target, and the publisher's check of it.

``write_bundle`` writes the bundle folder as a deterministic tar.xz (members sorted by
name, mtime 0, owner 0/0 with no names, modes 0755/0644/0777 only), so the same bundle
gives the same bytes and the same BLAKE3; ``check_bundle`` runs every check a node makes
before it unpacks (``catalog/node_bundle.py``), writing nothing.
"""

from __future__ import annotations

import lzma
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from catalog.node_bundle import (
    ENTRY_POINT,
    MAX_MEMBERS,
    MAX_UNPACKED_BYTES,
    XZ_PRESET,
    BundleError,
    walk_bundle,
)


def _bundle_entries(directory: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of everything under ``directory``, sorted by archive name."""
    names: list[tuple[str, Path]] = []
    for root, dirs, files in os.walk(directory):
        for name in [*dirs, *files]:
            path = Path(root) / name
            names.append((path.relative_to(directory).as_posix(), path))
    yield from sorted(names)


def write_bundle(directory: Path, output: BinaryIO) -> None:
    """Write the one-dir bundle at ``directory`` to ``output`` as a deterministic tar.xz."""
    if not (directory / ENTRY_POINT).is_file():
        raise BundleError(f"{directory}: no {ENTRY_POINT} executable; is it a one-dir bundle?")
    with (
        lzma.open(output, "wb", format=lzma.FORMAT_XZ, preset=XZ_PRESET) as compressed,
        tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name, path in _bundle_entries(directory):
            info = tarfile.TarInfo(name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(path)
                info.mode = 0o777
                archive.addfile(info)
            elif stat.S_ISDIR(mode):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                archive.addfile(info)
            elif stat.S_ISREG(mode):
                info.size = path.stat().st_size
                info.mode = 0o755 if mode & 0o111 else 0o644
                with path.open("rb") as stream:
                    archive.addfile(info, stream)
            else:
                raise BundleError(f"{path}: not a file, directory or symlink")


def check_bundle(
    archive: Path, *, limit: int = MAX_UNPACKED_BYTES, max_members: int = MAX_MEMBERS
) -> None:
    """Every check a node makes before it unpacks ``archive``, writing nothing; BundleError if
    refused."""
    with archive.open("rb") as stream:
        walk_bundle(stream, limit=limit, max_members=max_members)
