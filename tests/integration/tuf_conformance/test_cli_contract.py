"""The tuf-conformance client CLI contract: commands, exit codes, what lands on disk."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.tuf_fixtures import ConformanceClient, assert_refusal_not_crash
from tests.support.tuf_oracle import SimulatedRepository

TOP_LEVEL_FILES = ["root.json", "snapshot.json", "targets.json", "timestamp.json"]


def test_init_stores_the_trusted_root_and_makes_no_request(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.files() == ["root.json"]
    assert client.stored("root") == repo.published["root"][0]
    assert repo.metadata_requests == []


def test_refresh_fetches_top_level_metadata_in_workflow_order(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    assert repo.metadata_requests == [
        ("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)
    ]  # fmt: skip
    assert client.files() == TOP_LEVEL_FILES
    for role in ("root", "timestamp", "snapshot", "targets"):
        assert client.stored(role) == repo.published[role][-1]


def test_refresh_after_root_rotation_keeps_only_unversioned_names(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.bump_root()
    repo.bump_root()
    assert client.refresh() == 0
    assert client.files() == TOP_LEVEL_FILES  # no 2.root.json, 3.root.json
    assert client.stored("root") == repo.published["root"][2]
    assert repo.metadata_requests[:3] == [("root", 2), ("root", 3), ("root", 4)]


def test_invalid_or_unsigned_initial_root_makes_refresh_fail_without_requests(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    root = json.loads(repo.published["root"][0])
    del root["signed"]["version"]
    client.init(json.dumps(root).encode())  # init may refuse it or not
    assert client.refresh() == 1
    root = json.loads(repo.published["root"][0])
    root["signatures"][0]["sig"] = "00" * 64
    client.init(json.dumps(root).encode())
    assert client.refresh() == 1
    assert repo.metadata_requests == []


def test_download_refreshes_implicitly_and_missing_target_exits_1(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.download("nonexistent artifact") == 1
    assert client.last_stderr == "Error: nonexistent artifact: no such target in the repository\n"
    assert repo.metadata_requests == [
        ("root", 2), ("timestamp", None), ("snapshot", 1), ("targets", 1)
    ]  # fmt: skip
    assert client.files() == TOP_LEVEL_FILES
    assert client.downloaded() == []


def test_download_stores_targets_with_slashes_and_reuses_the_cached_copy(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.add_artifact("path/to/a/target_file.txt", b"nested")
    repo.add_artifact("top.txt", b"top")
    repo.publish_targets()
    assert client.init() == 0
    assert client.refresh() == 0
    assert client.downloaded() == []
    assert client.download("path/to/a/target_file.txt") == 0
    assert client.downloaded() == [b"nested"]
    sha = repo.artifacts["path/to/a/target_file.txt"].info.hashes["sha256"]
    assert repo.artifact_requests == [("path/to/a/target_file.txt", sha)]
    assert client.download("path/to/a/target_file.txt") == 0
    assert len(repo.artifact_requests) == 1  # cached: not fetched again
    assert client.download("top.txt", "path/to/a/target_file.txt") == 0
    assert [path for path, _ in repo.artifact_requests] == ["path/to/a/target_file.txt", "top.txt"]
    assert sorted(client.downloaded()) == [b"nested", b"top"]


def test_several_target_names_are_fetched_in_order_and_a_missing_one_fails(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    for name in ("b", "a", "c"):
        repo.add_artifact(name, name.encode())
    repo.publish_targets()
    assert client.init() == 0
    assert client.download("c", "a", "missing", "b") == 1
    assert [path for path, _ in repo.artifact_requests] == ["c", "a"]
    assert client.download("c", "a", "b") == 0
    assert [path for path, _ in repo.artifact_requests] == ["c", "a", "b"]


def test_a_changed_artifact_replaces_the_old_file_under_the_same_name(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.add_artifact("dir/artifact", b"version 1")
    repo.publish_targets()
    assert client.init() == 0
    assert client.download("dir/artifact") == 0
    repo.add_artifact("dir/artifact", b"version 2")
    repo.publish_targets()
    assert client.download("dir/artifact") == 0
    assert client.downloaded() == [b"version 2"]


def test_substituted_artifacts_are_never_stored(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.add_artifact("one", b"legitimate one")
    repo.add_artifact("two", b"legitimate two")
    repo.publish_targets()
    assert client.init() == 0
    assert client.download("one") == 0
    repo.artifacts["one"].data = b"malicious"
    repo.artifacts["two"].data = b"malicious"
    assert client.download("one") == 0  # the verified cached copy
    assert client.download("two") == 1
    assert client.downloaded() == [b"legitimate one"]


def test_usage_errors_exit_2(client: ConformanceClient) -> None:
    assert client._run("--metadata-dir", client.metadata_dir, "refresh") == 2


def test_a_crash_exiting_1_is_not_taken_for_a_refusal() -> None:
    """An uncaught exception also exits 1; the client wrapper must fail on it, not pass it."""
    crash = subprocess.run(
        [sys.executable, "-c", "raise RuntimeError('boom')"], capture_output=True, text=True
    )
    assert crash.returncode == 1
    with pytest.raises(AssertionError, match="crashed instead of refusing"):
        assert_refusal_not_crash(crash.returncode, crash.stderr)
    with pytest.raises(AssertionError, match="exactly one error line"):
        assert_refusal_not_crash(1, "")
    assert_refusal_not_crash(1, "error: timestamp: expired\n")


def test_a_refusal_names_its_reason_in_one_line(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    root = json.loads(repo.published["root"][0])
    root["signatures"][0]["sig"] = "00" * 64
    assert client.init(json.dumps(root).encode()) == 1
    assert client.last_stderr == "error: root: signed by 0 of the 1 keys the threshold requires\n"
    assert client.files() == []
