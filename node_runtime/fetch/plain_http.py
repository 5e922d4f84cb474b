"""Plain ``http://`` GETs with the standard library's ``http.client``, for one-shot processes.

``archy-node tuf`` (the TUF conformance client) starts one process per step,
so what it imports is most of its time: httpx and httpcore cost about 0.2 s of
CPU per process, the standard library's ``http.client`` almost nothing (it is
loaded anyway).  :func:`node_runtime.fetch.http.fetcher_for` hands plain
``http://`` base URLs to this transport, with ``other_schemes``: how to make
the transport for any other URL it is asked for (an ``https://`` or ``file://``
target base beside plain-http metadata), an
:class:`~node_runtime.fetch.http.HttpOrigin` made on first need, so the TLS
policy lives in one place.  The node's own pulls use
:class:`~node_runtime.fetch.http.OriginFetcher`.

One connection per request (``Connection: close``), one attempt, a socket
timeout on connect and on every read, and the same answer rules as
:class:`HttpOrigin` (:func:`~node_runtime.fetch.fetcher.refuse_unusable_answer`:
403/404 → not found, 408/429/5xx → transient, a declared length over the cap
refused before the body is read).

Public API: ``PlainHttpFetcher(timeout_seconds=30.0, other_schemes=None)``.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit

from node_runtime.fetch.fetcher import (
    CHUNK_SIZE,
    FIRST_ATTEMPT,
    Attempt,
    DownloadError,
    Fetcher,
    TransientDownloadError,
    refuse_unusable_answer,
)

USER_AGENT = "archy-node"
# Characters a request target may hold as they are (RFC 3986 pchar, "/" and "%" of an escape);
# any other (a space in a target name, non-ASCII) is percent-encoded, as httpx does.
_TARGET_SAFE = "/%:@!$&'()*+,;=-._~"


def _request_target(path: str, query: str) -> str:
    target = quote(path or "/", safe=_TARGET_SAFE)
    return f"{target}?{quote(query, safe=_TARGET_SAFE + '?')}" if query else target


class PlainHttpFetcher(Fetcher):
    """GETs ``http://`` URLs over ``http.client`` (see the module text)."""

    def __init__(
        self, timeout_seconds: float = 30.0, other_schemes: Callable[[], Fetcher] | None = None
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self._make_other = other_schemes
        self._other: Fetcher | None = None

    def close(self) -> None:
        if self._other is not None:
            self._other.close()

    def _other_schemes(self, url: str) -> Fetcher:
        """The transport for ``https://`` and ``file://``, made the first time one is asked for."""
        if self._other is None:
            if self._make_other is None:
                raise DownloadError(f"{url}: not a plain http:// URL")
            self._other = self._make_other()
        return self._other

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        parts = urlsplit(url)
        if parts.scheme != "http":
            yield from self._other_schemes(url).stream(url, max_length, attempt)
            return
        if not parts.hostname:
            raise DownloadError(f"{url}: no host")
        target = _request_target(parts.path, parts.query)
        try:
            port = parts.port
        except ValueError:
            raise DownloadError(f"{url}: bad port") from None
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=self.timeout_seconds)
        try:
            connection.request(
                "GET", target, headers={"User-Agent": USER_AGENT, "Connection": "close"}
            )
            response = connection.getresponse()
            refuse_unusable_answer(
                url, response.status, response.getheader("content-length") or "", max_length
            )
            while chunk := response.read(CHUNK_SIZE):
                yield chunk
        except TimeoutError:
            raise TransientDownloadError(url, "timed out") from None
        except (OSError, http.client.HTTPException) as error:
            reason = str(error) or type(error).__name__
            raise TransientDownloadError(url, reason) from None
        finally:
            connection.close()
