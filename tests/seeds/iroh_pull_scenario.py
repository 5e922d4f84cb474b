"""Run inside a loopback-only network namespace (see test_pull_seeds.py): an iroh seed serves
BLOBS_DIR; a node initialised with only that iroh:// seed in its config runs the default pull
of ORIGIN (which has lost a blob the seed holds) with ``demo`` installed.

Prints one JSON object: the seed's URL, the bytes it sent and the pulled catalog's BLAKE3.
Usage: python -m tests.seeds.iroh_pull_scenario BLOBS_DIR ROOT_JSON ORIGIN NODE_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

from node_runtime.node_config import initialise_node
from node_runtime.node_state import InstalledApps, NodePaths, NodeState
from node_runtime.pull import pull
from node_runtime.seed_server import IrohSeed, SeedStore


def main() -> None:
    blobs_dir, root_file, origin, node_dir = sys.argv[1:5]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    seed = asyncio.run_coroutine_threadsafe(IrohSeed(SeedStore(Path(blobs_dir))).start(), loop)
    iroh_seed = seed.result()
    asyncio.run_coroutine_threadsafe(iroh_seed.serve(), loop)
    paths = NodePaths(Path(node_dir))
    initialise_node(
        paths,
        Path(root_file).read_bytes(),
        origin,
        [iroh_seed.seed_url],
        data_root=Path(node_dir) / "data",
    )
    NodeState(paths).save_installed(InstalledApps().with_app("demo"))
    result = pull(paths)
    asyncio.run_coroutine_threadsafe(iroh_seed.close(), loop).result()
    outcome = {
        "seed": iroh_seed.seed_url,
        "seed_bytes_sent": iroh_seed.stats.bytes_sent,
        "catalog": result.pointer.blake3,
    }
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
