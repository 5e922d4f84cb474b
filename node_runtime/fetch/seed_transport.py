"""The seeds' side of fetching: one seed as a :class:`BlobTransport`, and the seed errors.

A swarm seed serves blobs by BLAKE3 (``archy/blobs/1`` over iroh, or
``GET /blobs/<blake3>`` over HTTP).  A :class:`BlobTransport` gives exactly
the bytes of one range of one blob, or raises one of:

- :class:`SeedMissingBlobError` — the seed does not have the blob (not a
  fault: it is asked for other blobs); :class:`SeedBusyError` (HTTP 503) is
  treated the same way;
- :class:`SeedFaultError` — the seed misbehaved (stalled, sent too many
  bytes, garbage, unreachable): the swarm drops it for the rest of the pull.

:class:`BlobUnavailableError` (no source delivered the blob) and
:class:`LocalStoreError` (the local disk failed: no seed's fault) are what
the swarm raises.

Public API: ``Sink``, ``DEFAULT_STALL_SECONDS``, ``SeedError`` ←
``SeedMissingBlobError`` (← ``SeedBusyError``), ``SeedFaultError``;
``BlobUnavailableError``; ``LocalStoreError``; ``RangeCancelledError``;
``BlobTransport``; ``seed_root_url``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from node_runtime.fetch.fetcher import DownloadError

DEFAULT_STALL_SECONDS = 15.0
Sink = Callable[[bytes], None]


class SeedError(Exception):
    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"seed {source}: {reason}")
        self.source = source
        self.reason = reason


class SeedMissingBlobError(SeedError):
    """The seed does not have this blob (not a fault: it is asked for other blobs)."""


class SeedBusyError(SeedMissingBlobError):
    """The seed is busy (HTTP 503): skipped for this blob, like a seed without it."""


class SeedFaultError(SeedError):
    """The seed misbehaved (stalled, sent too many bytes, garbage, unreachable): drop it."""


class BlobUnavailableError(DownloadError):
    """No source delivered bytes that hash to the blob's BLAKE3."""


class RangeCancelledError(Exception):
    """Raised by a sink to stop a transfer that is no longer wanted; transports let it through."""


class LocalStoreError(OSError):
    """Writing or reading the blob's own file failed (disk full, I/O error): not a seed's fault."""

    def __init__(self, blake3: str, cause: OSError) -> None:
        self.message = (
            f"blob {blake3[:12]}…: local I/O error while storing it "
            f"({cause.strerror or cause}); nothing was stored"
        )
        super().__init__(cause.errno, cause.strerror)

    def __str__(self) -> str:
        return self.message


class BlobTransport(ABC):
    """One seed: ``read_range`` gives exactly ``count`` bytes of a blob to ``sink``, or raises."""

    name: str

    @abstractmethod
    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        """Raise :class:`SeedMissingBlobError` or :class:`SeedFaultError` on failure.

        ``sink`` may raise to stop the transfer (the range is no longer
        wanted, or the local disk is full): let that exception through.
        """

    def metadata_url(self, name: str) -> str | None:
        """Where this seed keeps a copy of the metadata file ``name`` (None: it keeps none)."""
        return None

    def close(self) -> None:  # noqa: B027 - most transports hold nothing
        pass


def seed_root_url(seed: str) -> str:
    """A seed's root URL from a config entry: ``…/targets/`` (a mirror of targets/) is stripped."""
    root = seed.rstrip("/")
    return root.removesuffix("/targets")
