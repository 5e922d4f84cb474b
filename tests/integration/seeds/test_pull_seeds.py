"""The default pull builds its blob fetching from the config's seeds and the signed catalog's:
a node with no seeds of its own finds the catalog's seed when the origin loses a blob, and an
iroh:// seed in the config serves the node (inside a loopback-only network namespace)."""

from __future__ import annotations

import dataclasses
import json
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_model import AppCatalog, parse_catalog
from node_runtime.fetch.pull import pull
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.node_seed import serve_node_store
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import NodeConfigError, initialise_node
from node_runtime.store.paths import NodePaths
from tests.integration.seeds.misbehaving_seeds import seed_store_from_repository
from tests.integration.seeds.seeded_node import seeded_node, stored_companion
from tests.integration.seeds.test_iroh_seed import REPOSITORY_ROOT, in_loopback_namespace
from tests.realparts.required import require_tool
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

COMPANION = b"the companion only a seed still has" * 2000


@dataclasses.dataclass
class RepositoryNamingSeeds(RepositoryHandle):
    """A repository whose catalogs name ``catalog_seeds`` (what `archy build --seed` records)."""

    catalog_seeds: list[str] = dataclasses.field(default_factory=list)

    def _build_catalog(
        self, apps: Mapping[str, str], *args: Any, **kwargs: Any
    ) -> tuple[AppCatalog, dict[str, bytes]]:
        catalog, artifacts = super()._build_catalog(apps, *args, **kwargs)
        document = {**catalog.to_document(), "seeds": self.catalog_seeds}
        return parse_catalog(encode_canonical_json(document)), artifacts


def lose_the_companion(repository: RepositoryHandle) -> None:
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    repository.path(f"targets/{archive.target}").unlink()


def test_a_node_without_seeds_finds_the_catalogs_seed_when_the_origin_loses_a_blob(
    tmp_path: Path,
) -> None:
    plain = make_repository(
        tmp_path / "origin",
        {"demo": manifest_yaml("demo", host_port=18093)},
        companions={"demo": {"demo-ui": COMPANION}},
    )
    store = seed_store_from_repository(plain.directory, tmp_path / "seed")
    with HttpSeedServer(SeedStore(store / "blobs")) as seed:
        fields = {field.name: getattr(plain, field.name) for field in dataclasses.fields(plain)}
        repository = RepositoryNamingSeeds(**fields, catalog_seeds=[seed.url])
        repository.publish(
            {"demo": manifest_yaml("demo", host_port=18093)},
            companions={"demo": {"demo-ui": COMPANION}},
        )
        assert repository.catalog is not None and repository.catalog.seeds == [seed.url]
        lose_the_companion(repository)
        paths = seeded_node(tmp_path, repository, repository.origin)  # no seeds in its config
        result = pull(paths)
        assert seed.stats.bytes_sent >= len(COMPANION)
    assert result.changed
    assert stored_companion(paths, repository) == COMPANION


def test_a_catalog_without_seeds_keeps_its_bytes(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    assert b'"seeds"' not in repository.catalog_bytes
    assert repository.catalog is not None and repository.catalog.seeds == []


@pytest.mark.parametrize(
    ("seed", "reason"),
    [
        ("iroh://", "iroh://<endpoint id>"),
        ("iroh://abc", "at least one address"),
        ("ftp://x", "iroh://<endpoint id>@<host:port>"),
    ],
)
def test_init_refuses_a_seed_it_cannot_use(tmp_path: Path, seed: str, reason: str) -> None:
    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    with pytest.raises(NodeConfigError, match=reason):
        initialise_node(
            NodePaths(tmp_path / "node"),
            repository.root_path.read_bytes(),
            repository.origin,
            [seed],
            data_root=tmp_path / "data",
        )


def test_an_iroh_seed_in_the_config_serves_the_default_pull(tmp_path: Path) -> None:
    require_tool("unshare")
    repository = make_repository(
        tmp_path / "origin",
        {"demo": manifest_yaml("demo", host_port=18094)},
        companions={"demo": {"demo-ui": COMPANION}},
    )
    seed_store_from_repository(repository.directory, tmp_path / "seed")
    lose_the_companion(repository)
    finished = in_loopback_namespace(
        "-m",
        "tests.integration.seeds.iroh_pull_scenario",
        str(tmp_path / "seed" / "blobs"),
        str(repository.root_path),
        repository.origin,
        str(tmp_path / "node"),
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    assert outcome["seed"].startswith("iroh://")
    assert outcome["seed_bytes_sent"] >= len(COMPANION)
    assert stored_companion(NodePaths(tmp_path / "node"), repository) == COMPANION
    # the node then seeded a second node over iroh (archy-node daemon --seed's serve_node_store)
    assert outcome["node_seed"].startswith("iroh://")
    assert outcome["node_seed_bytes_sent"] >= len(COMPANION)
    assert outcome["second_catalog"] == outcome["catalog"]
    assert stored_companion(NodePaths(tmp_path / "node-second"), repository) == COMPANION


def test_a_node_serves_its_blob_store_over_http(tmp_path: Path) -> None:
    paths = NodePaths(tmp_path / "node")
    BlobStore(paths.blobs_dir).add_bytes(COMPANION)
    with serve_node_store(paths, http_addr="127.0.0.1:0") as node_seed:
        assert node_seed.http_url is not None and node_seed.iroh_url is None
        served = httpx.get(f"{node_seed.http_url}/blobs/{blake3_hex(COMPANION)}")
    assert served.content == COMPANION
    with pytest.raises(ValueError, match="--seed-http"), serve_node_store(paths, "no-port"):
        pass


def test_archy_node_daemon_seed_serves_the_nodes_blobs_until_it_stops(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths, repository.root_path.read_bytes(), repository.origin, data_root=tmp_path / "data"
    )
    BlobStore(paths.blobs_dir).add_bytes(COMPANION)
    command = [sys.executable, "-m", "node_runtime", "daemon", "--seed", "--no-pull"]
    options = ["--seed-http", "127.0.0.1:0", "--seed-iroh", "off", "--engine", "stage"]
    with subprocess.Popen(
        [*command, *options, "--state-root", str(paths.root)],
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    ) as daemon:
        try:
            assert daemon.stdout is not None
            event = json.loads(daemon.stdout.readline())
            assert event["event"] == "seeding"
            (http_url,) = event["urls"]
            served = httpx.get(f"{http_url}/blobs/{blake3_hex(COMPANION)}")
            assert served.content == COMPANION
        finally:
            daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
