"""The real ceremony publishes the split layout and catalog deltas; nodes follow it cheaply.

Each catalog goes through ``open_catalog_event`` → two maintainers' ``sign_event`` →
``publish_signing_event`` to a directory served on 127.0.0.1 (every request recorded).
A node that is current fetches one delta; one that missed several publishes fetches one
delta from the catalog it holds; one more than ``DEFAULT_KEEP`` publishes behind, or new,
fetches the catalog whole — each in one pull of at most five requests, and each ends with
exactly the bytes the signed targets name.  python-tuf refreshes the chain and finds every
file, icons through ``app-files``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tuf.ngclient import Updater as PythonTufUpdater

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name
from catalog.catalog_model import CATALOG_NAME
from node_runtime.fetch.pull import PullResult, pull
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import initialise_node
from node_runtime.store.paths import NodePaths
from pipeline.ceremony.event import SigningEvent
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.publish.catalog_deltas import DEFAULT_KEEP
from pipeline.publish.file_origin import FileOrigin
from signing.metadata import Metadata, Targets
from tests.support.ceremony_setup import NOW, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp, write_build
from tests.support.tuf_fixtures import RepositoryServer

MAX_REQUESTS = 5  # root probe, timestamp, snapshot, targets, one delta or the catalog


@dataclass
class Published:
    ceremony: ThrowawayCeremony
    work: Path
    origin: Path
    catalogs: list[bytes] = field(default_factory=list)
    events: list[SigningEvent] = field(default_factory=list)

    def publish(self, version: int) -> bytes:
        """Build, open, sign 2 of 3 and publish a catalog whose ``demo-b`` is 1.``version``."""
        dist = self.work / f"dist-{version}"
        apps = [
            SmallApp("demo-a", host_port=18081),
            SmallApp("demo-b", version=f"1.{version}.0", host_port=18082),
            SmallApp("demo-c", host_port=18083),
        ]
        write_build(dist, apps, commit=f"{version:040x}")
        event, _review = open_catalog_event(self.ceremony.state, dist, NOW)
        for key in self.ceremony.maintainers[:2]:
            sign_event(self.ceremony.state, event.event_id, key, NOW)
        publish_signing_event(
            self.ceremony.state,
            event.event_id,
            dist,
            FileOrigin(self.origin),
            self.ceremony.online,
            NOW,
        )
        catalog = (dist / CATALOG_NAME).read_bytes()
        self.catalogs.append(catalog)
        self.events.append(self.ceremony.state.load_event(event.event_id))
        return catalog

    def node(self, name: str, url: str) -> NodePaths:
        paths = NodePaths(self.work / name)
        root = (self.origin / "metadata" / "1.root.json").read_bytes()
        initialise_node(paths, root, url, data_root=self.work / name / "data")
        return paths


@pytest.fixture
def published(tmp_path: Path) -> Published:
    state = Published(make_ceremony(tmp_path / "ceremony"), tmp_path, tmp_path / "origin")
    state.publish(1)
    return state


@pytest.fixture
def server(published: Published) -> Iterator[RepositoryServer]:
    running = RepositoryServer(published.origin)
    yield running
    running.close()


def signed_catalog_blake3(origin: Path, version: int) -> str:
    data = (origin / "metadata" / f"{version}.targets.json").read_bytes()
    return Metadata.from_bytes(data, Targets).signed.targets[CATALOG_NAME].hashes["blake3"]


def assert_holds_exactly(paths: NodePaths, result: PullResult, published: Published) -> None:
    """The node's current catalog is the newest published one, byte for byte, as signed."""
    newest = published.catalogs[-1]
    version = published.events[-1].record.version
    assert result.pointer.blake3 == signed_catalog_blake3(published.origin, version)
    assert BlobStore(paths.blobs_dir).read_verified(result.pointer.blake3) == newest
    assert blake3_hex(newest) == result.pointer.blake3


