"""Benchmark: a simulated fleet pulling a one-app update, with seeds against origin only.

Two parts, in one run:

1. **Fleet.**  A signed repository (the test repository factory) is published
   twice; version 2 changes one app's companion archive.  An origin (a small
   static HTTP server on 127.0.0.1 that counts the bytes it sends) serves it;
   ``--seeds`` HTTP seeds are filled with ``sync_seed_store`` from that
   origin (their sync traffic counts as origin egress).  ``--nodes``
   lightweight clients then take the update, ``--workers`` at a time: each
   reads timestamp → snapshot → targets from the origin (metadata always
   comes from the origin), then the new catalog and the changed archive by
   BLAKE3 — from a seed (node i asks seed i mod K, falling back to the
   origin) or from the origin — and checks both hashes.  (Clients do not
   verify signatures: that costs the same in both runs.)  Each server's
   uplink is simulated by a shared rate limit (``--link-mbytes`` MB/s per
   server, applied as the client reads), since loopback has no real
   bandwidth limit.  Printed: origin egress and time until 99 % of the fleet
   is updated, seeds against origin only, as ratios.

2. **Transfer.**  One blob (``--blob-mib``) fetched from one iroh seed
   (``archy/blobs/1`` over QUIC, the memmove send buffer installed) and from
   one HTTP seed, both on loopback inside a loopback-only network namespace
   (``unshare -n``; relays off): MiB/s of each over ``--repeats`` alternating
   rounds (best and median), CPU per MiB of client and seed, and the ratio
   iroh/HTTP.  The seeds run in a process of their own (``--same-process``:
   in the client's, as first measured).

Run: .venv/bin/python bench/seed_fleet.py [--nodes 1000] [--seeds 4]
     .venv/bin/python bench/seed_fleet.py --transfer [--repeats 7] [--same-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import blake3 as blake3_module
import httpx

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from node_runtime.seed.http_server import HttpSeedServer  # noqa: E402
from node_runtime.seed.store import SeedStore  # noqa: E402
from node_runtime.seed.sync import sync_seed_store  # noqa: E402

READ_BYTES = 64 * 1024


# --- part 1: the fleet ---


class SimulatedLink:
    """One server's uplink: chunks leave one after another at ``rate`` bytes per second."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._free_at = 0.0
        self._lock = threading.Lock()

    def send(self, count: int) -> None:
        with self._lock:
            now = time.monotonic()
            self._free_at = max(now, self._free_at) + count / self.rate
            done = self._free_at
        delay = done - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # the bench simulates a slow link; tests never sleep


class CountingOrigin(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, directory: Path) -> None:
        self.bytes_sent = 0
        self._lock = threading.Lock()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def copyfile(self, source: Any, outputfile: Any) -> None:
                while chunk := source.read(READ_BYTES):
                    outputfile.write(chunk)
                    with server._lock:
                        server.bytes_sent += len(chunk)

        super().__init__(("127.0.0.1", 0), partial(Handler, directory=str(directory)))
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@dataclass
class FleetRun:
    label: str
    origin_egress: int = 0
    seed_egress: int = 0
    finish_seconds: list[float] = field(default_factory=list)
    fallbacks: int = 0

    def time_to(self, share: float) -> float:
        ordered = sorted(self.finish_seconds)
        return ordered[max(0, int(len(ordered) * share + 0.999999) - 1)]


def _get(client: httpx.Client, url: str, link: SimulatedLink | None) -> bytes:
    parts: list[bytes] = []
    with client.stream("GET", url) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(READ_BYTES):
            if link is not None:
                link.send(len(chunk))
            parts.append(chunk)
    return b"".join(parts)


