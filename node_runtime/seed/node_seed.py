"""A node as a swarm seed: serve its verified blob store over HTTP and iroh.

``archy-node daemon --seed`` runs the daemon loop inside
:func:`serve_node_store`; the blobs a node pulled (``<state root>/blobs``,
each checked against the signed metadata when it came in, and hashed again
by the seed before it is first served) become available to other nodes by
BLAKE3.  The node serves no metadata: its trusted copies are not kept under
their published names, and a node's origin is what other nodes ask first.

Public API: ``NodeSeed`` (``http_url``, ``iroh_url``, ``stats``),
``serve_node_store(paths, http_addr=None, iroh_addr=None, relays=False)``
(a context manager yielding the :class:`NodeSeed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from node_runtime.seed.addresses import parse_host_port
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.iroh_server import IrohSeed
from node_runtime.seed.store import SeedStats, SeedStore
from node_runtime.store.paths import NodePaths


@dataclass
class NodeSeed:
    http_url: str | None = None
    iroh_url: str | None = None
    stats: list[SeedStats] = field(default_factory=list)

    def urls(self) -> list[str]:
        return [url for url in (self.http_url, self.iroh_url) if url is not None]


class _IrohSeedThread:
    """An :class:`IrohSeed` on its own event loop thread (the daemon loop is synchronous)."""

    def __init__(self, store: SeedStore, bind_addr: str, relays: bool) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="node-iroh-seed", daemon=True
        )
        self._thread.start()
        try:
            self.seed = self._run(IrohSeed(store, bind_addr, relays).start())
        except BaseException:
            self._stop_loop()
            raise
        self._serving = asyncio.run_coroutine_threadsafe(self.seed.serve(), self._loop)

    def _run(self, work: object) -> IrohSeed:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()  # type: ignore[arg-type]

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.seed.close(), self._loop).result()
        self._serving.cancel()
        self._stop_loop()


@contextlib.contextmanager
def serve_node_store(
    paths: NodePaths,
    http_addr: str | None = None,
    iroh_addr: str | None = None,
    relays: bool = False,
) -> Iterator[NodeSeed]:
    """Serve ``paths.blobs_dir`` while the ``with`` block runs; stop both servers after it.

    ``http_addr``/``iroh_addr`` are ``HOST:PORT`` (None: that transport is off).
    Raises ValueError for a bad address and OSError when a port cannot be bound,
    before the block runs.
    """
    paths.blobs_dir.mkdir(parents=True, exist_ok=True)
    store = SeedStore(paths.blobs_dir)
    seed = NodeSeed()
    with contextlib.ExitStack() as stack:
        if http_addr is not None:
            host, port = parse_host_port(http_addr, "--seed-http")
            http_seed = stack.enter_context(HttpSeedServer(store, host, port))
            seed.http_url = http_seed.url
            seed.stats.append(http_seed.stats)
        if iroh_addr is not None:
            parse_host_port(iroh_addr, "--seed-iroh")
            iroh_seed = _IrohSeedThread(store, iroh_addr, relays)
            stack.callback(iroh_seed.close)
            seed.iroh_url = iroh_seed.seed.seed_url
            seed.stats.append(iroh_seed.seed.stats)
        yield seed
