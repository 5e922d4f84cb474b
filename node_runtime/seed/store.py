"""What a swarm seed serves: verified blobs by BLAKE3 and a copy of the registry's metadata.

The store is a directory of blobs named by their BLAKE3 (the node's
``blobs/`` layout, or what ``archy-node seed sync`` writes).  A blob is
hashed before it is first served and again whenever its file changes (size,
mtime or inode), so a seed never serves bytes that do not match their name —
though a client must not rely on that: it checks the hash itself.  Uploads
are stored only if they hash to their name; metadata copies are replaced
atomically (nodes check metadata through TUF).

Public API: ``SEND_CHUNK_BYTES``, ``PUBLISHED_METADATA_NAME``, ``BlobNotServedError``,
``UploadRefusedError``, ``SeedStats``, ``SeedStore(blobs_dir, metadata_dir=None)``
(``open_blob``, ``add_blob``, ``replace_metadata``, ``metadata_bytes``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from catalog.address import blake3_stream, is_blake3_hex
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.blob_store import BlobMismatchError, BlobStore

SEND_CHUNK_BYTES = 256 * 1024  # each write must finish within the server's io_seconds
_METADATA_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")
PUBLISHED_METADATA_NAME = re.compile(r"^(timestamp|[1-9][0-9]{0,9}\.[a-z][a-z0-9-]{0,63})\.json$")
"""``timestamp.json`` and ``N.<role>.json``: roots, snapshots, targets and delegated roles."""


class BlobNotServedError(Exception):
    """The seed has no verified blob by that hash."""


class UploadRefusedError(Exception):
    """An upload the seed will not store; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SeedStats:
    requests: int = 0
    bytes_sent: int = 0
    refusals: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, sent: int, refused: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_sent += sent
            self.refusals += int(refused)


class SeedStore:
    """Blobs by BLAKE3 in ``blobs_dir``, each hashed before it is served."""

    def __init__(self, blobs_dir: Path, metadata_dir: Path | None = None) -> None:
        self.blobs_dir = blobs_dir
        self.metadata_dir = metadata_dir
        self._verified: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def open_blob(self, blake3: str) -> tuple[BinaryIO, int]:
        """An open handle on a verified blob and its length; :class:`BlobNotServedError` if none."""
        if not is_blake3_hex(blake3):
            raise BlobNotServedError(f"{blake3[:70]!r} is not a BLAKE3 hex digest")
        path = self.blobs_dir / blake3
        try:
            stream = path.open("rb")
        except OSError:
            raise BlobNotServedError(f"no blob {blake3}") from None
        try:
            status = os.fstat(stream.fileno())
            signature = (status.st_size, status.st_mtime_ns, status.st_ino)
            with self._lock:
                known = self._verified.get(blake3) == signature
            if not known:
                if blake3_stream(stream) != blake3:
                    raise BlobNotServedError(f"blob {blake3} does not hash to its name")
                stream.seek(0)
                with self._lock:
                    self._verified[blake3] = signature
        except BaseException:
            stream.close()
            raise
        return stream, status.st_size

    def add_blob(self, blake3: str, length: int, read: Callable[[int], bytes]) -> bool:
        """Store ``length`` bytes from ``read(n)`` as blob ``blake3`` if they hash to it.

        False when the seed already held the blob intact (the body is still
        read, so the connection stays usable).  :class:`UploadRefusedError`
        when the bytes do not match; nothing is stored then.
        """
        if not is_blake3_hex(blake3):
            raise UploadRefusedError(404, f"{blake3[:70]!r} is not a BLAKE3 hex digest")
        store = BlobStore(self.blobs_dir)
        held = store.is_intact(blake3)
        try:
            with store.receive(blake3, length) as sink:
                remaining = length
                while remaining:
                    chunk = read(min(SEND_CHUNK_BYTES, remaining))
                    if not chunk:
                        raise UploadRefusedError(400, f"the body ended {remaining} bytes early")
                    sink.write(chunk)
                    remaining -= len(chunk)
        except BlobMismatchError as error:
            raise UploadRefusedError(422, f"refused blob {blake3}: {error.reason}") from None
        return not held

    def replace_metadata(self, name: str, data: bytes) -> None:
        """Replace the metadata copy ``name`` (a published name such as ``3.targets.json``)."""
        if self.metadata_dir is None:
            raise UploadRefusedError(404, "this seed keeps no metadata copy")
        if not PUBLISHED_METADATA_NAME.fullmatch(name):
            raise UploadRefusedError(404, f"{name[:80]!r} is not a published metadata name")
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        write_file_atomically(self.metadata_dir / name, data)

    def metadata_bytes(self, name: str) -> bytes:
        if self.metadata_dir is None or not _METADATA_NAME.fullmatch(name):
            raise BlobNotServedError(f"no metadata {name[:80]!r}")
        try:
            return (self.metadata_dir / name).read_bytes()
        except OSError:
            raise BlobNotServedError(f"no metadata {name[:80]!r}") from None
