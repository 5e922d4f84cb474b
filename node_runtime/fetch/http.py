"""The origin: a repository's bytes from a file, HTTP(S) or S3 origin.

An S3 origin is read like any static web origin — plain HTTP(S) GETs with
httpx against a public-read bucket (path-style URLs for S3-compatible
endpoints) — so the node never needs boto3 or credentials.

:class:`FileFetcher` reads ``file://`` URLs and paths; :class:`HttpOrigin`
reads ``http(s)://`` (and hands ``file://`` to a :class:`FileFetcher`).  Both
are :class:`~node_runtime.fetch.fetcher.Fetcher` transports: one attempt per
stream, with

- connect and read timeouts on every request (the read timeout grows with
  the attempt number and never passes the attempt's deadline);
- transient failures — connection errors, timeouts, a dropped connection,
  HTTP 429 and 5xx — raised as ``TransientDownloadError`` for the retry
  wrapper, never 403/404 or a length violation;
- a declared ``Content-Length`` above the cap refused before the body is
  read, and reading stopped at the chunk that passes the cap;
- a conditional GET on ``timestamp.json``: the ETag and ``Last-Modified``
  of the last answer (kept by a :class:`~node_runtime.fetch.conditional_cache.ConditionalCache`,
  persisted in the node's state by the pull) are sent as ``If-None-Match`` /
  ``If-Modified-Since``; ``304 Not Modified`` (no body) means the bytes
  remembered with them are current, and they are handed to the TUF client,
  which checks them (expiry included) like any download.

:class:`OriginFetcher` is the node's origin: an :class:`HttpOrigin` behind
:class:`~node_runtime.fetch.retry.Retrying`, with one ``stats``.

Public API: ``origin_base_url(origin, s3_endpoint=None)``,
``repository_urls(origin, s3_endpoint=None) -> (metadata_url, targets_url)``;
``Timeouts``, ``ConditionalResponse``, ``FileFetcher``, ``HttpOrigin``,
``OriginFetcher(timeouts=None, retry=None, sleep=time.sleep,
conditional_cache=None, report=None, deadline_seconds=None, clock=time.monotonic)``
(``download_bytes``, ``download_to``, ``fetch_if_changed``, ``stats``,
``close()``); ``fetcher_for(url)`` (one attempt, 30 s timeouts: the TUF
conformance client; plain ``http://`` goes to
:class:`~node_runtime.fetch.plain_http.PlainHttpFetcher`, which imports no
httpx); ``DEFAULT_PULL_DEADLINE_SECONDS``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from catalog.locations import origin_base_url
from node_runtime.fetch.conditional_cache import (
    CachedAnswer,
    ConditionalCache,
    conditional_headers,
    validators_from_headers,
)
from node_runtime.fetch.fetcher import (
    CHUNK_SIZE,
    FIRST_ATTEMPT,
    Attempt,
    DownloadError,
    DownloadLengthError,
    Fetcher,
    RemoteFileNotFoundError,
    TransientDownloadError,
    refuse_unusable_answer,
)
from node_runtime.fetch.retry import FetchStats, Retrying, RetryPolicy

TIMESTAMP_NAME = "timestamp.json"
USER_AGENT = "archy-node"

if TYPE_CHECKING:
    import ssl  # only for https, through httpx: `archy-node tuf --help` loads no TLS

    import httpx


@dataclass(frozen=True)
class Timeouts:
    """Per-request limits.  A silent origin is retried soon: the first attempt waits
    ``first_read_seconds`` for a byte, each retry twice as long, up to ``read_seconds``."""

    connect_seconds: float = 4.0
    read_seconds: float = 30.0
    first_read_seconds: float = 4.0

    def read_seconds_for(self, attempt: int) -> float:
        return min(self.read_seconds, self.first_read_seconds * float(2 ** (attempt - 1)))


DEFAULT_PULL_DEADLINE_SECONDS = 60.0


@dataclass(frozen=True)
class ConditionalResponse:
    """The answer to a conditional GET: new bytes and their validators, or "not modified"."""

    data: bytes | None  # None when not modified
    etag: str | None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.data is None


# --- where an origin is ---


def repository_urls(origin: str, s3_endpoint: str | None = None) -> tuple[str, str]:
    """``(metadata base URL, targets base URL)`` of the repository at ``origin``."""
    base = origin_base_url(origin, s3_endpoint)
    return f"{base}/metadata/", f"{base}/targets/"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verification, built once (it costs ~35 ms) and shared by every fetcher."""
    import httpx

    return httpx.create_ssl_context()


