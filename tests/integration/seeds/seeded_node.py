"""A node set up for seed tests: initialised against a repository, with ``demo`` installed,
pulling through the default fetcher (origin for metadata, seeds from config and catalog)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from node_runtime.fetch.http import OriginFetcher
from node_runtime.fetch.pull import PullResult, default_sources, pull
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.sources import Sources
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_config import initialise_node, load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle


def seeded_node(
    tmp_path: Path, repository: RepositoryHandle, origin: str, seeds: Sequence[str] = ()
) -> NodePaths:
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths, repository.root_path.read_bytes(), origin, seeds, data_root=tmp_path / "data"
    )
    NodeState(paths).save_installed(InstalledApps().with_app("demo"))
    return paths


def pull_once_without_retries(
    paths: NodePaths, report: Callable[[str], None] | None = None
) -> tuple[PullResult, Sources]:
    """The default pull's fetcher, with one attempt per origin request (the origin is down)."""
    with OriginFetcher(retry=RetryPolicy(attempts=1)) as origin:
        fetcher = default_sources(load_config(paths), origin)
        try:
            return pull(paths, fetcher=fetcher, report=report), fetcher
        finally:
            if fetcher.swarm is not None:
                fetcher.swarm.close()


def stored_companion(paths: NodePaths, repository: RepositoryHandle) -> bytes:
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    return BlobStore(paths.blobs_dir).read_verified(archive.blake3)
