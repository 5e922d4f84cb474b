"""An HTTP swarm seed as a :class:`~node_runtime.fetch.seed_transport.BlobTransport`.

``GET <seed>/blobs/<blake3>`` with a ``Range`` header (the server side is
:mod:`node_runtime.seed.http_server`): ``206`` (or ``200`` for the whole
blob) with exactly the bytes asked for, or a refusal — ``404``/``416`` (the
seed has no such blob), ``503`` (busy: ask the others) — and anything else,
a stall, or more or fewer bytes than announced is the seed's fault.  The
seed's ``/metadata/`` copy is where the pull may read metadata when the
origin cannot be reached.

Public API: ``HttpSeedTransport(seed_url, stall_seconds=…, client=None)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from node_runtime.fetch.seed_transport import (
    DEFAULT_STALL_SECONDS,
    BlobTransport,
    SeedBusyError,
    SeedFaultError,
    SeedMissingBlobError,
    Sink,
    seed_root_url,
)

if TYPE_CHECKING:  # imported when a seed is used: `archy-node status` and `list` load no httpx
    import httpx


class HttpSeedTransport(BlobTransport):
    """``GET <seed>/blobs/<blake3>`` with a ``Range`` header (see :mod:`seed_server`)."""

    def __init__(
        self,
        seed_url: str,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        client: httpx.Client | None = None,
    ) -> None:
        import httpx

        self.root = seed_root_url(seed_url)
        self.name = self.root
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(stall_seconds, connect=stall_seconds),
            follow_redirects=False,
            headers={"User-Agent": "archy-node"},
        )

    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        import httpx

        url = f"{self.root}/blobs/{blake3}"
        headers = {"Range": f"bytes={offset}-{offset + count - 1}"}
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 404:
                    raise SeedMissingBlobError(self.name, f"has no blob {blake3[:12]}…")
                if status == 416:  # its blob has another length: not this blob
                    raise SeedMissingBlobError(self.name, f"has no {total_length}-byte blob")
                if status == 503:  # at its connection cap: ask the others
                    raise SeedBusyError(self.name, "is busy (HTTP 503)")
                if status == 200 and offset == 0 and count == total_length:
                    limit = total_length
                elif status == 206:
                    limit = count
                else:
                    raise SeedFaultError(self.name, f"answered a range request with HTTP {status}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) != limit:
                    raise SeedFaultError(
                        self.name, f"announced {declared} bytes where {limit} were asked for"
                    )
                received = 0
                for chunk in response.iter_bytes():  # as they come: a sink may stop it
                    received += len(chunk)
                    if received > count:
                        raise SeedFaultError(self.name, f"sent more than the {count} bytes asked")
                    sink(chunk)
                if received < count:
                    raise SeedFaultError(self.name, f"sent {received} of {count} bytes")
        except httpx.TimeoutException:
            raise SeedFaultError(self.name, "stalled (no bytes within the stall limit)") from None
        except httpx.HTTPError as error:
            raise SeedFaultError(self.name, f"{type(error).__name__}: {error}") from None

    def metadata_url(self, name: str) -> str | None:
        return f"{self.root}/metadata/{name}"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