def _file_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else Path(url)


def _is_timestamp(url: str) -> bool:
    return urlsplit(url).path.rsplit("/", 1)[-1] == TIMESTAMP_NAME


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


# --- the transports ---


class FileFetcher(Fetcher):
    """Reads a repository from the local file system (``file://`` or a path)."""

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        try:
            with _file_path(url).open("rb") as stream:
                while chunk := stream.read(CHUNK_SIZE):
                    yield chunk
        except (FileNotFoundError, NotADirectoryError):
            raise RemoteFileNotFoundError(f"{url}: no such file") from None
        except OSError as error:
            raise DownloadError(f"{url}: {error.strerror}") from None

    def fetch_if_changed(self, url: str, max_length: int, etag: str | None) -> ConditionalResponse:
        """The file unless its (mtime, size, inode) validator equals ``etag``."""
        try:
            status = os.stat(_file_path(url))
        except (FileNotFoundError, NotADirectoryError):
            raise RemoteFileNotFoundError(f"{url}: no such file") from None
        except OSError as error:
            raise DownloadError(f"{url}: {error.strerror}") from None
        current = f'"{status.st_mtime_ns:x}-{status.st_size:x}-{status.st_ino:x}"'
        if etag == current:
            return ConditionalResponse(None, etag)
        return ConditionalResponse(self.download_bytes(url, max_length), current)


class HttpOrigin(Fetcher):
    """One attempt per stream at an ``http(s)://`` or ``file://`` URL (see the module text)."""

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        conditional_cache: ConditionalCache | None = None,
        stats: FetchStats | None = None,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.stats = stats or FetchStats()
        self._files = FileFetcher()
        import httpx  # here, not at import: `archy-node version` never pays for it

        self._httpx = httpx
        self._client = httpx.Client(
            timeout=httpx.Timeout(
                self.timeouts.read_seconds, connect=self.timeouts.connect_seconds
            ),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            verify=_tls_context(),
        )
        # The last timestamp.json per URL: its validators and bytes, for 304 answers.
        self._timestamps = conditional_cache or ConditionalCache()

    def close(self) -> None:
        self._client.close()

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        if _is_timestamp(url):
            yield self._timestamp_bytes(url, max_length, attempt)
        elif not _is_http(url):
            yield from self._files.stream(url, max_length)
        else:
            yield from self._get(url, max_length, attempt)

    # --- conditional GET ---

    def fetch_if_changed(
        self,
        url: str,
        max_length: int,
        etag: str | None = None,
        last_modified: str | None = None,
        attempt: Attempt = FIRST_ATTEMPT,
    ) -> ConditionalResponse:
        """GET ``url`` with ``If-None-Match``/``If-Modified-Since``; ``not_modified`` on 304.

        A 304 reads no body.  The answer's validators are returned only when
        they are safe to send next time (see :mod:`node_runtime.fetch.conditional_cache`).
        """
        if not _is_http(url):
            answer = self._files.fetch_if_changed(url, max_length, etag)
            if answer.not_modified:
                self.stats.not_modified += 1
            else:
                self.stats.requests += 1
                self.stats.bytes_received += len(answer.data or b"")
            return answer
        headers = conditional_headers(CachedAnswer(etag, last_modified, b""))
        self.stats.requests += 1
        with self._request(url, attempt, headers) as response:
            if response.status_code == 304 and headers:
                self.stats.not_modified += 1
                return ConditionalResponse(None, etag, last_modified)
            body = b"".join(self._body(url, max_length, response))
            new_etag, new_last_modified = validators_from_headers(response.headers)
        return ConditionalResponse(body, new_etag, new_last_modified)

    def _timestamp_bytes(self, url: str, max_length: int, attempt: Attempt) -> bytes:
        remembered = self._timestamps.get(url)
        answer = self.fetch_if_changed(
            url,
            max_length,
            remembered.etag if remembered else None,
            remembered.last_modified if remembered else None,
            attempt,
        )
        if answer.data is None and remembered is not None:
            if len(remembered.body) > max_length:
                raise DownloadLengthError(f"{url}: more than {max_length} bytes")
            return remembered.body
        data = answer.data or b""
        self._timestamps.put(url, CachedAnswer(answer.etag, answer.last_modified, data))
        return data

    # --- one request ---

    def _get(self, url: str, max_length: int, attempt: Attempt) -> Iterator[bytes]:
        self.stats.requests += 1
        with self._request(url, attempt) as response:
            yield from self._body(url, max_length, response)

    @contextlib.contextmanager
    def _request(
        self, url: str, attempt: Attempt, conditions: dict[str, str] | None = None
    ) -> Iterator[httpx.Response]:
        """One GET; httpx's errors (while it runs) become this module's errors."""
        read = self.timeouts.read_seconds_for(attempt.number)
        if attempt.seconds_left is not None:
            read = max(0.1, min(read, attempt.seconds_left))
        timeout = self._httpx.Timeout(read, connect=min(self.timeouts.connect_seconds, read))
        try:
            with self._client.stream(
                "GET", url, headers=conditions or {}, timeout=timeout
            ) as response:
                yield response
        except self._httpx.HTTPError as error:
            raise self._error_of(url, error) from None

    def _body(self, url: str, max_length: int, response: httpx.Response) -> Iterator[bytes]:
        """The body of a 200 answer (any other status raises), stopped past ``max_length``."""
        declared = response.headers.get("content-length", "")
        refuse_unusable_answer(url, response.status_code, declared, max_length)
        received = 0
        for chunk in response.iter_bytes(CHUNK_SIZE):
            received += len(chunk)
            self.stats.bytes_received += len(chunk)
            if received > max_length:
                raise DownloadLengthError(f"{url}: more than {max_length} bytes")
            yield chunk

    def _error_of(self, url: str, error: Exception) -> DownloadError:
        """A transport error: transient (worth another attempt) or final."""
        transient = (
            self._httpx.TimeoutException,
            self._httpx.NetworkError,
            self._httpx.RemoteProtocolError,
        )
        if isinstance(error, transient):
            return TransientDownloadError(url, str(error) or type(error).__name__)
        return DownloadError(f"{url}: {error}")


