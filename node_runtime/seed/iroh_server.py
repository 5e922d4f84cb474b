"""The iroh seed: ``archy/blobs/1`` on an iroh endpoint, one request per bi-directional stream.

The wire format is :mod:`node_runtime.fetch.seed_protocol`; blobs come from
a :class:`~node_runtime.seed.store.SeedStore` (hashed before they are first
served).  A peer that goes away or breaks the protocol ends only its own
connection or stream.

A range is sent in writes of :data:`IROH_SEND_BYTES` (1 MiB): each
``write_all`` is a hop into iroh's Rust thread and back, and QUIC's own flow
control (not the size of a write) bounds what is in flight, so the HTTP seed's
256 KiB (sized for its per-write deadline) would only add hops here.

Public API: ``IrohSeed(store, bind_addr="127.0.0.1:0", relays=False)``
(``async start()``, ``seed_url``, ``stats``, ``async serve()``, ``async close()``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from catalog.locations import iroh_seed_url
from node_runtime.fetch import seed_protocol
from node_runtime.fetch.iroh_endpoint import bind_iroh_endpoint
from node_runtime.fetch.seed_protocol import (
    BlobAnswer,
    ProtocolError,
    RangeNotSatisfiableError,
    Refusal,
)
from node_runtime.seed.store import BlobNotServedError, SeedStats, SeedStore

IROH_SEND_BYTES = 1 << 20


class IrohSeed:
    """Serves ``archy/blobs/1`` on an iroh endpoint; one request per bi-directional stream."""

    def __init__(
        self, store: SeedStore, bind_addr: str = "127.0.0.1:0", relays: bool = False
    ) -> None:
        self.store = store
        self.stats = SeedStats()
        self._bind_addr = bind_addr
        self._relays = relays
        self._endpoint: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> IrohSeed:
        self._endpoint = await bind_iroh_endpoint(
            self._bind_addr, self._relays, [seed_protocol.ALPN]
        )
        return self

    @property
    def seed_url(self) -> str:
        addr = self._endpoint.addr()
        return iroh_seed_url(str(addr.id()), list(addr.direct_addresses()))

    async def serve(self) -> None:
        """Accept connections until :meth:`close`."""
        while True:
            incoming = await self._endpoint.accept_next()
            if incoming is None:
                return
            self._spawn(self._connection(incoming))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, incoming: Any) -> None:
        with contextlib.suppress(Exception):  # a peer that goes away ends only its connection
            accepting = await incoming.accept()
            connection = await accepting.connect()
            while True:
                stream = await connection.accept_bi()
                self._spawn(self._request(stream))

    async def _request(self, stream: Any) -> None:
        send = stream.send()
        sent = 0
        with contextlib.suppress(Exception):
            try:
                raw = await stream.recv().read_to_end(seed_protocol.MAX_REQUEST_BYTES + 1)
                request = seed_protocol.decode_request(raw)
            except ProtocolError as error:
                await _refuse(send, Refusal("bad-request", str(error)))
                return
            try:
                blob, total = await asyncio.to_thread(self.store.open_blob, request.blake3)
            except BlobNotServedError as error:
                await _refuse(send, Refusal("not-found", str(error)))
                return
            with blob:
                try:
                    offset, count = seed_protocol.resolve_range(
                        total, request.offset, request.count
                    )
                except RangeNotSatisfiableError as error:
                    await _refuse(send, Refusal("bad-range", str(error)))
                    return
                await send.write_all(seed_protocol.encode_answer(BlobAnswer(total, offset, count)))
                blob.seek(offset)
                while sent < count:
                    chunk = blob.read(min(IROH_SEND_BYTES, count - sent))
                    if not chunk:
                        break
                    await send.write_all(chunk)
                    sent += len(chunk)
            await send.finish()
        self.stats.record(sent)  # a refused request returns above, uncounted (as before)

    async def close(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.close()
        for task in list(self._tasks):
            task.cancel()


async def _refuse(send: Any, refusal: Refusal) -> None:
    """Answer a stream with one refusal line and finish it."""
    await send.write_all(seed_protocol.encode_refusal(refusal))
    await send.finish()
