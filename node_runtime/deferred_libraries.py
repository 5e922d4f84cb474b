"""Libraries the one-file binary carries but unpacks only when they are first imported.

Nodes run the one-dir bundle (docs/self-update.md), whose libraries all lie on disk in
``_internal/``: there the finder finds each one present and steps aside (a check of one
path per deferred package, no archive read), and ``archy-node version`` finds nothing
missing.  What follows matters for the one-file build (``--onefile``, kept for benches).

A one-file PyInstaller binary unpacks every bundled library into a fresh temporary
directory (``sys._MEIPASS``) at every start, before any Python runs: about 60 MB, of
which three libraries are 36 MB that the common commands never load — iroh (swarm
seeds over iroh), nostr-sdk (``discover`` and relay registries) and cryptography's
Rust extension (ECDSA and RSA keys only; Ed25519 needs PyNaCl) — and pydantic-core
(5 MB) is not needed by ``archy-node tuf``, the conformance client that is started
once per step, nor OpenSSL (6 MB) by ``archy-node version``, the self-update probe.
The spec stores these in the archive under a type the
bootloader does not unpack ("a"), and :func:`install` adds an import finder that
unpacks one of them into ``sys._MEIPASS`` the first time its package is imported,
then lets the ordinary import go on.

``DEFERRED`` is the one list: the spec reads it to build the archive, the finder to
unpack, ``archy-node version`` to check the entries are there, and the frozen tests
to check the archive.

Public API: ``DEFERRED``, ``DEFERRED_TYPECODE``, ``ArchiveEntry``,
``read_archive_table(executable)``, ``missing_entries(executable, unpack_directory)``,
``DeferredLibraryFinder``, ``install(executable, unpack_directory)``.
"""

from __future__ import annotations

import importlib.abc
import os
import struct
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from types import ModuleType

_DYNLOAD = f"python{sys.version_info.major}.{sys.version_info.minor}/lib-dynload"
# import name -> the archive entries (paths under sys._MEIPASS) it needs on disk
DEFERRED: dict[str, tuple[str, ...]] = {
    "iroh": ("iroh/libiroh_ffi.so",),
    "nostr_sdk": ("nostr_sdk/libnostr_sdk_ffi.so",),
    "cryptography.hazmat.bindings._rust": ("cryptography/hazmat/bindings/_rust.abi3.so",),
    # the models: every command that reads a catalog, but not `archy-node tuf`
    "pydantic_core._pydantic_core": (f"pydantic_core/_pydantic_core{EXTENSION_SUFFIXES[0]}",),
    # OpenSSL, for hashlib's sha256/sha512 and for TLS: not for `archy-node version`
    "_hashlib": (f"{_DYNLOAD}/_hashlib{EXTENSION_SUFFIXES[0]}", "libcrypto.so.3"),
    "_ssl": (f"{_DYNLOAD}/_ssl{EXTENSION_SUFFIXES[0]}", "libssl.so.3", "libcrypto.so.3"),
}
DEFERRED_TYPECODE = "a"  # PyInstaller's "PKG" entry type: listed, never unpacked at start

# PyInstaller's CArchive: a cookie at the end names the archive's length and its table.
_COOKIE_MAGIC = b"MEI\014\013\012\013\016"
_COOKIE_FORMAT = "!8sIIII64s"
_ENTRY_FORMAT = "!IIIIBc"
_TAIL_SEARCHED = 1 << 20


class DeferredLibraryError(ImportError):
    """A deferred library is missing from the binary or cannot be unpacked."""


@dataclass(frozen=True)
class ArchiveEntry:
    offset: int  # from the start of the file
    stored_length: int
    length: int
    compressed: bool
    typecode: str