def test_the_ceremony_publishes_app_files_and_a_delta_per_accepted_catalog(
    published: Published,
) -> None:
    published.publish(2)
    published.publish(3)
    top = Metadata.from_bytes((published.origin / "metadata/3.targets.json").read_bytes(), Targets)
    deltas = sorted(name for name in top.signed.targets if name.startswith("catalog-deltas/"))
    assert deltas == sorted(delta_target_name(blake3_hex(c)) for c in published.catalogs[:2])
    assert not [name for name in top.signed.targets if name.startswith("icons/")]
    # the icons did not change: app-files v1 is published once and listed again as it is
    assert (published.origin / "metadata/1.app-files.json").is_file()
    assert not (published.origin / "metadata/2.app-files.json").exists()
    app_files = Metadata.from_bytes(
        (published.origin / "metadata/1.app-files.json").read_bytes(), Targets
    )
    assert sorted(app_files.signed.targets) == [
        "icons/demo-a.svg",
        "icons/demo-b.svg",
        "icons/demo-c.svg",
    ]
    assert len(app_files.signatures) == 2  # the two maintainers who signed the first event


def test_current_behind_and_new_nodes_each_converge_in_one_bounded_pull(
    published: Published, server: RepositoryServer
) -> None:
    current = published.node("current", server.url)
    behind = published.node("behind", server.url)
    far_behind = published.node("far-behind", server.url)
    pull(current), pull(behind), pull(far_behind)
    held_by_far_behind = published.catalogs[-1]

    published.publish(2)
    server.requests.clear()
    result = pull(current)
    assert result.downloaded == [delta_target_name(blake3_hex(published.catalogs[0]))]
    assert len(server.requests) <= MAX_REQUESTS
    assert_holds_exactly(current, result, published)

    for version in range(3, 6):
        published.publish(version)
    server.requests.clear()
    result = pull(behind)  # missed four publishes: one delta from the catalog it holds
    assert result.downloaded == [delta_target_name(blake3_hex(published.catalogs[0]))]
    assert len(server.requests) <= MAX_REQUESTS
    assert_holds_exactly(behind, result, published)

    for version in range(6, DEFAULT_KEEP + 3):
        published.publish(version)
    signed = Metadata.from_bytes(
        (
            published.origin / f"metadata/{published.events[-1].record.version}.targets.json"
        ).read_bytes(),
        Targets,
    ).signed
    assert delta_target_name(blake3_hex(held_by_far_behind)) not in signed.targets
    # worst case: past the last DEFAULT_KEEP catalogs, or new — the catalog whole, same bound
    for name in ("far-behind", "fresh"):
        paths = far_behind if name == "far-behind" else published.node("fresh", server.url)
        server.requests.clear()
        result = pull(paths)
        assert result.downloaded == [CATALOG_NAME]
        assert len(server.requests) <= MAX_REQUESTS, server.requests
        assert_holds_exactly(paths, result, published)


def test_python_tuf_refreshes_what_the_ceremony_published_and_finds_every_file(
    tmp_path: Path, published: Published, server: RepositoryServer
) -> None:
    published.publish(2)
    metadata_dir = tmp_path / "python-tuf"
    metadata_dir.mkdir()
    (metadata_dir / "root.json").write_bytes(
        (published.origin / "metadata/1.root.json").read_bytes()
    )
    updater = PythonTufUpdater(
        str(metadata_dir),
        f"{server.url}/metadata/",
        str(tmp_path / "python-tuf-targets"),
        f"{server.url}/targets/",
        bootstrap=None,
    )
    updater.refresh()
    catalog = updater.get_targetinfo(CATALOG_NAME)
    assert catalog is not None and catalog.length == len(published.catalogs[-1])
    delta = updater.get_targetinfo(delta_target_name(blake3_hex(published.catalogs[0])))
    assert delta is not None
    for app in ("demo-a", "demo-b", "demo-c"):
        icon = updater.get_targetinfo(f"icons/{app}.svg")
        assert icon is not None
        served = published.origin / "targets/icons" / f"{icon.hashes['blake3']}.{app}.svg"
        assert blake3_hex(served.read_bytes()) == icon.hashes["blake3"]
    assert "/metadata/1.app-files.json" in server.requests
