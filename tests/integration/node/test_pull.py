"""``pull``: trust refreshed, catalog and installed apps' files fetched into the store.

Real signed repositories on disk (file://) and served over HTTP on 127.0.0.1.
Every refusal leaves the current catalog as it was and says why.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from catalog.address import blake3_hex
from node_runtime.commands import main as node_main
from node_runtime.fetch.http import OriginFetcher
from node_runtime.fetch.pull import PullError, pull
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.paths import NodePaths
from signing import repository as tuf_repository
from signing.keys import SigningKey
from signing.metadata import Metadata, Timestamp
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

COMPANION = b"a companion OCI archive (bytes only, for the store)"


def apps(version: str = "1.0.0") -> dict[str, str]:
    return {
        "demo": manifest_yaml("demo", version=version, host_port=18080),
        "web": manifest_yaml("web", host_port=18081),
    }


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    return make_repository(tmp_path / "origin", apps(), companions={"demo": {"demo-ui": COMPANION}})


def publish_v2(repository: RepositoryHandle) -> None:
    repository.publish(apps("1.1.0"), companions={"demo": {"demo-ui": COMPANION + b" v2"}})


class RecordingServer:
    """A static HTTP server on 127.0.0.1 over a directory, remembering each path asked for."""

    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(directory), **kwargs)

            def do_GET(self) -> None:
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # listening from here on
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def http_origin(repository: RepositoryHandle) -> Iterator[RecordingServer]:
    server = RecordingServer(repository.directory)
    yield server
    server.close()


def new_node(tmp_path: Path, repository: RepositoryHandle, origin: str | None = None) -> NodePaths:
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths,
        repository.root_path.read_bytes(),
        origin or repository.origin,
        data_root=tmp_path / "data",
    )
    return paths


def install(paths: NodePaths, *app_ids: str) -> None:
    installed = InstalledApps()
    for app_id in app_ids:
        installed = installed.with_app(app_id)
    NodeState(paths).save_installed(installed)


def current_blake3(paths: NodePaths) -> str | None:
    current = NodeState(paths).current_catalog()
    return None if current is None else current.current.blake3


def test_pull_from_a_file_origin_makes_the_catalog_current(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    result = pull(paths)
    assert result.changed
    assert result.downloaded == ["app-catalog.json"]
    assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
    assert result.pointer.targets_version == 1
    loaded = load_current_catalog(NodeState(paths), BlobStore(paths.blobs_dir))
    assert loaded is not None and loaded.catalog == repository.catalog
    last = NodeState(paths).last_pull()
    assert last is not None and last.ok and last.changed


def test_pull_over_http_fetches_what_installed_apps_need_and_nothing_twice(
    tmp_path: Path, repository: RepositoryHandle, http_origin: RecordingServer
) -> None:
    paths = new_node(tmp_path, repository, http_origin.url)
    install(paths, "demo")
    assert repository.catalog is not None
    demo = repository.catalog.apps["demo"]
    assert demo.icon is not None and demo.companions[0].archive is not None
    first = pull(paths)
    assert first.downloaded == [
        "app-catalog.json",
        demo.companions[0].archive.target,
        demo.icon.target,
    ]
    store = BlobStore(paths.blobs_dir)
    assert store.read_verified(demo.companions[0].archive.blake3) == COMPANION
    web_icon = repository.catalog.apps["web"].icon
    assert web_icon is not None and not store.contains(web_icon.blake3)  # not installed

    http_origin.requests.clear()
    second = pull(paths)
    assert not second.changed and second.downloaded == []
    assert not [path for path in http_origin.requests if path.startswith("/targets/")]
    assert "/metadata/timestamp.json" in http_origin.requests


def test_a_new_catalog_version_switches_and_the_old_one_is_kept(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    install(paths, "demo")
    first = pull(paths)
    publish_v2(repository)
    second = pull(paths)
    assert second.changed and second.pointer.targets_version == 2
    current = NodeState(paths).current_catalog()
    assert current is not None and current.previous == first.pointer
    loaded = load_current_catalog(NodeState(paths), BlobStore(paths.blobs_dir))
    assert loaded is not None and loaded.catalog.apps["demo"].version == "1.1.0"
    # The old catalog blob stays in the store (the last good one, for rollback).
    assert BlobStore(paths.blobs_dir).is_intact(first.pointer.blake3)


def test_the_same_catalog_under_newer_targets_says_the_newer_version(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    """Targets v2 re-signs the very same catalog (another artifact changed): the node keeps
    its catalog but reports the version that vouches for it now, in pull and in status."""
    paths = new_node(tmp_path, repository)
    first = pull(paths)
    assert repository.catalog is not None
    repository.publish_catalog(repository.catalog, {}, extra_artifacts={"notes.txt": b"v2\n"})

    second = pull(paths)

    assert not second.changed
    assert (second.pointer.blake3, second.pointer.targets_version) == (first.pointer.blake3, 2)
    current = NodeState(paths).current_catalog()
    assert current is not None and current.current.targets_version == 2
    assert current.previous is None  # the same catalog is not its own rollback
    result = CliRunner().invoke(node_main, ["status", "--json", "--state-root", str(paths.root)])
    assert json.loads(result.stdout)["catalog"]["targets_version"] == 2


def assert_refused_and_kept(paths: NodePaths, kept: str | None, match: str) -> None:
    with pytest.raises(PullError, match=match):
        pull(paths, fetcher=OriginFetcher(retry=RetryPolicy(attempts=1)))
    assert current_blake3(paths) == kept
    last = NodeState(paths).last_pull()
    assert last is not None and not last.ok and last.error is not None


def test_a_forged_catalog_is_refused_and_the_last_good_one_stays(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    good = pull(paths).pointer.blake3
    publish_v2(repository)
    repository.catalog_file().write_bytes(b'{"schema": 1, "apps": {"evil": {}}}')
    assert_refused_and_kept(
        paths,
        good,
        r"^targets: app-catalog\.json \(blake3 .*\) from the origin is not what was signed",
    )


def test_a_timestamp_signed_by_another_key_is_refused(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    good = pull(paths).pointer.blake3
    timestamp_file = repository.path("metadata/timestamp.json")
    timestamp = Metadata.from_bytes(timestamp_file.read_bytes(), Timestamp).signed
    forged = tuf_repository.sign(
        tuf_repository.bump(timestamp, timestamp.expires + timedelta(days=1)),
        [SigningKey.generate()],
    )
    timestamp_file.write_bytes(forged.to_bytes())
    assert_refused_and_kept(paths, good, r"^trust: refused the metadata .*timestamp")


def test_a_replayed_old_timestamp_is_refused(tmp_path: Path, repository: RepositoryHandle) -> None:
    paths = new_node(tmp_path, repository)
    old_timestamp = repository.path("metadata/timestamp.json").read_bytes()
    publish_v2(repository)
    newest = pull(paths).pointer.blake3
    repository.path("metadata/timestamp.json").write_bytes(old_timestamp)
    assert_refused_and_kept(paths, newest, r"^trust: refused the metadata .*version")


def test_a_missing_catalog_file_is_refused(tmp_path: Path, repository: RepositoryHandle) -> None:
    paths = new_node(tmp_path, repository)
    good = pull(paths).pointer.blake3
    publish_v2(repository)
    repository.catalog_file().unlink()
    assert_refused_and_kept(paths, good, r"^targets: .*app-catalog\.json.*no such file")


def test_a_missing_companion_of_an_installed_app_keeps_the_old_catalog(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    install(paths, "demo")
    good = pull(paths).pointer.blake3
    publish_v2(repository)
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    repository.path(f"targets/{archive.target}").unlink()
    assert_refused_and_kept(paths, good, r"^targets: companions/demo-ui\.oci\.tar .*no such file")


def test_an_unreachable_origin_is_refused(tmp_path: Path, repository: RepositoryHandle) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    paths = new_node(tmp_path, repository, f"http://127.0.0.1:{closed_port}")
    assert_refused_and_kept(paths, None, r"^trust: cannot download metadata from http://127")


def test_a_tampered_blob_is_fetched_again_on_the_next_pull(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    paths = new_node(tmp_path, repository)
    install(paths, "demo")
    first = pull(paths)
    store = BlobStore(paths.blobs_dir)
    assert repository.catalog is not None
    icon = repository.catalog.apps["demo"].icon
    assert icon is not None
    store.path_of(first.pointer.blake3).write_bytes(b"{}")
    store.path_of(icon.blake3).write_bytes(b"<svg/>")
    again = pull(paths)
    assert not again.changed
    assert again.downloaded == ["app-catalog.json", icon.target]
    assert (
        store.read_verified(icon.blake3) == repository.path(f"targets/{icon.target}").read_bytes()
    )
    assert store.is_intact(first.pointer.blake3)


def test_a_seed_serves_what_the_origin_lacks_and_a_lying_seed_is_skipped(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(repository.directory / "targets", mirror)
    liar = tmp_path / "liar"
    shutil.copytree(repository.directory / "targets", liar)
    assert repository.catalog is not None
    archive = repository.catalog.apps["demo"].companions[0].archive
    assert archive is not None
    (liar / archive.target).write_bytes(b"not the archive")
    (repository.directory / "targets" / archive.target).unlink()
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths,
        repository.root_path.read_bytes(),
        repository.origin,
        seeds=[liar.as_uri(), mirror.as_uri()],
        data_root=tmp_path / "data",
    )
    install(paths, "demo")
    result = pull(paths)
    assert archive.target in result.downloaded
    assert BlobStore(paths.blobs_dir).read_verified(archive.blake3) == COMPANION
