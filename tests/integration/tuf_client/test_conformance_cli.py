"""`archy-node tuf …`, the tuf-conformance client contract, run as a real process over HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.repos import LiveRepository
from tests.support.tuf_fixtures import RepositoryServer

ARCHY_NODE = [sys.executable, "-c", "from node_runtime.commands import main; main()"]


def run(*args: str | Path) -> int:
    return subprocess.run([*ARCHY_NODE, "tuf", *map(str, args)], capture_output=True).returncode


def test_init_refresh_download_over_http(
    live_repo: LiveRepository, http_server: RepositoryServer, tmp_path: Path
) -> None:
    live_repo.add_artifact("app-catalog.json", b"catalog")
    live_repo.add_artifact("icons/a b.svg", b"<svg/>")
    live_repo.publish()
    metadata, targets = tmp_path / "md", tmp_path / "targets"
    (tmp_path / "root.json").write_bytes(live_repo.root_bytes())
    assert run("--metadata-dir", metadata, "init", tmp_path / "root.json") == 0
    assert http_server.requests == []
    url = f"{http_server.url}/metadata"
    assert run("--metadata-dir", metadata, "--metadata-url", url, "refresh") == 0
    assert http_server.requests == [
        "/metadata/2.root.json",
        "/metadata/timestamp.json",
        "/metadata/2.snapshot.json",
        "/metadata/2.targets.json",
    ]
    for name, served in [
        ("root.json", "1.root.json"),
        ("timestamp.json", "timestamp.json"),
        ("snapshot.json", "2.snapshot.json"),
        ("targets.json", "2.targets.json"),
    ]:
        assert (metadata / name).read_bytes() == live_repo.metadata_path(served).read_bytes()
    download = [
        "--metadata-dir", metadata, "--metadata-url", url,
        "--target-name", "app-catalog.json", "--target-name", "icons/a b.svg",
        "--target-base-url", f"{http_server.url}/targets", "--target-dir", targets, "download",
    ]  # fmt: skip
    assert run(*download) == 0
    assert sorted(p.read_bytes() for p in targets.iterdir()) == [b"<svg/>", b"catalog"]
    fetched_targets = [r for r in http_server.requests if r.startswith("/targets/")]
    assert len(fetched_targets) == 2
    assert run(*download) == 0  # cached: no new target request
    assert [r for r in http_server.requests if r.startswith("/targets/")] == fetched_targets


def test_failures_exit_1(
    live_repo: LiveRepository, http_server: RepositoryServer, tmp_path: Path
) -> None:
    metadata = tmp_path / "md"
    url = f"{http_server.url}/metadata"
    (tmp_path / "bad-root.json").write_bytes(b"{}")
    assert run("--metadata-dir", metadata, "init", tmp_path / "bad-root.json") == 1
    assert run("--metadata-dir", metadata, "--metadata-url", url, "refresh") == 1
    assert http_server.requests == []
    (tmp_path / "root.json").write_bytes(live_repo.root_bytes())
    assert run("--metadata-dir", metadata, "init", tmp_path / "root.json") == 0
    missing = [
        "--metadata-dir", metadata, "--metadata-url", url, "--target-name", "nonexistent target",
        "--target-base-url", f"{http_server.url}/targets",
        "--target-dir", tmp_path / "t", "download",
    ]  # fmt: skip
    assert run(*missing) == 1
    assert (metadata / "targets.json").exists()  # the implicit refresh still happened
    live_repo.metadata_path("timestamp.json").write_bytes(b"not json")
    assert run("--metadata-dir", metadata, "--metadata-url", url, "refresh") == 1