def update_one_node(
    index: int,
    client: httpx.Client,
    origin: str,
    origin_link: SimulatedLink,
    seeds: list[tuple[str, SimulatedLink]],
    changed: list[str],
) -> bool:
    """Take the update as a node does; True when a seed failed and the origin stepped in."""
    timestamp = json.loads(_get(client, f"{origin}/metadata/timestamp.json", origin_link))
    snapshot_version = timestamp["signed"]["meta"]["snapshot.json"]["version"]
    snapshot = json.loads(
        _get(client, f"{origin}/metadata/{snapshot_version}.snapshot.json", origin_link)
    )
    targets_version = snapshot["signed"]["meta"]["targets.json"]["version"]
    targets = json.loads(
        _get(client, f"{origin}/metadata/{targets_version}.targets.json", origin_link)
    )["signed"]["targets"]
    fell_back = False
    for name in changed:
        expected = targets[name]["hashes"]["blake3"]
        directory, separator, plain = name.rpartition("/")
        data = b""
        if seeds:
            seed_url, seed_link = seeds[index % len(seeds)]
            try:
                data = _get(client, f"{seed_url}/blobs/{expected}", seed_link)
            except httpx.HTTPError:
                data = b""
        if blake3_module.blake3(data).hexdigest() != expected:
            fell_back = bool(seeds)
            path = f"{directory}{separator}{expected}.{plain}"
            data = _get(client, f"{origin}/targets/{path}", origin_link)
        if blake3_module.blake3(data).hexdigest() != expected:
            raise RuntimeError(f"node {index}: {name} does not verify")
    return fell_back


def run_fleet(
    label: str,
    repository: Path,
    root: bytes,
    seed_count: int,
    nodes: int,
    workers: int,
    link_rate: float,
    changed: list[str],
    scratch: Path,
) -> FleetRun:
    run = FleetRun(label)
    origin_server = CountingOrigin(repository)
    seed_servers: list[HttpSeedServer] = []
    try:
        for number in range(seed_count):
            store = scratch / f"{label}-seed-{number}"
            sync_seed_store(store, origin_server.url, root)
            seed_servers.append(
                HttpSeedServer(SeedStore(store / "blobs", store / "metadata")).start()
            )
        origin_link = SimulatedLink(link_rate)
        seeds = [(server.url, SimulatedLink(link_rate)) for server in seed_servers]
        limits = httpx.Limits(max_connections=workers * 2, max_keepalive_connections=workers * 2)
        with httpx.Client(limits=limits, timeout=120.0) as client:
            started = time.monotonic()

            def node(index: int) -> bool:
                fell_back = update_one_node(
                    index, client, origin_server.url, origin_link, seeds, changed
                )
                run.finish_seconds.append(time.monotonic() - started)
                return fell_back

            with ThreadPoolExecutor(max_workers=workers) as pool:
                run.fallbacks = sum(pool.map(node, range(nodes)))
        run.origin_egress = origin_server.bytes_sent
        run.seed_egress = sum(server.stats.bytes_sent for server in seed_servers)
    finally:
        for server in seed_servers:
            server.close()
        origin_server.close()
    return run


def make_update(scratch: Path, archive_bytes: int) -> tuple[Path, bytes, list[str]]:
    """A repository at version 2 of one app; the names of the targets the update changed."""
    from tests.support.repos import make_repository, manifest_yaml

    randomness = random.Random(7)
    repository = make_repository(
        scratch / "origin",
        {"demo": manifest_yaml("demo", host_port=18095)},
        companions={"demo": {"demo-ui": randomness.randbytes(archive_bytes)}},
    )
    repository.publish(
        {"demo": manifest_yaml("demo", version="2.0.0", host_port=18095)},
        companions={"demo": {"demo-ui": randomness.randbytes(archive_bytes)}},
    )
    changed = ["app-catalog.json", "companions/demo-ui.oci.tar"]
    return repository.directory, repository.root_path.read_bytes(), changed


# --- part 2: one transfer, iroh against HTTP, inside unshare -n ---


def serve_seeds(directory: Path) -> None:
    """Runs in its own process: an iroh and an HTTP seed over ``directory`` until stdin closes.

    Prints one JSON line ``{"iroh": url, "http": url}`` once both listen.
    """
    from node_runtime.seed.iroh_server import IrohSeed

    store = SeedStore(directory)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    iroh_seed = asyncio.run_coroutine_threadsafe(IrohSeed(store).start(), loop).result()
    asyncio.run_coroutine_threadsafe(iroh_seed.serve(), loop)
    with HttpSeedServer(store) as http_seed:
        print(json.dumps({"iroh": iroh_seed.seed_url, "http": http_seed.url}), flush=True)
        sys.stdin.read()
    asyncio.run_coroutine_threadsafe(iroh_seed.close(), loop).result()


