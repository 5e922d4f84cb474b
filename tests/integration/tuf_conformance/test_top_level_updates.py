"""Top-level roles: unsigned, expired, rolled back, fast-forwarded, non-consistent repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, MetaFile
from tuf.api.serialization.json import JSONSerializer

from tests.support.tuf_fixtures import ConformanceClient, SimulatedRepositoryServer
from tests.support.tuf_oracle import (
    SimulatedRepository,
    days_from_now,
    new_signer,
)


@pytest.mark.parametrize("role", ["timestamp", "snapshot", "targets"])
def test_metadata_signed_by_an_unknown_key_is_refused(
    client: ConformanceClient, repo: SimulatedRepository, role: str
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    stranger = new_signer()  # a key root does not trust for this role
    repo.signers[role] = {stranger.public_key.keyid: stranger}
    repo.publish_targets()
    assert client.refresh() == 1
    assert client.version(role) == 1


@pytest.mark.parametrize("role", ["timestamp", "snapshot", "targets"])
def test_expired_new_metadata_is_not_stored(
    client: ConformanceClient, repo: SimulatedRepository, role: str
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    repo.md[role].signed.expires = days_from_now(-5)
    repo.publish_targets()
    assert client.refresh() == 1
    assert client.version(role) == 1
    assert client.version("root") == 1


def test_expired_final_root_is_stored_but_nothing_after_it(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    repo.root.expires = days_from_now(-1)
    repo.bump_root()
    repo.publish_targets()
    assert client.refresh() == 1
    assert client.version("root") == 2
    assert [client.version(r) for r in ("timestamp", "snapshot", "targets")] == [1, 1, 1]


def test_timestamp_with_the_same_version_but_new_content_is_ignored(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    before = client.stored("timestamp")
    repo.timestamp.snapshot_meta.version = 100
    repo.publish(["timestamp"], bump=False)
    assert client.refresh() == 0
    assert client.stored("timestamp") == before


def test_timestamp_rollback_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.publish(["timestamp"])
    assert client.refresh() == 0
    repo.timestamp.version = 1
    repo.publish(["timestamp"], bump=False)
    assert client.refresh() == 1
    assert client.version("timestamp") == 2
    assert repo.metadata_requests[-1] == ("timestamp", None)


@pytest.mark.parametrize("hashes", [False, True], ids=["versions-only", "with-hashes"])
def test_snapshot_rollback_is_refused(
    client: ConformanceClient, repo: SimulatedRepository, hashes: bool
) -> None:
    repo.metafile_hashes = hashes
    assert client.init() == 0
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 0
    repo.snapshot.version = 1
    repo.published["snapshot"].append(repo.by_version["snapshot"][1])
    repo.timestamp.snapshot_meta = repo.metafile("snapshot")  # names snapshot v1 again
    repo.publish(["timestamp"])
    assert client.refresh() == 1
    assert (client.version("timestamp"), client.version("snapshot")) == (2, 2)
    assert repo.metadata_requests[-1] == ("timestamp", None)


def test_snapshot_not_matching_timestamp_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.snapshot.version += 1
    repo.by_version["snapshot"][1] = _signed_bytes(repo, "snapshot")  # v2 served as 1.snapshot.json
    assert client.refresh() == 1
    assert client.files() == ["root.json", "timestamp.json"]
    assert repo.metadata_requests[-1] == ("snapshot", 1)


@pytest.mark.parametrize("hashes", [False, True], ids=["versions-only", "with-hashes"])
def test_targets_rollback_is_refused(
    client: ConformanceClient, repo: SimulatedRepository, hashes: bool
) -> None:
    repo.metafile_hashes = hashes
    assert client.init() == 0
    repo.publish_targets()
    assert client.refresh() == 0
    repo.targets().version = 1  # the old version, freshly signed: not a new one
    repo.publish(["targets"], bump=False)
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 1
    assert client.version("snapshot") == 2  # trusted v2 names targets v2
    assert client.version("targets") == 2


def test_targets_hash_mismatch_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.metafile_hashes = True
    repo.publish(["snapshot", "timestamp"])
    assert client.init() == 0
    assert client.refresh() == 0
    stale = repo.metafile("targets")
    repo.publish(["targets"])
    repo.snapshot.meta["targets.json"] = MetaFile(2, stale.length, stale.hashes)  # v1's hashes
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 1
    assert client.version("targets") == 1


def test_expired_local_timestamp_still_guards_against_rollback(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.timestamp.expires = days_from_now(-1)
    repo.timestamp.version = 5
    repo.sign("timestamp")
    expired_v5 = repo.md["timestamp"].to_bytes(JSONSerializer())
    repo.timestamp.expires = days_from_now(30)
    repo.timestamp.version = 1
    assert client.refresh() == 0
    (client.metadata_dir / "timestamp.json").write_bytes(expired_v5)
    assert client.refresh() == 1  # the served v1 is older than the (expired) trusted v5
    repo.timestamp.version = 5
    repo.publish(["timestamp"], bump=False)
    repo.publish(["timestamp"])
    assert client.refresh() == 0  # v6 replaces the expired v5
    assert client.version("timestamp") == 6


def test_timestamp_fast_forward_recovery_by_key_rotation(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.timestamp.version = 99
    repo.publish(["timestamp"], bump=False)
    assert client.refresh() == 0
    assert client.version("timestamp") == 99
    repo.replace_keys("timestamp", "ecdsa")
    repo.bump_root()
    repo.timestamp.version = 1
    repo.publish(["timestamp"], bump=False)
    assert client.refresh() == 0
    assert client.version("timestamp") == 1
    assert client.stored("timestamp") == repo.published["timestamp"][-1]


def test_snapshot_fast_forward_recovery_by_key_rotation(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.snapshot.version = 99999
    repo.publish(["snapshot"], bump=False)
    repo.publish(["timestamp"])
    assert client.refresh() == 0
    assert client.version("snapshot") == 99999
    repo.replace_keys("snapshot")
    repo.replace_keys("timestamp")
    repo.bump_root()
    repo.snapshot.version = 1
    repo.publish(["snapshot"], bump=False)
    repo.publish(["timestamp"])
    assert client.refresh() == 0
    assert client.version("snapshot") == 1


def test_targets_fast_forward_recovery_by_snapshot_key_rotation(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.targets().version = 100
    repo.publish(["targets"], bump=False)
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 0
    assert client.version("targets") == 100
    repo.replace_keys("snapshot")
    repo.bump_root()
    repo.targets().version = 1
    repo.publish(["targets"], bump=False)
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 0
    assert client.version("targets") == 1


def test_repository_without_consistent_snapshots_uses_unversioned_names(tmp_path: Path) -> None:
    repo = SimulatedRepository(consistent_snapshot=False)
    repo.add_artifact("dir/file.txt", b"plain names")
    repo.publish_targets()
    server = SimulatedRepositoryServer(repo)
    try:
        client = ConformanceClient(tmp_path, server)
        assert client.init() == 0
        assert client.download("dir/file.txt") == 0
        assert repo.metadata_requests == [
            ("root", 2), ("timestamp", None), ("snapshot", None), ("targets", None)
        ]  # fmt: skip
        assert repo.artifact_requests == [("dir/file.txt", None)]
        assert client.downloaded() == [b"plain names"]
        for role in ("root", "timestamp", "snapshot", "targets"):
            assert client.stored(role) == repo.published[role][-1]
    finally:
        server.close()


def test_metadata_is_stored_byte_for_byte_as_served(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    """Pretty-printed, non-canonical JSON: the client keeps the served bytes, not a re-encoding."""
    for role in ("targets", "snapshot", "timestamp"):
        repo.sign(role)
        repo.serve(role, repo.md[role].to_bytes(JSONSerializer(compact=False)) + b"\n")
    repo.root.version += 1
    repo.sign("root")
    repo.serve("root", repo.md["root"].to_bytes(JSONSerializer(compact=False)))
    assert client.init() == 0
    assert client.refresh() == 0
    for role in ("root", "timestamp", "snapshot", "targets"):
        assert client.stored(role) == repo.published[role][-1]


def _signed_bytes(repo: SimulatedRepository, role: str) -> bytes:
    repo.sign(role)
    data: bytes = repo.md[role].to_bytes(JSONSerializer())
    assert Metadata.from_bytes(data).signed.version == repo.md[role].signed.version
    return data
