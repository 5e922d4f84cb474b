"""Run inside a loopback-only network namespace (see test_iroh_seed.py): one store served by
an iroh seed and an HTTP seed; the same blob fetched over iroh, over HTTP and over both.

Prints one JSON object: the BLAKE3 of each result and the bytes each source sent.
Usage: python -m tests.integration.seeds.iroh_scenario STORE_DIR BLAKE3 LENGTH
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
from pathlib import Path

from catalog.address import blake3_hex, blake3_stream
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.iroh_seed import IrohClient, IrohSeedTransport
from node_runtime.fetch.iroh_send_buffer import is_installed
from node_runtime.fetch.seed_transport import BlobTransport
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.iroh_server import IrohSeed
from node_runtime.seed.store import SeedStore


def start_iroh_seed(store: SeedStore) -> tuple[IrohSeed, asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    seed = asyncio.run_coroutine_threadsafe(IrohSeed(store).start(), loop).result()
    asyncio.run_coroutine_threadsafe(seed.serve(), loop)
    return seed, loop


def fetch(transports: list[BlobTransport], blake3: str, length: int) -> dict[str, object]:
    fetcher = MultiSourceBlobFetcher(transports, range_bytes=1 << 20)
    with tempfile.TemporaryFile() as destination:
        report = fetcher.fetch(blake3, length, destination)
        destination.seek(0)
        digest = blake3_stream(destination)
    return {"blake3": digest, "bytes_by_source": report.bytes_by_source, "dropped": fetcher.dropped}


def main() -> None:
    store_dir, blake3, length = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = SeedStore(store_dir)
    iroh_seed, loop = start_iroh_seed(store)
    client = IrohClient("127.0.0.1:0")
    with HttpSeedServer(store) as http_seed:
        over_iroh = IrohSeedTransport(iroh_seed.seed_url, client)
        over_http = HttpSeedTransport(http_seed.url)
        results = {
            "seed_url": iroh_seed.seed_url,
            "send_buffer_patched": is_installed(),
            "iroh": fetch([over_iroh], blake3, length),
            "http": fetch([over_http], blake3, length),
            "both": fetch([over_iroh, over_http], blake3, length),
            "empty": fetch([over_iroh], blake3_hex(b""), 0),
        }
        try:
            fetch([over_iroh], "1" * 64, 10)
        except Exception as error:
            results["unknown_blob"] = str(error)
    client.close()
    asyncio.run_coroutine_threadsafe(iroh_seed.close(), loop).result()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