def measure_transfer(blob_mib: int, repeats: int, same_process: bool) -> dict[str, Any]:
    """Runs inside the loopback-only namespace: MiB/s over iroh and over HTTP, best of N.

    The rounds alternate (HTTP, iroh, HTTP, iroh, …) so that a burst of load
    from elsewhere on the machine hits both alike.  The seeds run in a process
    of their own (as on a real network: the seed is another machine), or with
    ``same_process`` in the client's process (the layout of the first
    measurement: one interpreter, one GIL and one iroh runtime for both ends).
    Also reported: the client process's CPU seconds per MiB.
    """
    from node_runtime.fetch.http_seed import HttpSeedTransport
    from node_runtime.fetch.iroh_seed import IrohClient, IrohSeedTransport
    from node_runtime.fetch.seed_transport import BlobTransport
    from node_runtime.fetch.swarm import MultiSourceBlobFetcher

    data = random.Random(11).randbytes(blob_mib << 20)
    blake3 = blake3_module.blake3(data).hexdigest()
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        (Path(directory) / blake3).write_bytes(data)
        seed_pid = os.getpid()  # same process: its CPU is already in process_time()
        if same_process:
            seeds = stack.enter_context(_seeds_in_this_process(Path(directory)))
        else:
            server = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve-seeds", directory],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            stack.callback(server.wait)
            stack.callback(server.stdin.close)  # type: ignore[union-attr]
            seeds = json.loads(server.stdout.readline())  # type: ignore[union-attr]
            seed_pid = server.pid
        client = IrohClient("127.0.0.1:0")
        stack.callback(client.close)
        transports: dict[str, BlobTransport] = {
            "http": HttpSeedTransport(seeds["http"]),
            "iroh": IrohSeedTransport(seeds["iroh"], client),
        }
        rates: dict[str, list[float]] = {name: [] for name in transports}
        cpu: dict[str, list[float]] = {name: [] for name in transports}
        seed_cpus: dict[str, list[float]] = {name: [] for name in transports}
        for _ in range(repeats):
            for name, transport in transports.items():
                fetcher = MultiSourceBlobFetcher([transport])
                with tempfile.TemporaryFile() as destination:
                    seed_cpu = 0.0 if same_process else _cpu_seconds(seed_pid)
                    started, cpu_started = time.perf_counter(), time.process_time()
                    fetcher.fetch(blake3, len(data), destination)
                    rates[name].append(blob_mib / (time.perf_counter() - started))
                    cpu[name].append((time.process_time() - cpu_started) / blob_mib)
                    if not same_process:
                        seed_cpu = _cpu_seconds(seed_pid) - seed_cpu
                    seed_cpus[name].append(seed_cpu / blob_mib)
    return {
        name: {
            "best_mib_s": max(rates[name]),
            "median_mib_s": statistics.median(rates[name]),
            "client_cpu_ms_per_mib": 1000 * min(cpu[name]),
            "seed_cpu_ms_per_mib": 1000 * min(seed_cpus[name]),
        }
        for name in transports
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _seeds_in_this_process(directory: Path) -> Iterator[dict[str, str]]:
    from node_runtime.seed.iroh_server import IrohSeed

    store = SeedStore(directory)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    iroh_seed = asyncio.run_coroutine_threadsafe(IrohSeed(store).start(), loop).result()
    asyncio.run_coroutine_threadsafe(iroh_seed.serve(), loop)
    try:
        with HttpSeedServer(store) as http_seed:
            yield {"iroh": iroh_seed.seed_url, "http": http_seed.url}
    finally:
        asyncio.run_coroutine_threadsafe(iroh_seed.close(), loop).result()


def transfer_in_namespace(blob_mib: int, repeats: int, same_process: bool) -> dict[str, Any] | str:
    if shutil.which("unshare") is None:
        return "skipped: needs unshare (util-linux)"
    command = " ".join(
        [
            "ip link set lo up && exec",
            sys.executable,
            str(Path(__file__).resolve()),
            "--transfer-only",
            f"--blob-mib {blob_mib}",
            f"--repeats {repeats}",
            *(["--same-process"] if same_process else []),
        ]
    )
    finished = subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0:
        return f"failed: {finished.stderr.strip()[-500:]}"
    answer: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return answer


# --- report ---


def megabytes(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--archive-kib", type=int, default=64)
    parser.add_argument("--link-mbytes", type=float, default=2.0, help="MB/s per server uplink")
    parser.add_argument("--blob-mib", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="transfer part: run the seeds in the client's process (the first measurement's way)",
    )
    parser.add_argument(
        "--transfer", action="store_true", help="run only part 2 (the iroh/HTTP transfer)"
    )
    parser.add_argument("--transfer-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-seeds", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve_seeds is not None:
        serve_seeds(options.serve_seeds)
        return
    if options.transfer_only:
        result = measure_transfer(options.blob_mib, options.repeats, options.same_process)
        print(json.dumps(result))
        return
    if options.transfer:
        report_transfer(options.blob_mib, options.repeats, options.same_process)
        return

    with tempfile.TemporaryDirectory() as directory:
        scratch = Path(directory)
        repository, root, changed = make_update(scratch, options.archive_kib * 1024)
        common = (options.nodes, options.workers, options.link_mbytes * 1e6, changed, scratch)
        origin_only = run_fleet("origin-only", repository, root, 0, *common)
        with_seeds = run_fleet("with-seeds", repository, root, options.seeds, *common)

    print(
        f"fleet: {options.nodes} nodes ({options.workers} at a time), one-app update "
        f"({options.archive_kib} KiB archive + catalog), {options.link_mbytes} MB/s per server"
    )
    for run in (origin_only, with_seeds):
        print(
            f"  {run.label:12} origin egress {megabytes(run.origin_egress):>12}  "
            f"seed egress {megabytes(run.seed_egress):>12}  "
            f"50% at {run.time_to(0.5):6.2f} s  99% at {run.time_to(0.99):6.2f} s  "
            f"fallbacks {run.fallbacks}"
        )
    print(
        f"  ratios (with {options.seeds} seeds / origin only): origin egress "
        f"{with_seeds.origin_egress / origin_only.origin_egress:.3f}, time to 99% "
        f"{with_seeds.time_to(0.99) / origin_only.time_to(0.99):.3f}"
    )
    report_transfer(options.blob_mib, options.repeats, options.same_process)


def report_transfer(blob_mib: int, repeats: int, same_process: bool) -> None:
    transfer = transfer_in_namespace(blob_mib, repeats, same_process)
    if isinstance(transfer, str):
        print(f"transfer: {transfer}")
        return
    iroh, http = transfer["iroh"], transfer["http"]
    where = "in the client's process" if same_process else "in a process of their own"
    print(
        f"transfer of one {blob_mib} MiB blob on loopback (unshare -n), seeds {where}, "
        f"{repeats} alternating rounds; load average {os.getloadavg()[0]:.1f}"
    )
    for name, figures in (("iroh", iroh), ("HTTP", http)):
        cpu = f"client {figures['client_cpu_ms_per_mib']:5.1f} ms, "
        cpu += (
            "seed counted with it"
            if same_process
            else f"seed {figures['seed_cpu_ms_per_mib']:5.1f} ms"
        )
        print(
            f"  {name:5} best {figures['best_mib_s']:6.0f} MiB/s  median "
            f"{figures['median_mib_s']:6.0f} MiB/s  CPU per MiB: {cpu}"
        )
    print(
        f"  ratio iroh/HTTP: best {iroh['best_mib_s'] / http['best_mib_s']:.2f}, "
        f"median {iroh['median_mib_s'] / http['median_mib_s']:.2f}"
    )


if __name__ == "__main__":
    main()