class OriginFetcher(Retrying):
    """The node's origin: :class:`HttpOrigin` behind retries, sharing one ``stats``.

    ``report`` hears one line per retry as it happens; ``deadline_seconds``
    bounds everything this fetcher does, retries and waits included, from its
    creation.  One instance is reused across refreshes.
    """

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        conditional_cache: ConditionalCache | None = None,
        report: Callable[[str], None] | None = None,
        deadline_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        stats = FetchStats()
        self.origin = HttpOrigin(timeouts, conditional_cache, stats)
        self.timeouts = self.origin.timeouts
        super().__init__(self.origin, retry, sleep, report, deadline_seconds, clock, stats)

    def fetch_if_changed(
        self,
        url: str,
        max_length: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> ConditionalResponse:
        """:meth:`HttpOrigin.fetch_if_changed` under this fetcher's retries."""
        return self.run(
            url,
            lambda attempt: self.origin.fetch_if_changed(
                url, max_length, etag, last_modified, attempt
            ),
        )


def fetcher_for(url: str) -> Fetcher:
    """The transport a base URL needs, one attempt per file (the conformance client's)."""
    scheme = urlsplit(url).scheme

    def httpx_origin() -> Fetcher:
        return HttpOrigin(
            Timeouts(connect_seconds=30.0, read_seconds=30.0, first_read_seconds=30.0)
        )

    if scheme == "http":  # the standard library's client: a fifth of a second less per start
        from node_runtime.fetch.plain_http import PlainHttpFetcher

        return PlainHttpFetcher(timeout_seconds=30.0, other_schemes=httpx_origin)
    if scheme == "https":
        return httpx_origin()
    if scheme in ("file", ""):
        return FileFetcher()
    raise DownloadError(f"{url}: unsupported URL scheme {scheme!r}")
