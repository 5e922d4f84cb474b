"""``archy-node seed sync``: a seed store mirrors a file origin, each blob checked by BLAKE3;
a re-run fetches only what is new; a node with its origin down pulls from the synced seed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from signing.metadata import Metadata, Targets
from tests.integration.seeds.seeded_node import (
    pull_once_without_retries,
    seeded_node,
    stored_companion,
)
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
ORIGIN_DOWN = "http://127.0.0.1:9/registry"


def archy_node(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node_runtime", *arguments],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sync(repository: RepositoryHandle, store: Path, *extra: str) -> dict[str, Any]:
    finished = archy_node(
        "seed", "sync", "--origin", repository.origin, "--store", str(store), "--json", *extra
    )
    assert finished.returncode == 0, finished.stderr
    summary: dict[str, Any] = json.loads(finished.stdout)
    return summary


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    return make_repository(
        tmp_path / "origin",
        {"demo": manifest_yaml("demo", host_port=18091)},
        companions={"demo": {"demo-ui": b"the demo companion archive" * 1000}},
    )


def signed_blobs(repository: RepositoryHandle) -> set[str]:
    assert repository.catalog is not None
    return {target.blake3 for target in repository.catalog.targets()} | {
        blake3_hex(repository.catalog_bytes)
    }


def test_a_sync_mirrors_every_target_and_a_rerun_fetches_only_what_is_new(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    store = tmp_path / "seed"
    first = sync(repository, store, "--root", str(repository.root_path))
    assert first["targets_version"] == 1
    assert len(first["fetched"]) == 3 and first["already_held"] == 0
    blobs = BlobStore(store / "blobs")
    assert set(blobs.blobs()) == signed_blobs(repository)
    assert all(blobs.is_intact(blake3) for blake3 in blobs.blobs())
    metadata = {path.name for path in (store / "metadata").iterdir()}
    assert {"1.root.json", "1.targets.json", "1.snapshot.json", "timestamp.json"} <= metadata
    assert first["metadata_written"][-1] == "timestamp.json"

    again = sync(repository, store)  # the store's own trust: no --root needed any more
    assert again["fetched"] == [] and again["already_held"] == 3

    repository.publish(
        {"demo": manifest_yaml("demo", version="2.0.0", host_port=18091)},
        companions={"demo": {"demo-ui": b"the demo companion archive" * 1000}},
    )
    third = sync(repository, store)
    assert third["targets_version"] == 2
    assert [path.split(".", 1)[1] for path in third["fetched"]] == ["app-catalog.json"]
    assert third["already_held"] == 2  # the icon and the archive did not change
    assert set(blobs.blobs()) >= signed_blobs(repository)


def test_a_sync_refuses_a_target_whose_bytes_are_not_the_signed_ones(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    repository.path(f"targets/{archive.target}").write_bytes(b"tampered on the origin")
    finished = archy_node(
        "seed", "sync", "--origin", repository.origin, "--store", str(tmp_path / "seed"),
        "--root", str(repository.root_path),
    )  # fmt: skip
    assert finished.returncode == 1
    assert finished.stderr.count("\n") == 1
    assert "not what was signed" in finished.stderr
    assert not BlobStore(tmp_path / "seed" / "blobs").contains(archive.blake3)
    assert not (tmp_path / "seed" / "metadata" / "timestamp.json").exists()


def test_the_first_sync_of_a_store_needs_the_root(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    finished = archy_node(
        "seed", "sync", "--origin", repository.origin, "--store", str(tmp_path / "seed")
    )
    assert finished.returncode == 1
    assert "--root" in finished.stderr and finished.stderr.count("\n") == 1


def test_a_node_with_its_origin_down_pulls_from_a_synced_seed(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    store = tmp_path / "seed"
    sync(repository, store, "--root", str(repository.root_path))
    with HttpSeedServer(SeedStore(store / "blobs", store / "metadata")) as seed:
        paths = seeded_node(tmp_path, repository, ORIGIN_DOWN, [seed.url])
        result, fetcher = pull_once_without_retries(paths)
        assert seed.stats.bytes_sent > 0
    assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
    assert "timestamp.json" in " ".join(fetcher.metadata_from_seed)
    assert stored_companion(paths, repository) == b"the demo companion archive" * 1000


def test_a_split_layout_is_mirrored_whole_and_a_node_pulls_every_piece_from_the_seed(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    """Icons and archives are listed by ``app-files`` only: the sync walks the delegation."""
    archive = {"demo": {"demo-ui": b"the demo companion archive" * 1000}}
    demo = {"demo": manifest_yaml("demo", version="2.0.0", host_port=18091)}
    repository.publish(demo, companions=archive, split_app_files=True, deltas_keep=4)
    top = Metadata.from_bytes(repository.path("metadata/2.targets.json").read_bytes(), Targets)
    assert sorted(top.signed.targets)[0] == "app-catalog.json"  # icons, archives: app-files
    assert not [name for name in top.signed.targets if name.startswith(("icons/", "companions/"))]
    store = tmp_path / "seed"
    first = sync(repository, store, "--root", str(repository.root_path))
    blobs = BlobStore(store / "blobs")
    assert set(blobs.blobs()) >= signed_blobs(repository)
    assert "1.app-files.json" in {path.name for path in (store / "metadata").iterdir()}
    assert first["metadata_written"][-1] == "timestamp.json"

    with HttpSeedServer(SeedStore(store / "blobs", store / "metadata")) as seed:
        paths = seeded_node(tmp_path, repository, ORIGIN_DOWN, [seed.url])
        result, _fetcher = pull_once_without_retries(paths)
        assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
        assert stored_companion(paths, repository) == b"the demo companion archive" * 1000
        assert repository.catalog is not None
        icon = repository.catalog.apps["demo"].icon
        assert icon is not None and BlobStore(paths.blobs_dir).is_intact(icon.blake3)

        held = repository.catalog_bytes
        demo = {"demo": manifest_yaml("demo", version="3.0.0", host_port=18091)}
        repository.publish(demo, companions=archive, split_app_files=True, deltas_keep=4)
        sync(repository, store)
        result, _fetcher = pull_once_without_retries(paths)
    assert result.downloaded == [delta_target_name(blake3_hex(held))]
    assert BlobStore(paths.blobs_dir).read_verified(result.pointer.blake3) == (
        repository.catalog_bytes
    )
