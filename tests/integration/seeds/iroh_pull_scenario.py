"""Run inside a loopback-only network namespace (see test_pull_seeds.py): an iroh seed serves
BLOBS_DIR; a node initialised with only that iroh:// seed in its config runs the default pull
of ORIGIN (which has lost a blob the seed holds) with ``demo`` installed.

Then that node serves its own store (``serve_node_store``, iroh only) and a second node, whose
config names only the first node, pulls the same way.

Prints one JSON object: the seeds' URLs, the bytes they sent and the pulled catalogs' BLAKE3.
Usage: python -m tests.integration.seeds.iroh_pull_scenario BLOBS_DIR ROOT_JSON ORIGIN NODE_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

from node_runtime.fetch.pull import pull
from node_runtime.seed.iroh_server import IrohSeed
from node_runtime.seed.node_seed import serve_node_store
from node_runtime.seed.store import SeedStore
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths


def node_with_seed(node_dir: Path, root: bytes, origin: str, seed_url: str) -> NodePaths:
    paths = NodePaths(node_dir)
    initialise_node(paths, root, origin, [seed_url], data_root=node_dir / "data")
    NodeState(paths).save_installed(InstalledApps().with_app("demo"))
    return paths


def main() -> None:
    blobs_dir, root_file, origin, node_dir = sys.argv[1:5]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    seed = asyncio.run_coroutine_threadsafe(IrohSeed(SeedStore(Path(blobs_dir))).start(), loop)
    iroh_seed = seed.result()
    asyncio.run_coroutine_threadsafe(iroh_seed.serve(), loop)
    root = Path(root_file).read_bytes()
    paths = node_with_seed(Path(node_dir), root, origin, iroh_seed.seed_url)
    result = pull(paths)
    asyncio.run_coroutine_threadsafe(iroh_seed.close(), loop).result()
    with serve_node_store(paths, iroh_addr="127.0.0.1:0") as node_seed:
        assert node_seed.iroh_url is not None
        second = node_with_seed(Path(node_dir + "-second"), root, origin, node_seed.iroh_url)
        second_result = pull(second)
        node_bytes_sent = node_seed.stats[0].bytes_sent
    outcome = {
        "seed": iroh_seed.seed_url,
        "seed_bytes_sent": iroh_seed.stats.bytes_sent,
        "catalog": result.pointer.blake3,
        "node_seed": node_seed.iroh_url,
        "node_seed_bytes_sent": node_bytes_sent,
        "second_catalog": second_result.pointer.blake3,
    }
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
