"""Seeds under attack, on loopback: what a slow seed and a crowd of idle clients cost.

    .venv/bin/python bench/seed_attacks.py                      # 20 MiB, 1,000 connections
    .venv/bin/python bench/seed_attacks.py --blob-mib 50 --connections 2000

1. A 20 MiB blob fetched by :class:`MultiSourceBlobFetcher` from one honest HTTP seed
   (the baseline), then from the honest seed beside a seed that trickles one byte a
   second (the fault).  Reports both times, the extra seconds and the ratio (goal: under
   10 s extra for 20 MiB), and why the slow seed was dropped.
2. A 1 MiB blob fetched by a normal client from an unloaded HTTP seed (the baseline),
   then while 1,000 idle or half-sent connections are open on it.  Reports the median
   times, their ratio, and the server's threads against its bound.

Not a test: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
if str(REPOSITORY_ROOT) not in sys.path:
    sys.path.insert(0, str(REPOSITORY_ROOT))

from catalog.address import blake3_hex  # noqa: E402
from node_runtime.fetch.http_seed import HttpSeedTransport  # noqa: E402
from node_runtime.fetch.swarm import MultiSourceBlobFetcher  # noqa: E402
from node_runtime.seed.http_server import HttpSeedServer  # noqa: E402
from node_runtime.seed.store import SeedStore  # noqa: E402
from tests.integration.seeds.misbehaving_seeds import MisbehavingSeed  # noqa: E402


def fetch_seconds(
    seeds: list[str], blake3: str, length: int, scratch: Path
) -> tuple[float, dict[str, str]]:
    fetcher = MultiSourceBlobFetcher([HttpSeedTransport(url, stall_seconds=120) for url in seeds])
    started = time.monotonic()
    with scratch.open("w+b") as destination:
        fetcher.fetch(blake3, length, destination)
    seconds = time.monotonic() - started
    fetcher.close()
    assert blake3_hex(scratch.read_bytes()) == blake3
    return seconds, dict(fetcher.dropped)


def slow_seed(blobs: Path, blake3: str, length: int, scratch: Path, rounds: int) -> None:
    with HttpSeedServer(SeedStore(blobs)) as honest:
        baseline = statistics.median(
            fetch_seconds([honest.url], blake3, length, scratch)[0] for _ in range(rounds)
        )
        with MisbehavingSeed(blobs, "trickle") as trickler:
            attacked, dropped = fetch_seconds([trickler.url, honest.url], blake3, length, scratch)
    mib = length / (1 << 20)
    print(f"slow seed, {mib:g} MiB blob:")
    print(f"  honest seed alone (median of {rounds}): {baseline:.2f} s")
    print(f"  honest + 1 byte/s seed:                 {attacked:.2f} s")
    print(f"  extra: {attacked - baseline:.2f} s   ratio: {attacked / baseline:.1f}x")
    for name, reason in dropped.items():
        print(f"  dropped {name}: {reason}")


def get_seconds(url: str, expected: bytes) -> float:
    started = time.monotonic()
    answer = httpx.get(url, timeout=60)
    seconds = time.monotonic() - started
    assert answer.status_code == 200 and answer.content == expected
    return seconds


def crowd(blobs: Path, blob: bytes, connections: int, rounds: int) -> None:
    url_path = f"/blobs/{blake3_hex(blob)}"
    threads_before = threading.active_count()
    with HttpSeedServer(SeedStore(blobs)) as server:
        url = f"{server.url}{url_path}"
        baseline = statistics.median(get_seconds(url, blob) for _ in range(rounds))
        port = server.http.server_address[1]
        opened: list[socket.socket] = []
        half_sent = f"GET {url_path} HTTP/1.1\r\nHost: x\r\n".encode()
        try:
            for index in range(connections):
                connection = socket.create_connection(("127.0.0.1", port))
                if index % 2:
                    connection.sendall(half_sent)
                opened.append(connection)
            pause = threading.Event()
            while server.http.waiting_for_heads < connections:
                pause.wait(0.01)
            loaded = statistics.median(get_seconds(url, blob) for _ in range(rounds))
            threads = threading.active_count() - threads_before
            still_open = server.http.waiting_for_heads
        finally:
            for connection in opened:
                connection.close()
    print(f"HTTP seed, {len(blob) >> 20} MiB blob, {connections} idle/half-sent connections:")
    print(f"  unloaded (median of {rounds}): {baseline * 1000:.1f} ms")
    print(
        f"  loaded   (median of {rounds}): {loaded * 1000:.1f} ms   ratio: {loaded / baseline:.1f}x"
    )
    print(
        f"  server threads: {threads} (bound {server.http.thread_bound}); "
        f"connections still waiting: {still_open}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blob-mib", type=int, default=20)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        blobs = Path(work) / "blobs"
        blobs.mkdir()
        big = random.Random(1).randbytes(options.blob_mib << 20)
        (blobs / blake3_hex(big)).write_bytes(big)
        small = random.Random(2).randbytes(1 << 20)
        (blobs / blake3_hex(small)).write_bytes(small)
        slow_seed(blobs, blake3_hex(big), len(big), Path(work) / "scratch", options.rounds)
        crowd(blobs, small, options.connections, options.rounds * 4)


if __name__ == "__main__":
    main()
