"""The node's origin fetcher: a repository's bytes from a file, HTTP(S) or S3 origin.

An S3 origin is read like any static web origin — plain HTTP(S) GETs with
httpx against a public-read bucket (path-style URLs for S3-compatible
endpoints) — so the node never needs boto3 or credentials.

:class:`OriginFetcher` is a :class:`node_runtime.tuf_fetcher.Fetcher`, so the
TUF updater uses it as is.  What it adds to a plain fetcher:

- connect and read timeouts on every request;
- bounded retries with exponential backoff (and jitter) on transient
  failures — connection errors, timeouts, a dropped connection, HTTP 429 and
  5xx — never on 403/404 or on a length violation;
- the length cap enforced while streaming: a declared ``Content-Length``
  above the cap is refused before the body is read, and reading stops at the
  chunk that passes the cap (the connection is closed, not drained);
- a conditional GET on ``timestamp.json``: the ETag and ``Last-Modified``
  of the last answer (kept by a :class:`node_runtime.conditional_cache.ConditionalCache`,
  persisted in the node's state by ``pull``) are sent as ``If-None-Match`` /
  ``If-Modified-Since``; ``304 Not Modified`` (no body) means the bytes
  remembered with them are current, and they are handed to the TUF client,
  which checks them (expiry included) like any download.

Public API:

- ``origin_base_url(origin, s3_endpoint=None)`` — the base URL of a
  ``file://``/path, ``http(s)://`` or ``s3://BUCKET/PREFIX`` origin;
  ``repository_urls(origin, s3_endpoint=None) -> (metadata_url, targets_url)``;
- ``OriginFetcher(timeouts=Timeouts(), retry=RetryPolicy(), sleep=time.sleep,
  conditional_cache=None)``: ``download_bytes``, ``download_to``,
  ``fetch_if_changed(url, max_length, etag=None, last_modified=None) ->
  ConditionalResponse``, ``stats`` (requests, bytes, 304s, retries),
  ``close()``;
- errors are those of :mod:`node_runtime.tuf_fetcher`.
"""

from __future__ import annotations

import functools
import os
import random
import ssl
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit

from node_runtime.conditional_cache import (
    CachedAnswer,
    ConditionalCache,
    conditional_headers,
    validators_from_headers,
)
from node_runtime.tuf_fetcher import (
    CHUNK_SIZE,
    DownloadError,
    DownloadHTTPError,
    DownloadLengthError,
    Fetcher,
    FileFetcher,
    RemoteFileNotFoundError,
)

TIMESTAMP_NAME = "timestamp.json"
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "archy-node"

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")


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
class RetryPolicy:
    attempts: int = 4  # the first try included
    first_backoff_seconds: float = 0.25
    max_backoff_seconds: float = 4.0

    def backoff_seconds(self, failed_attempts: int) -> float:
        """Exponential backoff with "full jitter" after ``failed_attempts`` failures."""
        ceiling = min(
            self.max_backoff_seconds, self.first_backoff_seconds * 2 ** (failed_attempts - 1)
        )
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy


@dataclass
class FetchStats:
    requests: int = 0
    bytes_received: int = 0
    not_modified: int = 0
    retries: int = 0


@dataclass(frozen=True)
class ConditionalResponse:
    """The answer to a conditional GET: new bytes and their validators, or "not modified"."""

    data: bytes | None  # None when not modified
    etag: str | None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.data is None


class _TransientError(Exception):
    """A failure worth another attempt (kept inside this module)."""


# --- where an origin is ---


def origin_base_url(origin: str, s3_endpoint: str | None = None) -> str:
    """The base URL a node reads ``origin`` from (no trailing slash).

    ``s3://BUCKET/PREFIX`` becomes ``{s3_endpoint}/BUCKET/PREFIX`` (path-style,
    for S3-compatible stores) or, without an endpoint, the bucket's public
    virtual-hosted AWS URL.  Plain paths become ``file://`` URLs.
    """
    parts = urlsplit(origin)
    if parts.scheme in ("http", "https", "file"):
        return origin.rstrip("/")
    if parts.scheme == "s3":
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not bucket:
            raise ValueError(f"{origin}: an s3:// origin needs a bucket (s3://BUCKET/PREFIX)")
        base = (
            f"{s3_endpoint.rstrip('/')}/{bucket}"
            if s3_endpoint
            else f"https://{bucket}.s3.amazonaws.com"
        )
        return f"{base}/{prefix}" if prefix else base
    if parts.scheme == "":
        return Path(origin).resolve().as_uri()
    raise ValueError(f"{origin}: unsupported origin (use file://, http(s):// or s3://)")


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


