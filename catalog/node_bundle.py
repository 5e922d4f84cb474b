"""The node bundle: what its archive may hold, checked member by member as hostile input.

The node agent ships as a PyInstaller one-dir bundle (the executable ``archy-node``
beside ``_internal/``), published as one TUF target per platform,
``node/<blake3>.archy-node-<platform>.tar.xz``: an xz-compressed tar whose members are
the bundle's paths relative to its root (packed by ``pipeline/node_bundle_pack.py``).

A node verifies the archive's length and BLAKE3 against the signed targets before it
opens it, and still unpacks it as hostile input (``node_runtime/bundle_unpack.py``):
:func:`walk_bundle` checks every member before it is handed on, and refuses the archive
with one line naming the member when it holds an absolute path, a ``..`` or empty
component, a name given twice, a path under a file or a symlink, a hard link, a symlink
that leaves the bundle or goes through another symlink, a device, FIFO or sparse file,
more than ``MAX_MEMBERS`` members, or members of more than ``MAX_UNPACKED_BYTES`` in all
(and the decompressed stream is cut 16 MiB past that, so neither a small archive nor a
forged header can expand without bound), or no executable ``archy-node``.  The publisher
runs the same walk before it publishes a bundle.  Pure: it reads the open stream it is
given and writes nothing.

Public API: ``BUNDLE_SUFFIX``, ``ENTRY_POINT``, ``MAX_MEMBERS``, ``MAX_UNPACKED_BYTES``,
``XZ_PRESET``, ``bundle_file_name(platform)``, ``bundle_platform(file_name)``,
``BundleError``, ``walk_bundle(stream, sink)``.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

BUNDLE_PREFIX = "archy-node-"
BUNDLE_SUFFIX = ".tar.xz"
ENTRY_POINT = "archy-node"
PLATFORMS = ("linux-amd64", "linux-arm64")
MAX_MEMBERS = 20_000
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
XZ_PRESET = 6  # 8 MiB dictionary: about 9 MiB of memory to unpack
_MAX_NAME_BYTES = 1024
_HEADER_ALLOWANCE = 16 * 1024 * 1024  # tar and pax headers on top of the members' bytes


class BundleError(ValueError):
    """The archive is not a node bundle this node will unpack; nothing was kept."""


def bundle_file_name(platform: str) -> str:
    """``archy-node-linux-amd64.tar.xz``: the file the build writes and the target's name."""
    return f"{BUNDLE_PREFIX}{platform}{BUNDLE_SUFFIX}"


def bundle_platform(file_name: str) -> str | None:
    """The platform a bundle's file name names, or None when it is not a bundle name."""
    if not (file_name.startswith(BUNDLE_PREFIX) and file_name.endswith(BUNDLE_SUFFIX)):
        return None
    platform = file_name[len(BUNDLE_PREFIX) : -len(BUNDLE_SUFFIX)]
    return platform if platform in PLATFORMS else None


