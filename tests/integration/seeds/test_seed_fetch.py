"""Seeds over HTTP on 127.0.0.1: a node pulls a catalog and a 50 MB companion archive
from two seeds with its origin down, while seeds corrupt, stall, overfeed or drop;
the origin's metadata always wins when the origin answers.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalog.address import blake3_hex
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.pull import PullError, PullResult, pull
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.seed_transport import BlobTransport, BlobUnavailableError
from node_runtime.fetch.sources import Sources
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.integration.seeds.misbehaving_seeds import (
    MisbehavingSeed,
    WaitsFor,
    seed_store_from_repository,
)
from tests.integration.seeds.small_disk import small_tmpfs
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

ARCHIVE_BYTES = 50 * 1024 * 1024
STALL_SECONDS = 2.0
ORIGIN_DOWN = "http://127.0.0.1:9/registry"  # the discard port: nothing listens on loopback


def companion_archive() -> bytes:
    return random.Random(9).randbytes(ARCHIVE_BYTES)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> RepositoryHandle:
    directory = tmp_path_factory.mktemp("seeds") / "origin"
    return make_repository(
        directory,
        {"demo": manifest_yaml("demo", host_port=18090)},
        companions={"demo": {"demo-ui": companion_archive()}},
    )


@pytest.fixture(scope="module")
def seed_store(repository: RepositoryHandle, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_store_from_repository(repository.directory, tmp_path_factory.mktemp("seed-store"))


@pytest.fixture
def two_seeds(seed_store: Path) -> Iterator[tuple[HttpSeedServer, HttpSeedServer]]:
    store = SeedStore(seed_store / "blobs", seed_store / "metadata")
    with HttpSeedServer(store) as first, HttpSeedServer(store) as second:
        yield first, second


def archive_blake3(repository: RepositoryHandle) -> str:
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    return archive.blake3


def node_pull(
    tmp_path: Path, repository: RepositoryHandle, origin: str, transports: list[BlobTransport]
) -> tuple[PullResult, Sources, NodePaths]:
    paths = NodePaths(tmp_path / "node")
    initialise_node(paths, repository.root_path.read_bytes(), origin, data_root=tmp_path / "data")
    NodeState(paths).save_installed(InstalledApps().with_app("demo"))
    metadata_url, targets_url = repository_urls(origin)
    blobs = MultiSourceBlobFetcher(transports)
    with OriginFetcher(retry=RetryPolicy(attempts=1)) as origin_fetcher:
        fetcher = Sources(origin_fetcher, metadata_url, targets_url, blobs)
        result = pull(paths, fetcher=fetcher)
    blobs.close()
    return result, fetcher, paths


def blobs_in_flight(fetcher: Sources) -> int:
    assert fetcher.swarm is not None
    return fetcher.swarm.in_flight


def assert_archive_stored(paths: NodePaths, repository: RepositoryHandle) -> None:
    store = BlobStore(paths.blobs_dir)
    assert store.is_intact(archive_blake3(repository))
    assert store.path_of(archive_blake3(repository)).stat().st_size == ARCHIVE_BYTES


# --- the HTTP seed itself ---


def test_the_http_seed_serves_blobs_by_hash_with_ranges(
    two_seeds: tuple[HttpSeedServer, HttpSeedServer], repository: RepositoryHandle
) -> None:
    seed = two_seeds[0]
    blake3 = blake3_hex(repository.catalog_bytes)
    whole = httpx.get(f"{seed.url}/blobs/{blake3}")
    assert whole.status_code == 200
    assert whole.content == repository.catalog_bytes
    part = httpx.get(f"{seed.url}/blobs/{blake3}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == repository.catalog_bytes[10:20]
    total = len(repository.catalog_bytes)
    assert part.headers["content-range"] == f"bytes 10-19/{total}"
    tail = httpx.get(f"{seed.url}/blobs/{blake3}", headers={"Range": "bytes=-5"})
    assert tail.content == repository.catalog_bytes[-5:]
    outside = httpx.get(f"{seed.url}/blobs/{blake3}", headers={"Range": f"bytes={total}-"})
    assert outside.status_code == 416
    assert httpx.get(f"{seed.url}/blobs/{'0' * 64}").status_code == 404
    assert httpx.get(f"{seed.url}/blobs/not-a-hash").status_code == 404
    by_path = httpx.get(f"{seed.url}/targets/{blake3}.app-catalog.json")
    assert by_path.content == repository.catalog_bytes


def test_a_seed_never_serves_a_blob_that_does_not_hash_to_its_name(tmp_path: Path) -> None:
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    (blobs / blake3_hex(b"right")).write_bytes(b"wrong")
    with HttpSeedServer(SeedStore(blobs)) as seed:
        assert httpx.get(f"{seed.url}/blobs/{blake3_hex(b'right')}").status_code == 404


# --- a node pulling from seeds ---


def test_origin_down_two_seeds_up_the_node_pulls_catalog_and_archive(
    tmp_path: Path,
    repository: RepositoryHandle,
    two_seeds: tuple[HttpSeedServer, HttpSeedServer],
) -> None:
    transports: list[BlobTransport] = [HttpSeedTransport(seed.url) for seed in two_seeds]
    result, fetcher, paths = node_pull(tmp_path, repository, ORIGIN_DOWN, transports)
    assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
    assert_archive_stored(paths, repository)
    assert any(name.endswith("timestamp.json") for name in fetcher.metadata_from_seed)
    assert fetcher.dropped == {}
    assert sum(seed.stats.bytes_sent for seed in two_seeds) >= ARCHIVE_BYTES


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("corrupt", "do not match the blob's BLAKE3"),
        ("stall", "stalled"),
        ("overfeed", "more than"),
    ],
)
def test_a_misbehaving_seed_is_dropped_and_the_blob_comes_from_another(
    tmp_path: Path,
    repository: RepositoryHandle,
    seed_store: Path,
    two_seeds: tuple[HttpSeedServer, HttpSeedServer],
    mode: str,
    reason: str,
) -> None:
    with MisbehavingSeed(seed_store / "blobs", mode) as bad:
        transports: list[BlobTransport] = [
            HttpSeedTransport(bad.url, stall_seconds=STALL_SECONDS),
            WaitsFor(HttpSeedTransport(two_seeds[0].url), bad.first_request),
        ]
        result, fetcher, paths = node_pull(tmp_path, repository, ORIGIN_DOWN, transports)
        assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
        assert_archive_stored(paths, repository)
        assert list(fetcher.dropped) == [bad.url]
        assert reason in fetcher.dropped[bad.url]


def test_the_origin_wins_over_a_seed_with_older_metadata(
    tmp_path: Path, repository: RepositoryHandle, seed_store: Path
) -> None:
    # The seed holds the first version; the origin (a copy, published once more) a newer one.
    stale_store = seed_store_from_repository(repository.directory, tmp_path / "stale-seed")
    shutil.copytree(repository.directory, tmp_path / "newer-origin")
    newer = dataclasses.replace(repository, directory=tmp_path / "newer-origin")
    newer.publish(
        {"demo": manifest_yaml("demo", version="2.0.0", host_port=18090)},
        companions={"demo": {"demo-ui": b"the version 2 companion"}},
    )
    with HttpSeedServer(SeedStore(stale_store / "blobs", stale_store / "metadata")) as stale:
        transports: list[BlobTransport] = [HttpSeedTransport(stale.url)]
        result, fetcher, _paths = node_pull(tmp_path, repository, newer.origin, transports)
    assert result.pointer.blake3 == blake3_hex(newer.catalog_bytes)
    assert result.pointer.blake3 != blake3_hex(repository.catalog_bytes)
    assert fetcher.metadata_from_seed == []


def test_a_connection_dropped_halfway_resumes_without_fetching_a_byte_twice(
    tmp_path: Path,
    repository: RepositoryHandle,
    seed_store: Path,
    two_seeds: tuple[HttpSeedServer, HttpSeedServer],
) -> None:
    blake3 = archive_blake3(repository)
    with MisbehavingSeed(seed_store / "blobs", "drop_halfway") as dropper:
        fetcher = MultiSourceBlobFetcher(
            [
                HttpSeedTransport(dropper.url),
                WaitsFor(HttpSeedTransport(two_seeds[0].url), dropper.first_request),
            ]
        )
        with (tmp_path / "archive").open("w+b") as destination:
            report = fetcher.fetch(blake3, ARCHIVE_BYTES, destination)
        fetcher.close()
    assert blake3_hex((tmp_path / "archive").read_bytes()) == blake3
    assert list(fetcher.dropped) == [dropper.url]
    assert report.bytes_by_source[dropper.url] > 0
    assert sum(report.bytes_by_source.values()) == ARCHIVE_BYTES


def test_every_seed_bad_means_no_blob_and_a_reason_per_seed(
    tmp_path: Path, repository: RepositoryHandle, seed_store: Path
) -> None:
    blake3 = archive_blake3(repository)
    with MisbehavingSeed(seed_store / "blobs", "corrupt") as liar:
        fetcher = MultiSourceBlobFetcher([HttpSeedTransport(liar.url)])
        with (
            (tmp_path / "archive").open("w+b") as destination,
            pytest.raises(BlobUnavailableError, match="hash right"),
        ):
            fetcher.fetch(blake3, ARCHIVE_BYTES, destination)
        fetcher.close()
    assert "BLAKE3" in fetcher.dropped[liar.url]


# --- seeds that are too slow, and a full disk ---


def test_a_trickling_seed_alone_is_dropped_and_the_origin_finishes_the_pull(
    tmp_path: Path, repository: RepositoryHandle, seed_store: Path
) -> None:
    with MisbehavingSeed(seed_store / "blobs", "trickle") as trickler:
        transports: list[BlobTransport] = [HttpSeedTransport(trickler.url, stall_seconds=120)]
        result, fetcher, paths = node_pull(tmp_path, repository, repository.origin, transports)
    assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
    assert_archive_stored(paths, repository)
    assert list(fetcher.dropped) == [trickler.url]
    assert fetcher.dropped[trickler.url].startswith("too slow: ")
    assert blobs_in_flight(fetcher) == 0


def test_a_disk_filling_up_during_a_seed_pull_is_reported_as_such_and_the_store_is_intact(
    tmp_path: Path,
    repository: RepositoryHandle,
    two_seeds: tuple[HttpSeedServer, HttpSeedServer],
) -> None:
    with small_tmpfs(tmp_path / "small-disk", "8m") as disk:
        blobs = MultiSourceBlobFetcher([HttpSeedTransport(seed.url) for seed in two_seeds])
        paths = NodePaths(disk / "node")
        initialise_node(paths, repository.root_path.read_bytes(), ORIGIN_DOWN, data_root=disk)
        NodeState(paths).save_installed(InstalledApps().with_app("demo"))
        metadata_url, targets_url = repository_urls(ORIGIN_DOWN)
        with OriginFetcher(retry=RetryPolicy(attempts=1)) as origin_fetcher:
            fetcher = Sources(origin_fetcher, metadata_url, targets_url, blobs)
            with pytest.raises(PullError) as raised:
                pull(paths, fetcher=fetcher)
        blobs.close()
        store = BlobStore(paths.blobs_dir)
        left = sorted(path.name for path in paths.blobs_dir.iterdir())
        catalog_intact = store.is_intact(blake3_hex(repository.catalog_bytes))
    assert str(raised.value) == (
        f"store: blob {archive_blake3(repository)[:12]}…: local I/O error while storing it "
        "(No space left on device); nothing was stored"
    )
    assert "no seed delivered" not in str(raised.value)
    assert left == [blake3_hex(repository.catalog_bytes)]  # no half-written archive
    assert catalog_intact
    assert blobs.dropped == {}
    assert blobs.in_flight == 0