# --- the fetcher ---


class OriginFetcher(Fetcher):
    """Reads a repository from its origin; one instance is reused across refreshes."""

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
        """``report`` hears one line per retry as it happens; ``deadline_seconds`` bounds
        everything this fetcher does, retries and waits included, from its creation."""
        self._report = report
        self._clock = clock
        self._deadline_seconds = deadline_seconds
        self._deadline = None if deadline_seconds is None else clock() + deadline_seconds
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or RetryPolicy()
        self.stats = FetchStats()
        self._attempt = 1
        self._sleep = sleep
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

    def __enter__(self) -> OriginFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the Fetcher interface ---

    def chunks(self, url: str) -> Generator[bytes, None, None]:
        """The bytes at ``url`` as they arrive (one attempt; the capped calls retry)."""
        if not _is_http(url):
            yield from self._files.chunks(url)
            return
        try:
            with self._client.stream("GET", url) as response:
                if response.status_code in TRANSIENT_STATUSES:
                    raise DownloadHTTPError(url, response.status_code)
                self._check_status(url, response)
                yield from response.iter_bytes(CHUNK_SIZE)
        except self._httpx.HTTPError as error:
            raise DownloadError(f"{url}: {error}") from None

    def download_bytes(self, url: str, max_length: int) -> bytes:
        if _is_timestamp(url):
            return self._timestamp_bytes(url, max_length)
        if not _is_http(url):
            return self._files.download_bytes(url, max_length)
        body = bytearray()

        def attempt() -> None:
            body.clear()
            self._get(url, max_length, body.extend)

        self._with_retries(url, attempt)
        return bytes(body)

    def download_to(self, url: str, max_length: int, destination: BinaryIO) -> int:
        if not _is_http(url):
            return self._files.download_to(url, max_length, destination)
        seekable = destination.seekable()
        start = destination.tell() if seekable else 0
        written = 0

        def write(chunk: bytes) -> None:
            nonlocal written
            destination.write(chunk)
            written += len(chunk)

        def attempt() -> None:
            nonlocal written
            if written:
                if not seekable:
                    raise DownloadError(f"{url}: interrupted, and the destination cannot rewind")
                destination.seek(start)
                destination.truncate()
                written = 0
            self._get(url, max_length, write)

        self._with_retries(url, attempt)
        return written

    # --- conditional GET ---

    def fetch_if_changed(
        self,
        url: str,
        max_length: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> ConditionalResponse:
        """GET ``url`` with ``If-None-Match``/``If-Modified-Since``; ``not_modified`` on 304.

        A 304 reads no body.  The answer's validators are returned only when
        they are safe to send next time (see :mod:`node_runtime.conditional_cache`).
        """
        if not _is_http(url):
            return self._file_if_changed(url, max_length, etag)
        body = bytearray()
        asked = CachedAnswer(etag, last_modified, b"")
        headers = conditional_headers(asked)

        def attempt() -> tuple[int, httpx.Headers]:
            body.clear()
            return self._get(url, max_length, body.extend, headers)

        status, answer_headers = self._with_retries(url, attempt)
        if status == 304:
            self.stats.not_modified += 1
            return ConditionalResponse(None, etag, last_modified)
        new_etag, new_last_modified = validators_from_headers(answer_headers)
        return ConditionalResponse(bytes(body), new_etag, new_last_modified)

    def _timestamp_bytes(self, url: str, max_length: int) -> bytes:
        remembered = self._timestamps.get(url)
        answer = self.fetch_if_changed(
            url,
            max_length,
            remembered.etag if remembered else None,
            remembered.last_modified if remembered else None,
        )
        if answer.data is None and remembered is not None:
            if len(remembered.body) > max_length:
                raise DownloadLengthError(f"{url}: more than {max_length} bytes")
            return remembered.body
        data = answer.data or b""
        self._timestamps.put(url, CachedAnswer(answer.etag, answer.last_modified, data))
        return data

    def _file_if_changed(self, url: str, max_length: int, etag: str | None) -> ConditionalResponse:
        try:
            status = os.stat(_file_path(url))
        except (FileNotFoundError, NotADirectoryError):
            raise RemoteFileNotFoundError(f"{url}: no such file") from None
        except OSError as error:
            raise DownloadError(f"{url}: {error.strerror}") from None
        current = f'"{status.st_mtime_ns:x}-{status.st_size:x}-{status.st_ino:x}"'
        if etag == current:
            self.stats.not_modified += 1
            return ConditionalResponse(None, etag)
        data = self._files.download_bytes(url, max_length)
        self.stats.requests += 1
        self.stats.bytes_received += len(data)
        return ConditionalResponse(data, current)

    # --- one request, and retries ---

    def _check_status(self, url: str, response: httpx.Response) -> None:
        status = response.status_code
        if status in (403, 404):
            raise RemoteFileNotFoundError(f"{url}: HTTP {status}")
        if status in TRANSIENT_STATUSES:
            raise _TransientError(f"HTTP {status}")
        if status != 200:
            raise DownloadHTTPError(url, status)

    def _get(
        self,
        url: str,
        max_length: int,
        sink: Callable[[bytes], None],
        conditions: dict[str, str] | None = None,
    ) -> tuple[int, httpx.Headers]:
        """One GET, its body streamed into ``sink``: ``(200 or 304, the answer's headers)``.

        304 counts only when ``conditions`` were sent; a 304 to a plain GET is an error.
        """
        self.stats.requests += 1
        read = self.timeouts.read_seconds_for(self._attempt)
        if self._deadline is not None:
            read = max(0.1, min(read, self._deadline - self._clock()))
        timeout = self._httpx.Timeout(read, connect=min(self.timeouts.connect_seconds, read))
        with self._client.stream("GET", url, headers=conditions or {}, timeout=timeout) as response:
            if response.status_code == 304 and conditions:
                return 304, response.headers
            self._check_status(url, response)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_length:
                raise DownloadLengthError(
                    f"{url}: {declared} bytes announced, at most {max_length} allowed"
                )
            received = 0
            for chunk in response.iter_bytes(CHUNK_SIZE):
                received += len(chunk)
                self.stats.bytes_received += len(chunk)
                if received > max_length:
                    raise DownloadLengthError(f"{url}: more than {max_length} bytes")
                sink(chunk)
            return 200, response.headers

    def _past_deadline(self, url: str, reason: str) -> DownloadError:
        return DownloadError(
            f"{url}: {reason} (gave up: the {self._deadline_seconds:g} s deadline passed)"
        )

    def _with_retries(self, url: str, attempt: Callable[[], T]) -> T:
        failures = 0
        while True:
            self._attempt = failures + 1
            if self._deadline is not None and self._clock() >= self._deadline:
                raise self._past_deadline(url, "no answer in time")
            try:
                return attempt()
            except (
                _TransientError,
                self._httpx.TimeoutException,
                self._httpx.NetworkError,
                self._httpx.RemoteProtocolError,
            ) as error:
                failures += 1
                reason = str(error) or type(error).__name__
                if failures >= self.retry.attempts:
                    raise DownloadError(
                        f"{url}: {reason} (gave up after {failures} attempts)"
                    ) from None
                wait = self.retry.backoff_seconds(failures)
                if self._deadline is not None and self._clock() + wait >= self._deadline:
                    raise self._past_deadline(url, reason) from None
                if self._report is not None:
                    self._report(
                        f"retrying {url}: {reason} (attempt {failures + 1} of "
                        f"{self.retry.attempts} in {wait:.1f} s)"
                    )
                self.stats.retries += 1
                self._sleep(wait)
            except self._httpx.HTTPError as error:
                raise DownloadError(f"{url}: {error}") from None


def _is_http(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")