def read_archive_table(executable: Path) -> dict[str, ArchiveEntry]:
    """The table of contents of the PyInstaller archive inside ``executable``."""
    with executable.open("rb") as stream:
        size = stream.seek(0, os.SEEK_END)
        tail_start = max(0, size - _TAIL_SEARCHED)
        stream.seek(tail_start)
        tail = stream.read()
        found = tail.rfind(_COOKIE_MAGIC)
        if found < 0:
            raise DeferredLibraryError(f"{executable} holds no PyInstaller archive")
        cookie_size = struct.calcsize(_COOKIE_FORMAT)
        cookie = tail[found : found + cookie_size]
        _magic, archive_length, table_offset, table_length, _python, _library = struct.unpack(
            _COOKIE_FORMAT, cookie
        )
        archive_start = tail_start + found + cookie_size - archive_length
        stream.seek(archive_start + table_offset)
        table = stream.read(table_length)
    entries: dict[str, ArchiveEntry] = {}
    head_size = struct.calcsize(_ENTRY_FORMAT)
    position = 0
    while position + head_size <= len(table):
        entry_length, offset, stored, length, flag, typecode = struct.unpack_from(
            _ENTRY_FORMAT, table, position
        )
        if entry_length <= head_size:
            raise DeferredLibraryError(f"{executable}: the archive's table is damaged")
        name = table[position + head_size : position + entry_length].rstrip(b"\0")
        entries[name.decode("utf-8")] = ArchiveEntry(
            archive_start + offset, stored, length, bool(flag), typecode.decode("ascii")
        )
        position += entry_length
    return entries


def missing_entries(executable: Path, unpack_directory: Path) -> list[str]:
    """The deferred libraries that are neither unpacked in ``unpack_directory`` (a one-dir
    bundle has them on disk) nor carried as deferred entries in ``executable``'s archive."""
    every = dict.fromkeys(name for names in DEFERRED.values() for name in names)  # in order
    absent = [name for name in every if not (unpack_directory / name).is_file()]
    if not absent:
        return []
    table = read_archive_table(executable)
    return [
        name for name in absent if name not in table or table[name].typecode != DEFERRED_TYPECODE
    ]


def _unpack(executable: Path, entry_name: str, entry: ArchiveEntry, destination: Path) -> None:
    with executable.open("rb") as stream:
        stream.seek(entry.offset)
        data = stream.read(entry.stored_length)
    if entry.compressed:
        try:
            data = zlib.decompress(data)
        except zlib.error as error:
            raise DeferredLibraryError(
                f"{entry_name}: the binary's archive entry is damaged ({error})"
            ) from None
    if len(data) != entry.length:
        raise DeferredLibraryError(f"{entry_name}: the binary's archive entry is damaged")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.unpacking")
    with temporary.open("wb") as writer:
        writer.write(data)
    temporary.chmod(0o755)
    os.replace(temporary, destination)


class DeferredLibraryFinder(importlib.abc.MetaPathFinder):
    """Unpacks a deferred library on its package's first import, then finds nothing
    itself: the ordinary finders import the package from the unpacked files."""

    def __init__(
        self,
        executable: Path,
        unpack_directory: Path,
        deferred: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.executable = executable
        self.unpack_directory = unpack_directory
        self.pending = dict(DEFERRED if deferred is None else deferred)
        self.lock = threading.Lock()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> None:
        wanted = [
            name for name in self.pending if fullname == name or fullname.startswith(name + ".")
        ]
        if not wanted:
            return None
        with self.lock:
            table: dict[str, ArchiveEntry] | None = None
            for name in wanted:
                for entry_name in self.pending.get(name, ()):
                    destination = self.unpack_directory / entry_name
                    if destination.exists():
                        continue  # a one-dir bundle, or unpacked already
                    table = table or read_archive_table(self.executable)
                    if entry_name not in table:
                        raise DeferredLibraryError(f"the binary does not carry {entry_name}")
                    _unpack(self.executable, entry_name, table[entry_name], destination)
                self.pending.pop(name, None)  # only once it is all on disk
            importlib.invalidate_caches()
        return None


def install(executable: Path, unpack_directory: Path) -> None:
    """Put the unpacking finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, DeferredLibraryFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, DeferredLibraryFinder(executable, unpack_directory))
