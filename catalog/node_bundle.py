"""The node bundle: the one-dir ``archy-node`` as one archive, and how it is unpacked.

The node agent ships as a PyInstaller one-dir bundle (the executable ``archy-node``
beside ``_internal/``), published as one TUF target per platform,
``node/<blake3>.archy-node-<platform>.tar.xz``: an xz-compressed tar whose members are
the bundle's paths relative to its root.  The build writes it deterministically
(:func:`write_bundle`: members sorted by name, mtime 0, owner 0/0 with no names, modes
0755/0644 only), so the same bundle gives the same bytes and the same BLAKE3.

A node verifies the archive's length and BLAKE3 against the signed targets before it
opens it, and still unpacks it as hostile input (:func:`unpack_bundle`): every member
is checked before a byte of it is written, and the archive is refused with one line
naming the member when it holds an absolute path, a ``..`` or empty component, a name
given twice, a path under a file or a symlink, a hard link, a symlink that leaves the
bundle or goes through another symlink, a device, FIFO or sparse file, more than
``MAX_MEMBERS`` members, or members of more than ``MAX_UNPACKED_BYTES`` in all (and
the decompressed stream is cut 16 MiB past that, so neither a small archive nor a
forged header can expand without bound), or no
executable ``archy-node``.  :func:`check_bundle` runs the same checks without writing
(the publisher refuses a bundle a node would refuse).

The publisher (``pipeline``) and the node (``node_runtime``) both need these rules,
so they live here, once.

Public API: ``BUNDLE_SUFFIX``, ``ENTRY_POINT``, ``MAX_MEMBERS``, ``MAX_UNPACKED_BYTES``,
``bundle_file_name(platform)``, ``bundle_platform(file_name)``, ``BundleError``,
``write_bundle(directory, output)``, ``check_bundle(archive)``,
``unpack_bundle(archive, destination)``.
"""

from __future__ import annotations

import io
import lzma
import os
import posixpath
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
_COPY_CHUNK = 1 << 20


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


# --- writing (the build) ---


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


# --- reading (the node; the publisher's check) ---


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


def _walk(archive: Path, sink: Sink | None, limit: int, max_members: int) -> _Seen:
    seen = _Seen(kinds={}, links={})
    modes: dict[str, int] = {}
    try:
        with (
            lzma.open(archive, "rb") as decompressed,
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


def check_bundle(
    archive: Path, *, limit: int = MAX_UNPACKED_BYTES, max_members: int = MAX_MEMBERS
) -> None:
    """Every check :func:`unpack_bundle` makes, writing nothing; BundleError if refused."""
    _walk(archive, None, limit, max_members)


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
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


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
        seen = _walk(
            archive,
            lambda kind, name, member, tar: _write_member(destination, kind, name, member, tar),
            limit,
            max_members,
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
