"""The one fetching interface: "give me the bytes at this URL, at most N of them".

Every source of bytes — the origin over file/HTTP(S) (:mod:`.http`), the
retry wrapper (:mod:`.retry`), the pull's sources (:mod:`.sources`) — is a
:class:`Fetcher` and implements exactly one method, :meth:`Fetcher.stream`.
:meth:`Fetcher.download_bytes` and :meth:`Fetcher.download_to` are final
(never overridden): they enforce the length cap by stopping to read (and
closing the stream) as soon as the cap is passed.

A stream is one attempt.  :class:`Attempt` tells a transport which attempt
it serves and how long it has (so a silent origin is given up on soon at
first and longer later); a transport signals a failure worth another attempt
with :class:`TransientDownloadError`, which only the retry wrapper acts on.

Public API: ``CHUNK_SIZE``, ``TRANSIENT_STATUSES``, ``refuse_unusable_answer``,
``Attempt``, ``FIRST_ATTEMPT``, ``Fetcher``, ``closable``;
errors ``DownloadError`` (a :class:`signing.errors.TufError`) ←
``RemoteFileNotFoundError`` (404/403 or a missing file: "there is no such
version"), ``DownloadHTTPError`` (any other status), ``DownloadLengthError``,
``TransientDownloadError`` (timeouts, dropped connections, 429/5xx).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Self, final

from signing.errors import TufError

CHUNK_SIZE = 64 * 1024


class DownloadError(TufError):
    """The transport could not deliver the file."""


class RemoteFileNotFoundError(DownloadError):
    """The repository has no such file (HTTP 403/404, or no file on disk)."""


class DownloadHTTPError(DownloadError):
    def __init__(self, url: str, status_code: int) -> None:
        super().__init__(f"{url}: HTTP status {status_code}")
        self.status_code = status_code


class DownloadLengthError(DownloadError):
    """The server sent more bytes than the metadata allows."""


class TransientDownloadError(DownloadError):
    """A failure worth another attempt; ``reason`` says what happened, without the URL."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.reason = reason


TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def refuse_unusable_answer(url: str, status: int, declared_length: str, max_length: int) -> None:
    """Raise unless an HTTP answer is a 200 whose declared length (if any) fits ``max_length``.

    403/404 → :class:`RemoteFileNotFoundError`; 408, 425, 429 and 5xx →
    :class:`TransientDownloadError`; any other status → :class:`DownloadHTTPError`.
    Every HTTP transport applies this one rule before reading a body.
    """
    if status in (403, 404):
        raise RemoteFileNotFoundError(f"{url}: HTTP {status}")
    if status in TRANSIENT_STATUSES:
        raise TransientDownloadError(url, f"HTTP {status}")
    if status != 200:
        raise DownloadHTTPError(url, status)
    if declared_length.isdigit() and int(declared_length) > max_length:
        raise DownloadLengthError(
            f"{url}: {declared_length} bytes announced, at most {max_length} allowed"
        )


@dataclass(frozen=True)
class Attempt:
    """Which attempt a stream serves (1 = the first) and the seconds left before giving up."""

    number: int = 1
    seconds_left: float | None = None


FIRST_ATTEMPT = Attempt()


class Fetcher(ABC):
    """Implementers provide :meth:`stream` only; the download methods are final."""

    @abstractmethod
    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        """Yield the bytes at ``url``; raise :class:`DownloadError` on failure.

        ``max_length`` lets a transport refuse early (a declared length over
        it); the cap itself is enforced by the caller.
        """

    @final
    def download_bytes(self, url: str, max_length: int) -> bytes:
        return b"".join(self._capped(url, max_length))

    @final
    def download_to(self, url: str, max_length: int, destination: BinaryIO) -> int:
        written = 0
        for chunk in self._capped(url, max_length):
            destination.write(chunk)
            written += len(chunk)
        return written

    @final
    def _capped(self, url: str, max_length: int) -> Iterator[bytes]:
        received = 0
        with contextlib.closing(closable(self.stream(url, max_length))) as stream:
            for chunk in stream:
                received += len(chunk)
                if received > max_length:
                    raise DownloadLengthError(f"{url}: more than {max_length} bytes")
                yield chunk

    def close(self) -> None:  # noqa: B027 - most fetchers hold nothing
        """Release connections (a no-op unless the fetcher holds any)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def closable(chunks: Iterator[bytes]) -> Generator[bytes, None, None]:
    """``chunks`` as a closable generator (closing it closes the transport's stream)."""
    try:
        yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