class _CappedReader(io.RawIOBase):
    """The decompressed stream, refused once it passes ``limit`` bytes."""

    def __init__(self, stream: BinaryIO | lzma.LZMAFile, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.stream.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.limit:
            raise BundleError(f"it unpacks to more than {self.limit} bytes")
        buffer[: len(data)] = data
        return len(data)


@dataclass
class _Seen:
    kinds: dict[str, str]  # archive name -> "file", "dir" (given or implied) or "symlink"
    links: dict[str, str]  # symlink name -> its target as written
    members: int = 0
    total: int = 0


def _check_name(name: str) -> None:
    if not name:
        raise BundleError("a member has an empty name")
    if "\0" in name or len(name.encode("utf-8", "surrogateescape")) > _MAX_NAME_BYTES:
        raise BundleError(f"{name[:80]!r}: not a usable path")
    if name.startswith("/"):
        raise BundleError(f"{name}: an absolute path")
    parts = name.split("/")
    if ".." in parts:
        raise BundleError(f"{name}: a path with '..'")
    if "" in parts or "." in parts:
        raise BundleError(f"{name}: a path with an empty or '.' component")


def _claim(seen: _Seen, name: str, kind: str) -> None:
    """Record ``name`` as ``kind``; its parents become directories."""
    parts = name.split("/")
    for depth in range(1, len(parts)):
        parent = "/".join(parts[:depth])
        held = seen.kinds.setdefault(parent, "dir")
        if held != "dir":
            raise BundleError(f"{name}: a path under the {held} {parent}")
    given = seen.kinds.get(name)
    if given is not None and not (given == "dir" and kind == "dir"):
        raise BundleError(f"{name}: given twice in the archive")
    seen.kinds[name] = kind


def _check_member(member: tarfile.TarInfo, seen: _Seen, limit: int, max_members: int) -> str:
    """The kind of a member the node may unpack, or BundleError naming it."""
    name = member.name
    _check_name(name)
    seen.members += 1
    if seen.members > max_members:
        raise BundleError(f"more than {max_members} members")
    if member.islnk():
        raise BundleError(f"{name}: a hard link (to {member.linkname})")
    if member.issym():
        _claim(seen, name, "symlink")
        seen.links[name] = member.linkname
        return "symlink"
    if member.isdir():
        _claim(seen, name, "dir")
        return "dir"
    if member.issparse() or not member.isreg():
        raise BundleError(f"{name}: a device, FIFO or other special file")
    seen.total += member.size
    if seen.total > limit:
        raise BundleError(f"{name}: the bundle unpacks to more than {limit} bytes")
    _claim(seen, name, "file")
    return "file"


def _check_links(seen: _Seen) -> None:
    """Every symlink resolves inside the bundle without going through another symlink."""
    for name, target in seen.links.items():
        if not target or target.startswith("/"):
            raise BundleError(f"{name}: a symlink to an absolute path ({target})")
        here = name.split("/")[:-1]
        parts = target.split("/")
        while parts and parts[0] == "..":
            if not here:
                raise BundleError(f"{name}: a symlink that leaves the bundle ({target})")
            here.pop()
            parts.pop(0)
        if not parts or any(part in ("", ".", "..") for part in parts):
            raise BundleError(f"{name}: a symlink with an unusable target ({target})")
        resolved = [*here, *parts]
        for depth in range(1, len(resolved) + 1):
            step = "/".join(resolved[:depth])
            if seen.kinds.get(step) == "symlink":
                raise BundleError(f"{name}: a symlink through another symlink ({target})")
        if posixpath.normpath("/".join(resolved)) != "/".join(resolved):
            raise BundleError(f"{name}: a symlink with an unusable target ({target})")


def _check_entry_point(seen: _Seen, modes: dict[str, int]) -> None:
    if seen.kinds.get(ENTRY_POINT) != "file" or not modes.get(ENTRY_POINT, 0) & 0o100:
        raise BundleError(f"no executable {ENTRY_POINT} at the top of the bundle")


Sink = Callable[[str, str, tarfile.TarInfo, tarfile.TarFile], None]


def walk_bundle(
    stream: BinaryIO,
    sink: Sink | None = None,
    *,
    limit: int = MAX_UNPACKED_BYTES,
    max_members: int = MAX_MEMBERS,
) -> _Seen:
    """Check every member of the bundle read from ``stream`` (an open archive), handing each
    accepted one to ``sink`` before the next is read; BundleError names what is refused.
    With no ``sink`` it only checks: what the publisher runs before it publishes a bundle."""
    seen = _Seen(kinds={}, links={})
    modes: dict[str, int] = {}
    try:
        with (
            lzma.open(stream, "rb") as decompressed,
            io.BufferedReader(_CappedReader(decompressed, limit + _HEADER_ALLOWANCE)) as raw,
            tarfile.open(fileobj=raw, mode="r|") as tar,
        ):
            for member in tar:
                kind = _check_member(member, seen, limit, max_members)
                modes[member.name] = member.mode
                if sink is not None:
                    sink(kind, member.name, member, tar)
    except (lzma.LZMAError, tarfile.TarError, EOFError) as error:
        raise BundleError(f"not a readable tar.xz ({error})") from None
    _check_links(seen)
    _check_entry_point(seen, modes)
    return seen
