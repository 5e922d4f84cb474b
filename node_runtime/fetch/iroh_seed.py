"""An iroh swarm seed as a :class:`~node_runtime.fetch.seed_transport.BlobTransport`.

``archy/blobs/1`` (:mod:`node_runtime.fetch.seed_protocol`) over an iroh
connection: one bi-directional stream per range.  :class:`IrohClient` is the
one client endpoint (with its own event loop thread) every iroh seed of a
pull shares; connections are reused while they are open.

Public API: ``IrohClient(bind_addr="0.0.0.0:0", relays=False)`` (``run``,
``connection``, ``close``), ``IrohSeedTransport(seed_url, client,
stall_seconds=…)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from catalog.locations import parse_iroh_seed_url
from node_runtime.fetch import seed_protocol
from node_runtime.fetch.fetcher import CHUNK_SIZE
from node_runtime.fetch.iroh_endpoint import bind_iroh_endpoint
from node_runtime.fetch.seed_protocol import BlobAnswer, BlobRequest, ProtocolError, Refusal
from node_runtime.fetch.seed_transport import (
    DEFAULT_STALL_SECONDS,
    BlobTransport,
    RangeCancelledError,
    SeedError,
    SeedFaultError,
    SeedMissingBlobError,
    Sink,
)

T = TypeVar("T")


class IrohClient:
    """One client iroh endpoint with its own event loop thread, shared by every iroh seed."""

    def __init__(self, bind_addr: str = "0.0.0.0:0", relays: bool = False) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="iroh-client", daemon=True
        )
        self._thread.start()
        self._connections: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None
        self.endpoint: Any = self.run(bind_iroh_endpoint(bind_addr, relays, []))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def connection(self, seed_url: str) -> Any:
        import iroh

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            known = self._connections.get(seed_url)
            if known is not None and known.close_reason() is None:
                return known
            endpoint_id, addresses = parse_iroh_seed_url(seed_url)
            target = iroh.EndpointAddr(iroh.EndpointId.from_string(endpoint_id), None, addresses)
            connection = await self.endpoint.connect(target, seed_protocol.ALPN)
            self._connections[seed_url] = connection
            return connection

    def close(self) -> None:
        async def shut() -> None:
            for connection in self._connections.values():
                with contextlib.suppress(Exception):
                    connection.close(0, b"done")
            await self.endpoint.close()

        with contextlib.suppress(Exception):
            self.run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class IrohSeedTransport(BlobTransport):
    """``archy/blobs/1`` over an iroh connection (one bi-directional stream per range)."""

    def __init__(
        self, seed_url: str, client: IrohClient, stall_seconds: float = DEFAULT_STALL_SECONDS
    ) -> None:
        parse_iroh_seed_url(seed_url)
        self.name = seed_url
        self._client = client
        self._stall_seconds = stall_seconds

    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        try:
            self._client.run(self._read(blake3, offset, count, sink))
        except (SeedError, RangeCancelledError):
            raise
        except TimeoutError:
            raise SeedFaultError(self.name, "stalled (no bytes within the stall limit)") from None
        except ProtocolError as error:
            raise SeedFaultError(self.name, f"broke archy/blobs/1: {error}") from None
        except Exception as error:  # the binding raises its own IrohError family
            raise SeedFaultError(self.name, f"{type(error).__name__}: {error}") from None

    async def _read(self, blake3: str, offset: int, count: int, sink: Sink) -> None:
        connection = await asyncio.wait_for(self._client.connection(self.name), self._stall_seconds)
        stream = await asyncio.wait_for(connection.open_bi(), self._stall_seconds)
        send, receive = stream.send(), stream.recv()
        await send.write_all(seed_protocol.encode_request(BlobRequest(blake3, offset, count)))
        await send.finish()
        buffer = b""
        while (parts := seed_protocol.split_header(buffer)) is None:
            more = await asyncio.wait_for(receive.read(CHUNK_SIZE), self._stall_seconds)
            if not more:
                raise SeedFaultError(self.name, "closed the stream before answering")
            buffer += more
        header, body = parts
        answer = seed_protocol.decode_response_header(header)
        if isinstance(answer, Refusal):
            if answer.code in ("not-found", "bad-range"):
                raise SeedMissingBlobError(self.name, f"has no blob {blake3[:12]}…")
            raise SeedFaultError(self.name, f"refused: {answer.code} {answer.message}")
        if answer != BlobAnswer(answer.total_length, offset, count):
            raise SeedFaultError(
                self.name, f"answered {answer.offset}+{answer.count} for {offset}+{count}"
            )
        received = 0
        while True:
            if len(body) > count - received:
                raise SeedFaultError(self.name, f"sent more than the {count} bytes announced")
            if body:
                sink(body)
                received += len(body)
            body = await asyncio.wait_for(receive.read(CHUNK_SIZE), self._stall_seconds)
            if not body:
                break
        if received < count:
            raise SeedFaultError(self.name, f"sent {received} of {count} bytes")
