"""A seed's metadata copy answers conditional GETs: a strong ETag (the copy's BLAKE3), and
``304`` with no body when ``If-None-Match`` names it.  A node whose origin is down and that
polls a seed with nothing new moves no metadata body, and still checks what it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from catalog.address import blake3_hex
from node_runtime.fetch.conditional_cache import ConditionalCache
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.pull import PullError, PullResult, pull
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.sources import Sources
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.node_config import initialise_node
from node_runtime.store.paths import NodePaths
from tests.integration.seeds.misbehaving_seeds import seed_store_from_repository
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

pytestmark = pytest.mark.integration

ORIGIN_DOWN = "http://127.0.0.1:9/registry"  # the discard port: nothing listens on loopback


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    return make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo", host_port=18091)})


@pytest.fixture
def seed(repository: RepositoryHandle, tmp_path: Path) -> Iterator[HttpSeedServer]:
    store_dir = seed_store_from_repository(repository.directory, tmp_path / "seed-store")
    with HttpSeedServer(SeedStore(store_dir / "blobs", store_dir / "metadata")) as server:
        yield server


def timestamp_url(seed: HttpSeedServer) -> str:
    return f"{seed.url}/metadata/timestamp.json"


def test_the_copy_carries_its_blake3_as_a_strong_etag_and_a_match_is_a_bodyless_304(
    seed: HttpSeedServer, repository: RepositoryHandle
) -> None:
    whole = httpx.get(timestamp_url(seed))
    held = repository.path("metadata/timestamp.json").read_bytes()
    assert whole.status_code == 200 and whole.content == held
    etag = whole.headers["etag"]
    assert etag == f'"{blake3_hex(held)}"'

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = httpx.get(timestamp_url(seed), headers={"If-None-Match": header})
        assert (again.status_code, again.content) == (304, b""), header
        assert again.headers["etag"] == etag
    head = httpx.head(timestamp_url(seed), headers={"If-None-Match": etag})
    assert head.status_code == 304

    oversized = ", ".join(['"other"'] * 200 + [etag])  # names it, but past the 1 KiB cap
    for header in ('"other"', "", f'"{"0" * 64}"', oversized):
        full = httpx.get(timestamp_url(seed), headers={"If-None-Match": header})
        assert (full.status_code, full.content) == (200, held), header[:80]


def test_a_replaced_copy_is_served_whole_to_a_node_holding_the_old_etag(
    seed: HttpSeedServer, repository: RepositoryHandle, tmp_path: Path
) -> None:
    old = httpx.get(timestamp_url(seed)).headers["etag"]
    repository.publish({"demo": manifest_yaml("demo", version="1.1.0", host_port=18091)})
    newer = repository.path("metadata/timestamp.json").read_bytes()
    store_dir = tmp_path / "seed-store"  # the seed fixture's store, as `seed sync` replaces it
    SeedStore(store_dir / "blobs", store_dir / "metadata").replace_metadata("timestamp.json", newer)
    answer = httpx.get(timestamp_url(seed), headers={"If-None-Match": old})
    assert (answer.status_code, answer.content) == (200, newer)
    assert answer.headers["etag"] == f'"{blake3_hex(newer)}"' != old


def node_pull_from_seed(
    paths: NodePaths, seed: HttpSeedServer, reference_time: object = None
) -> tuple[PullResult, OriginFetcher]:
    metadata_url, targets_url = repository_urls(ORIGIN_DOWN)
    blobs = MultiSourceBlobFetcher([HttpSeedTransport(seed.url)])
    cache = ConditionalCache(paths.state_dir / "seed-poll-cache.json")
    try:
        with OriginFetcher(retry=RetryPolicy(attempts=1), conditional_cache=cache) as origin:
            sources = Sources(origin, metadata_url, targets_url, blobs)
            result = pull(paths, fetcher=sources, reference_time=reference_time)  # type: ignore[arg-type]
            return result, origin
    finally:
        blobs.close()


def test_a_node_polling_a_seed_with_nothing_new_gets_a_304_and_still_checks_expiry(
    seed: HttpSeedServer, repository: RepositoryHandle, tmp_path: Path
) -> None:
    paths = NodePaths(tmp_path / "node")
    initialise_node(paths, repository.root_path.read_bytes(), ORIGIN_DOWN, data_root=tmp_path)
    first, origin = node_pull_from_seed(paths, seed)
    assert first.changed and origin.stats.not_modified == 0

    sent_before = seed.stats.bytes_sent
    again, origin = node_pull_from_seed(paths, seed)
    assert not again.changed and again.downloaded == []
    assert origin.stats.not_modified == 1
    assert seed.stats.bytes_sent == sent_before  # the 304 and the root probe's 404: no body

    two_days_later = repository.now + timedelta(days=2)  # the timestamp lives one day
    with pytest.raises(PullError, match="timestamp: expired"):
        node_pull_from_seed(paths, seed, reference_time=two_days_later)
