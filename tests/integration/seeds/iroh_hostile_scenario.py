"""Run inside a loopback-only network namespace (see test_iroh_seed.py): iroh seeds that lie
about a range's length, read with :class:`IrohSeedTransport` directly.

A real iroh endpoint speaking ``archy/blobs/1`` whose answer header announces the
asked range and then sends fewer bytes (and finishes), or more.  Prints one JSON
object: for each kind of lie, the refusal the transport raised (or "accepted")
and how many bytes reached the sink.
Usage: python -m tests.integration.seeds.iroh_hostile_scenario
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from catalog.locations import iroh_seed_url
from node_runtime.fetch import seed_protocol
from node_runtime.fetch.iroh_endpoint import bind_iroh_endpoint
from node_runtime.fetch.iroh_seed import IrohClient, IrohSeedTransport
from node_runtime.fetch.seed_protocol import BlobAnswer

BLAKE3 = "ab" * 32
LENGTH = 3 * (1 << 20) + 17  # several pieces of the client's growing reads
LIES = {"short": LENGTH - 1000, "long": LENGTH + 5, "honest": LENGTH}


class LyingSeed:
    """Answers every request for the whole blob, then sends ``LIES[kind]`` bytes."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.endpoint: Any = None
        self.serving: asyncio.Future[None] | None = None

    async def start(self) -> str:
        self.endpoint = await bind_iroh_endpoint("127.0.0.1:0", False, [seed_protocol.ALPN])
        self.serving = asyncio.ensure_future(self._serve())
        addr = self.endpoint.addr()
        return iroh_seed_url(str(addr.id()), list(addr.direct_addresses()))

    async def _serve(self) -> None:
        while (incoming := await self.endpoint.accept_next()) is not None:
            connection = await (await incoming.accept()).connect()
            stream = await connection.accept_bi()
            await stream.recv().read_to_end(seed_protocol.MAX_REQUEST_BYTES)
            send = stream.send()
            await send.write_all(seed_protocol.encode_answer(BlobAnswer(LENGTH, 0, LENGTH)))
            await send.write_all(b"x" * LIES[self.kind])
            await send.finish()
            await connection.closed()


def read_from(kind: str, client: IrohClient, loop: asyncio.AbstractEventLoop) -> dict[str, Any]:
    url = asyncio.run_coroutine_threadsafe(LyingSeed(kind).start(), loop).result()
    received: list[int] = []
    try:
        IrohSeedTransport(url, client).read_range(
            BLAKE3, LENGTH, 0, LENGTH, lambda chunk: received.append(len(chunk))
        )
        outcome = "accepted"
    except Exception as error:
        outcome = f"{type(error).__name__}: {error}"
    return {"outcome": outcome, "sink_bytes": sum(received)}


def main() -> None:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    client = IrohClient("127.0.0.1:0")
    print(json.dumps({kind: read_from(kind, client, loop) for kind in LIES}))
    client.close()


if __name__ == "__main__":
    main()
