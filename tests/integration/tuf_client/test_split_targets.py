"""The split targets layout with catalog deltas, read by python-tuf and by our node.

Top-level ``targets.json`` names the catalog and its deltas; icons and
companion archives are delegated to ``app-files`` (same keys).  python-tuf
refreshes the chain and finds every file; a one-app update re-publishes
neither ``app-files`` nor anything the node reads besides the small
top-level metadata and one delta.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tuf.ngclient import Updater as PythonTufUpdater

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name
from node_runtime.fetch.pull import pull
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml
from tests.support.tuf_fixtures import RepositoryServer


def apps(demo_version: str = "1.0.0") -> dict[str, str]:
    return {
        "demo": manifest_yaml("demo", version=demo_version),
        "web": manifest_yaml("web"),
    }


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    handle = make_repository(tmp_path / "origin", {"web": manifest_yaml("web")})
    handle.publish(apps(), split_app_files=True, deltas_keep=4)
    return handle


@pytest.fixture
def server(repository: RepositoryHandle) -> Iterator[RepositoryServer]:
    running = RepositoryServer(repository.directory)
    yield running
    running.close()


def python_tuf(
    tmp_path: Path, repository: RepositoryHandle, server: RepositoryServer
) -> PythonTufUpdater:
    metadata_dir = tmp_path / "python-tuf"
    metadata_dir.mkdir(exist_ok=True)
    (metadata_dir / "root.json").write_bytes(repository.root_path.read_bytes())
    return PythonTufUpdater(
        str(metadata_dir),
        f"{server.url}/metadata/",
        str(tmp_path / "python-tuf-targets"),
        f"{server.url}/targets/",
        bootstrap=None,
    )


def test_python_tuf_refreshes_the_split_layout_and_finds_every_file(
    tmp_path: Path, repository: RepositoryHandle, server: RepositoryServer
) -> None:
    first_catalog = repository.catalog_bytes
    repository.publish(apps("1.1.0"), split_app_files=True, deltas_keep=4)
    updater = python_tuf(tmp_path, repository, server)
    updater.refresh()
    catalog = updater.get_targetinfo("app-catalog.json")
    assert catalog is not None and catalog.length == len(repository.catalog_bytes)
    assert updater.get_targetinfo(delta_target_name(blake3_hex(first_catalog))) is not None
    icon = updater.get_targetinfo("icons/demo.svg")
    assert icon is not None and icon.hashes["blake3"] == blake3_hex(
        repository.path(f"targets/icons/{icon.hashes['blake3']}.demo.svg").read_bytes()
    )
    assert "/metadata/1.app-files.json" in server.requests


def test_a_one_app_update_leaves_app_files_alone_and_the_node_never_reads_it(
    tmp_path: Path, repository: RepositoryHandle, server: RepositoryServer
) -> None:
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths, repository.root_path.read_bytes(), server.url, data_root=tmp_path / "data"
    )
    NodeState(paths).save_installed(InstalledApps().with_app("demo"))
    first = pull(paths)
    assert repository.catalog is not None
    icon = repository.catalog.apps["demo"].icon
    assert icon is not None and icon.target in first.downloaded
    assert BlobStore(paths.blobs_dir).is_intact(icon.blake3)

    repository.publish(apps("1.2.0"), split_app_files=True, deltas_keep=4)
    assert not repository.path("metadata/2.app-files.json").exists()  # not re-signed
    server.requests.clear()
    second = pull(paths)
    assert second.changed
    assert second.downloaded == [delta_target_name(first.pointer.blake3)]
    assert not [path for path in server.requests if "app-files" in path]
    assert not (paths.trust_dir / "app-files.json").exists()
    held = BlobStore(paths.blobs_dir).read_verified(second.pointer.blake3)
    assert held == repository.catalog_bytes
