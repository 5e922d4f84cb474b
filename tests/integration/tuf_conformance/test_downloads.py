"""Artifacts and metadata sizes: several hashes, hash-prefixed names, oversized files."""

from __future__ import annotations

import hashlib

from tests.support.tuf_fixtures import ConformanceClient
from tests.support.tuf_oracle import SimulatedRepository


def test_artifact_with_several_hashes_is_fetched_by_one_of_them(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    info = repo.add_artifact("dir/multi.bin", b"several hashes", algorithms=("sha512", "sha256"))
    repo.publish_targets()
    assert client.init() == 0
    assert client.download("dir/multi.bin") == 0
    [(path, prefix)] = repo.artifact_requests
    assert path == "dir/multi.bin" and prefix in info.hashes.values()
    assert client.downloaded() == [b"several hashes"]


def test_every_listed_hash_must_match(client: ConformanceClient, repo: SimulatedRepository) -> None:
    info = repo.add_artifact("file", b"content", algorithms=("sha256", "sha512"))
    info.hashes["sha512"] = hashlib.sha512(b"other").hexdigest()
    repo.publish_targets()
    assert client.init() == 0
    assert client.download("file") == 1
    assert client.downloaded() == []


def test_artifact_longer_than_its_length_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.add_artifact("file", b"short")
    repo.publish_targets()
    repo.artifacts["file"].data = b"short" + b"x" * 5_000_000
    assert client.init() == 0
    assert client.download("file") == 1
    assert client.downloaded() == []


def test_oversized_timestamp_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.timestamp.unrecognized_fields["padding"] = "x" * 100_000
    repo.publish(["timestamp"])
    assert client.init() == 0
    assert client.refresh() == 1
    assert client.files() == ["root.json"]


def test_snapshot_longer_than_timestamp_says_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.metafile_hashes = True
    repo.publish(["snapshot", "timestamp"])
    repo.by_version["snapshot"][2] += b" "
    assert client.init() == 0
    assert client.refresh() == 1
    assert client.files() == ["root.json", "timestamp.json"]


def test_artifacts_are_fetched_without_hash_prefix_when_the_repository_says_so(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.prefix_targets_with_hash = False  # the server simply has no prefixed names
    repo.add_artifact("file", b"data")
    repo.publish_targets()
    assert client.init() == 0
    # Root says consistent_snapshot, so the client must ask for the prefixed name: a 404.
    assert client.download("file") == 1
