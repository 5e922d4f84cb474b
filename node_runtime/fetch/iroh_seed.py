"""An iroh swarm seed as a :class:`~node_runtime.fetch.seed_transport.BlobTransport`.

``archy/blobs/1`` (:mod:`node_runtime.fetch.seed_protocol`) over an iroh
connection: one bi-directional stream per range.  :class:`IrohClient` is the
one client endpoint (with its own event loop thread) every iroh seed of a
pull shares; connections are reused while they are open.

Throughput: the body is read with ``read_exact`` in pieces that grow (64 KiB
up to 1 MiB, :class:`PieceSize`) while each one arrives well within the stall
limit and shrink when one is slow, so a seed that sends nothing for the stall
limit is still a stalled seed, and a fast one costs 64 calls into the binding
for 64 MiB instead of about a thousand.  (The binding still wakes the event
loop once per batch of packets; see docs/seed-protocol.md for what is left.)

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

SMALLEST_PIECE = 64 * 1024
LARGEST_PIECE = 1 << 20


class PieceSize:
    """How many body bytes to ask the binding for at once, adapted to how fast they come.

    A piece that took under an eighth of the stall limit doubles the next
    one (up to :data:`LARGEST_PIECE`); one that took over a quarter halves it
    (down to :data:`SMALLEST_PIECE`), so a slow but live seed never has to
    deliver more than a small piece within the stall limit.
    """

    def __init__(self, stall_seconds: float) -> None:
        self.bytes = SMALLEST_PIECE
        self._fast = stall_seconds / 8
        self._slow = stall_seconds / 4

    def next(self, remaining: int) -> int:
        return min(self.bytes, remaining)

    def took(self, seconds: float) -> None:
        if seconds < self._fast:
            self.bytes = min(self.bytes * 2, LARGEST_PIECE)
        elif seconds > self._slow:
            self.bytes = max(self.bytes // 2, SMALLEST_PIECE)


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
        if len(body) > count:
            raise SeedFaultError(self.name, f"sent more than the {count} bytes announced")
        if body:
            sink(body)
        received = len(body)
        pieces = PieceSize(self._stall_seconds)
        loop = asyncio.get_running_loop()
        while received < count:
            size = pieces.next(count - received)
            started = loop.time()
            try:
                body = await asyncio.wait_for(receive.read_exact(size), self._stall_seconds)
            except TimeoutError:
                raise
            except Exception as error:  # the stream ended (or broke) inside this piece
                reason = f" ({error})" if str(error) else ""
                raise SeedFaultError(
                    self.name, f"ended the stream before the {count} bytes announced{reason}"
                ) from None
            pieces.took(loop.time() - started)
            sink(body)
            received += len(body)
        extra = await asyncio.wait_for(receive.read(1), self._stall_seconds)
        if extra:
            raise SeedFaultError(self.name, f"sent more than the {count} bytes announced")
