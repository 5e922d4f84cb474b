"""The node's content-addressed store: ``blobs/<blake3>``, checked on the way in and out.

A blob enters only when its bytes hash to its name (and match every other
hash and the length the signed metadata lists): it is written to a temporary
file in the store, fsynced, hashed, and renamed into place.  It is hashed
again whenever it is opened, so a file changed on disk (bit rot, a careless
edit, an attacker) is never used: it is deleted and reported with
:class:`BlobTamperedError`, and the next pull fetches it again.

Public API:

- ``BlobStore(directory)``;
- ``path_of(blake3)``, ``contains(blake3)`` (present, not checked),
  ``is_intact(blake3)`` (present and hashes right; a tampered blob is removed);
- in: ``add_bytes(data, expected_blake3=None) -> str``,
  ``receive(blake3, length, other_hashes=None)`` — a context manager giving a
  writable, seekable stream; the blob is committed only if it verifies;
- out: ``read_verified(blake3) -> bytes``, ``open_verified(blake3) -> BinaryIO``
  (hashed through the very handle it returns), ``verified_path(blake3) -> Path``;
- ``remove_tampered() -> list[str]`` (check every blob), ``remove(blake3)``;
- errors: ``BlobError`` ← ``BlobMissingError``, ``BlobTamperedError``,
  ``BlobMismatchError`` (incoming bytes were not what was promised).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from catalog.address import blake3_hex, blake3_stream, is_blake3_hex
from node_runtime.store.atomic_file import fsync_directory
from signing.errors import LengthOrHashMismatchError
from signing.hashing import verify_chunks

CHUNK_SIZE = 1 << 20


class BlobError(Exception):
    """A blob cannot be stored or used; the message says which and why."""


class BlobMissingError(BlobError):
    """The store has no blob by that hash."""


class BlobTamperedError(BlobError):
    """A stored blob no longer hashes to its name; it has been removed."""


class BlobMismatchError(BlobError):
    """Bytes offered to the store are not the ones promised (length or hash)."""

    def __init__(self, blake3: str, reason: str) -> None:
        super().__init__(f"blob {blake3}: {reason}")
        self.reason = reason


class BlobStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    # --- where ---

    def path_of(self, blake3: str) -> Path:
        if not is_blake3_hex(blake3):
            raise ValueError(f"{blake3!r} is not a BLAKE3 hex digest")
        return self.directory / blake3

    def contains(self, blake3: str) -> bool:
        return self.path_of(blake3).is_file()

    def blobs(self) -> list[str]:
        """The names of every blob present (not checked)."""
        try:
            return sorted(p.name for p in self.directory.iterdir() if is_blake3_hex(p.name))
        except FileNotFoundError:
            return []

    # --- in ---

    @contextlib.contextmanager
    def receive(
        self, blake3: str, length: int, other_hashes: Mapping[str, str] | None = None
    ) -> Iterator[BinaryIO]:
        """Write a blob through the yielded stream; it is committed only if it verifies.

        Raises :class:`BlobMismatchError` (and keeps nothing) when the bytes
        written do not have ``length`` and every hash.
        """
        destination = self.path_of(blake3)
        self.directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            os.fchmod(handle, 0o644)
            with os.fdopen(handle, "w+b") as stream:
                yield stream
                stream.flush()
                os.fsync(stream.fileno())
                stream.seek(0)
                hashes = {**(other_hashes or {}), "blake3": blake3}
                try:
                    verify_chunks(iter(lambda: stream.read(CHUNK_SIZE), b""), length, hashes)
                except LengthOrHashMismatchError as error:
                    raise BlobMismatchError(blake3, str(error)) from None
            os.replace(temporary, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        fsync_directory(self.directory)

    def add_bytes(self, data: bytes, expected_blake3: str | None = None) -> str:
        """Store ``data``; return its BLAKE3.  Refuse it if it is not ``expected_blake3``."""
        actual = blake3_hex(data)
        if expected_blake3 is not None and actual != expected_blake3:
            raise BlobMismatchError(expected_blake3, f"the bytes hash to {actual}")
        if self.is_intact(actual):
            return actual
        with self.receive(actual, len(data)) as stream:
            stream.write(data)
        return actual

    # --- out ---

    def _tampered(self, blake3: str, path: Path, actual: str) -> BlobTamperedError:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return BlobTamperedError(
            f"blob {blake3} was changed on disk (it now hashes to {actual}); "
            "it was removed and the next pull fetches it again"
        )

    def open_verified(self, blake3: str) -> BinaryIO:
        """An open handle on the blob, hashed through that same handle and rewound."""
        path = self.path_of(blake3)
        try:
            stream = path.open("rb")
        except FileNotFoundError:
            raise BlobMissingError(f"blob {blake3} is not in the store {self.directory}") from None
        try:
            actual = blake3_stream(stream, CHUNK_SIZE)
            if actual != blake3:
                raise self._tampered(blake3, path, actual)
            stream.seek(0)
        except BaseException:
            stream.close()
            raise
        return stream

    def read_verified(self, blake3: str) -> bytes:
        with self.open_verified(blake3) as stream:
            return stream.read()

    def verified_path(self, blake3: str) -> Path:
        """The blob's path, after checking it (for tools that need a file name)."""
        self.open_verified(blake3).close()
        return self.path_of(blake3)

    def is_intact(self, blake3: str) -> bool:
        """True if the blob is present and right; a tampered one is removed (False)."""
        try:
            self.open_verified(blake3).close()
        except (BlobMissingError, BlobTamperedError):
            return False
        return True

    def remove_tampered(self) -> list[str]:
        """Check every blob; remove and return the names of those that no longer verify."""
        return [name for name in self.blobs() if not self.is_intact(name)]

    def remove(self, blake3: str) -> None:
        self.path_of(blake3).unlink(missing_ok=True)
