"""Transports for the TUF client: "give me the bytes at this URL, at most N of them".

One small class per transport behind :class:`Fetcher`.  A subclass only
implements :meth:`Fetcher.chunks`; the length cap is enforced here, by
stopping to read (and closing the transport) as soon as the cap is passed.

Public API:

- ``Fetcher`` (abstract): ``download_bytes(url, max_length) -> bytes``,
  ``download_to(url, max_length, destination) -> int``;
- ``FileFetcher`` (``file://`` URLs and plain paths), ``HttpFetcher`` (httpx);
- ``fetcher_for(url)`` — the transport a base URL needs;
- errors: ``DownloadError`` (a :class:`signing.errors.TufError`),
  ``RemoteFileNotFoundError`` (404/403 or a missing file: "there is no such
  version"), ``DownloadHTTPError`` (any other status), ``DownloadLengthError``.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar
from urllib.parse import unquote, urlsplit

from signing.errors import TufError

if TYPE_CHECKING:
    import httpx

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


class Fetcher(ABC):
    @abstractmethod
    def chunks(self, url: str) -> Generator[bytes, None, None]:
        """Yield the bytes at ``url``; raise :class:`DownloadError` on failure."""

    def _capped(self, url: str, max_length: int) -> Iterator[bytes]:
        received = 0
        with contextlib.closing(self.chunks(url)) as stream:
            for chunk in stream:
                received += len(chunk)
                if received > max_length:
                    raise DownloadLengthError(f"{url}: more than {max_length} bytes")
                yield chunk

    def download_bytes(self, url: str, max_length: int) -> bytes:
        return b"".join(self._capped(url, max_length))

    def download_to(self, url: str, max_length: int, destination: BinaryIO) -> int:
        written = 0
        for chunk in self._capped(url, max_length):
            destination.write(chunk)
            written += len(chunk)
        return written


class FileFetcher(Fetcher):
    """Reads a repository from the local file system (``file://`` or a path)."""

    def chunks(self, url: str) -> Generator[bytes, None, None]:
        parts = urlsplit(url)
        path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(url)
        try:
            with path.open("rb") as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    yield chunk
        except (FileNotFoundError, NotADirectoryError):
            raise RemoteFileNotFoundError(f"{url}: no such file") from None
        except OSError as error:
            raise DownloadError(f"{url}: {error.strerror}") from None


class HttpFetcher(Fetcher):
    """HTTP(S) with httpx: no redirects, a timeout on every read."""

    _shared: ClassVar[dict[float, httpx.Client]] = {}

    def __init__(self, timeout_seconds: float = 30.0) -> None:
        import httpx  # imported lazily: a file:// client never pays for it

        self._httpx = httpx
        # One connection pool per process: building a client (TLS context) is
        # slower than most metadata downloads.
        if timeout_seconds not in self._shared:
            self._shared[timeout_seconds] = httpx.Client(timeout=timeout_seconds)
        self._client = self._shared[timeout_seconds]

    def chunks(self, url: str) -> Generator[bytes, None, None]:
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code in (403, 404):
                    raise RemoteFileNotFoundError(f"{url}: HTTP {response.status_code}")
                if response.status_code != 200:
                    raise DownloadHTTPError(url, response.status_code)
                yield from response.iter_bytes(CHUNK_SIZE)
        except self._httpx.HTTPError as error:
            raise DownloadError(f"{url}: {error}") from None


def fetcher_for(url: str) -> Fetcher:
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return HttpFetcher()
    if scheme in ("file", ""):
        return FileFetcher()
    raise DownloadError(f"{url}: unsupported URL scheme {scheme!r}")
