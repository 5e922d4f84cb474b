"""Interop with python-tuf, the reference implementation.

Repositories written with python-tuf's metadata API (ECDSA, RSA-PSS and
Ed25519 keys, sha256 targets, delegations, every kind of key rotation) are
read by our client, over a real HTTP server on 127.0.0.1; tampered copies are
refused.  And python-tuf's own client refreshes a repository our repository
side wrote.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tuf.ngclient import Updater as PythonTufUpdater

from node_runtime.fetch.tuf_client import Updater
from signing.errors import LengthOrHashMismatchError, UnsignedMetadataError
from tests.support.repos import LiveRepository
from tests.support.tuf_fixtures import RepositoryServer
from tests.support.tuf_oracle import PythonTufRepository


@pytest.fixture(params=["ecdsa", "rsa", "ed25519"])
def python_tuf_repo(request: pytest.FixtureRequest, served_dir: Path) -> PythonTufRepository:
    served_dir.rmdir()
    return PythonTufRepository(served_dir, key_type=request.param)


def our_client(server: RepositoryServer, client_dir: Path, root: bytes) -> Updater:
    (client_dir / "metadata" / "root.json").write_bytes(root)
    return Updater(
        client_dir / "metadata",
        f"{server.url}/metadata",
        client_dir / "targets",
        f"{server.url}/targets",
    )


def again(server: RepositoryServer, client_dir: Path) -> Updater:
    return Updater(
        client_dir / "metadata",
        f"{server.url}/metadata",
        client_dir / "targets",
        f"{server.url}/targets",
    )


def test_reads_a_python_tuf_repository_with_sha256_targets(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    python_tuf_repo.add_target("apps/catalog.json", b"catalog bytes")
    python_tuf_repo.publish("targets", "snapshot", "timestamp")
    updater = our_client(http_server, client_dir, python_tuf_repo.root_bytes())
    info = updater.get_targetinfo("apps/catalog.json")
    assert info is not None and "sha256" in info.hashes
    assert updater.download_target(info).read_bytes() == b"catalog bytes"
    for name in ("root.json", "timestamp.json", "snapshot.json", "targets.json"):
        stored = (client_dir / "metadata" / name).read_bytes()
        served = sorted((python_tuf_repo.directory / "metadata").glob(f"*{name}"))[-1]
        assert stored == served.read_bytes(), name


@pytest.mark.parametrize("role", ["root", "timestamp", "snapshot", "targets"])
def test_follows_python_tuf_key_rotation_of_every_role(
    python_tuf_repo: PythonTufRepository,
    http_server: RepositoryServer,
    client_dir: Path,
    role: str,
) -> None:
    our_client(http_server, client_dir, python_tuf_repo.root_bytes()).refresh()
    python_tuf_repo.rotate(role, count=2, threshold=2)
    python_tuf_repo.add_target("after-rotation", b"new")
    python_tuf_repo.publish("targets", "snapshot", "timestamp")
    updater = again(http_server, client_dir)
    assert updater.get_targetinfo("after-rotation") is not None
    assert updater.trusted_set.root.version == 2


def test_follows_thresholds_raised_and_lowered(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    our_client(http_server, client_dir, python_tuf_repo.root_bytes()).refresh()
    python_tuf_repo.add_key("snapshot")
    python_tuf_repo.set_threshold("snapshot", 2)
    python_tuf_repo.publish("snapshot", "timestamp")
    again(http_server, client_dir).refresh()
    python_tuf_repo.set_threshold("snapshot", 1)
    python_tuf_repo.signers["snapshot"].pop()
    python_tuf_repo.publish("snapshot", "timestamp")
    again(http_server, client_dir).refresh()
    assert (client_dir / "metadata" / "root.json").read_bytes() == python_tuf_repo.root_bytes(3)


def test_refuses_a_python_tuf_snapshot_below_a_raised_threshold(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    python_tuf_repo.add_key("snapshot")
    python_tuf_repo.set_threshold("snapshot", 2)
    python_tuf_repo.signers["snapshot"].pop()  # only one of the two keys signs
    python_tuf_repo.publish("snapshot", "timestamp")
    with pytest.raises(UnsignedMetadataError):
        our_client(http_server, client_dir, python_tuf_repo.root_bytes()).refresh()


def test_reads_python_tuf_delegations(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    python_tuf_repo.delegate("icons", ["icons/*"])
    python_tuf_repo.add_target("icons/app.svg", b"<svg/>", role="icons")
    python_tuf_repo.publish("icons", "targets", "snapshot", "timestamp")
    updater = our_client(http_server, client_dir, python_tuf_repo.root_bytes())
    info = updater.get_targetinfo("icons/app.svg")
    assert info is not None
    assert updater.download_target(info).read_bytes() == b"<svg/>"
    assert (client_dir / "metadata" / "icons.json").exists()


def test_refuses_a_tampered_python_tuf_target(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    python_tuf_repo.add_target("app.tar", b"good")
    python_tuf_repo.publish("targets", "snapshot", "timestamp")
    for path in (python_tuf_repo.directory / "targets").glob("*.app.tar"):
        path.write_bytes(b"evil")
    updater = our_client(http_server, client_dir, python_tuf_repo.root_bytes())
    info = updater.get_targetinfo("app.tar")
    assert info is not None
    with pytest.raises(LengthOrHashMismatchError):
        updater.download_target(info)


def test_refuses_tampered_python_tuf_metadata(
    python_tuf_repo: PythonTufRepository, http_server: RepositoryServer, client_dir: Path
) -> None:
    path = python_tuf_repo.directory / "metadata" / "1.targets.json"
    path.write_bytes(path.read_bytes().replace(b'"version": 1', b'"version": 1, "x": 1', 1))
    with pytest.raises(UnsignedMetadataError):
        our_client(http_server, client_dir, python_tuf_repo.root_bytes()).refresh()


def test_python_tuf_client_refreshes_our_repository(
    live_repo: LiveRepository, http_server: RepositoryServer, tmp_path: Path
) -> None:
    live_repo.add_artifact("app-catalog.json", b"catalog", hashes=("blake3", "sha256"))
    live_repo.delegate("targets", "companions", paths=("companions/*",))
    live_repo.add_artifact("companions/c.tar", b"companion", role="companions", hashes=("sha256",))
    live_repo.publish()
    live_repo.rotate_keys("root", count=2, threshold=2)
    live_repo.rotate_keys("timestamp")
    live_repo.rotate_keys("snapshot")
    live_repo.publish()
    metadata_dir = tmp_path / "python-tuf"
    metadata_dir.mkdir()
    (metadata_dir / "root.json").write_bytes(live_repo.root_bytes(1))
    updater = PythonTufUpdater(
        str(metadata_dir),
        f"{http_server.url}/metadata/",
        str(tmp_path / "python-tuf-targets"),
        f"{http_server.url}/targets/",
        bootstrap=None,
    )
    updater.refresh()
    assert updater.get_targetinfo("app-catalog.json") is not None
    info = updater.get_targetinfo("companions/c.tar")
    assert info is not None
    assert Path(updater.download_target(info)).read_bytes() == b"companion"
