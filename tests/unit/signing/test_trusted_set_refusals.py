"""signing/trusted_set.py in-process: the workflow order and each refusal's exact message.

The client tests drive the updater through a subprocess, where no mutation of this module
is seen by the test process's coverage; these call ``TrustedSet`` directly.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from signing import repository
from signing.errors import (
    BadVersionNumberError,
    EqualVersionNumberError,
    ExpiredMetadataError,
    LengthOrHashMismatchError,
    RepositoryError,
)
from signing.keys import SigningKey
from signing.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp
from signing.trusted_set import TrustedSet

NOW = datetime(2026, 6, 1, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
ROOT_KEY, ONLINE, TARGETS_KEY, DELEGATE_KEY = (
    SigningKey.from_seed(bytes([n]) * 32) for n in (11, 12, 13, 14)
)


@dataclasses.dataclass
class Repo:
    root: Metadata[Root]
    targets: Metadata[Targets]
    apps: Metadata[Targets]
    snapshot: Metadata[Snapshot]
    timestamp: Metadata[Timestamp]


def build(
    *, root_expires: datetime = LATER, ts_version: int = 1, snap_version: int = 1,
    targets_version: int = 1, ts_expires: datetime = LATER, snap_expires: datetime = LATER,
    snapshot_meta: dict[str, MetaFile] | None = None,
) -> Repo:  # fmt: skip
    root = repository.new_root(
        root_expires,
        {"root": [ROOT_KEY.public_key], "timestamp": [ONLINE.public_key],
         "snapshot": [ONLINE.public_key], "targets": [TARGETS_KEY.public_key]},
    )  # fmt: skip
    apps = repository.sign(Targets(1, LATER), [DELEGATE_KEY])
    parent = repository.delegate(Targets(targets_version, LATER), "apps", [DELEGATE_KEY.public_key])
    targets = repository.sign(parent, [TARGETS_KEY])
    meta = {
        "targets.json": repository.meta_file(targets_version, targets.to_bytes()),
        "apps.json": repository.meta_file(1, apps.to_bytes()),
    }
    snapshot = repository.sign(
        Snapshot(snap_version, snap_expires, snapshot_meta or meta), [ONLINE]
    )
    ts = repository.timestamp_for(ts_version, ts_expires, snapshot)
    return Repo(
        repository.sign(root, [ROOT_KEY]), targets, apps, snapshot, repository.sign(ts, [ONLINE])
    )


def trusted(repo: Repo) -> TrustedSet:
    return TrustedSet(repo.root.to_bytes(), NOW)


def refusal(kind: type[Exception], call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(kind) as raised:
        call(*args)
    assert type(raised.value) is kind
    return str(raised.value)


def test_the_whole_workflow_in_order_and_what_is_trusted_after_each_step() -> None:
    repo = build()
    state = trusted(repo)
    assert (state.has_timestamp(), state.has_snapshot()) == (False, False)
    state.update_timestamp(repo.timestamp.to_bytes())
    assert (state.has_timestamp(), state.has_snapshot()) == (True, False)
    state.update_snapshot(repo.snapshot.to_bytes())
    assert (state.has_timestamp(), state.has_snapshot()) == (True, True)
    assert state.update_targets(repo.targets.to_bytes()) == repo.targets.signed
    assert state.targets == repo.targets.signed
    assert state.delegated_targets("targets", "root") == repo.targets.signed
    apps = state.update_delegated_targets(repo.apps.to_bytes(), "apps", "targets")
    assert apps == repo.apps.signed == state.delegated_targets("apps", "targets")
    assert state.delegated_targets("apps", "root") is None


def test_out_of_order_calls_say_what_is_missing() -> None:
    repo = build()
    state = trusted(repo)
    assert refusal(RuntimeError, state.update_snapshot, repo.snapshot.to_bytes()) == (
        "snapshot needs a trusted timestamp first"
    )
    assert refusal(RuntimeError, state.update_targets, repo.targets.to_bytes()) == (
        "targets need a trusted snapshot first"
    )
    state.update_timestamp(repo.timestamp.to_bytes())
    state.update_snapshot(repo.snapshot.to_bytes())
    assert refusal(RuntimeError, state.update_root, repo.root.to_bytes()) == (
        "root cannot change once the timestamp is loaded"
    )
    assert refusal(RuntimeError, state.update_timestamp, repo.timestamp.to_bytes()) == (
        "timestamp cannot change once the snapshot is loaded"
    )
    assert (
        refusal(
            RuntimeError, state.update_delegated_targets, repo.apps.to_bytes(), "apps", "targets"
        )
        == "delegator 'targets' is not trusted yet"
    )
    state.update_targets(repo.targets.to_bytes())
    assert refusal(RuntimeError, state.update_snapshot, repo.snapshot.to_bytes()) == (
        "snapshot cannot change once targets are loaded"
    )
    assert (
        refusal(
            RepositoryError,
            state.update_delegated_targets,
            repo.apps.to_bytes(),
            "tools",
            "targets",
        )
        == "snapshot does not list 'tools'"
    )


def test_a_root_of_the_wrong_version_is_refused_with_both_numbers() -> None:
    repo = build()
    state = trusted(repo)
    skipped = repository.sign(dataclasses.replace(repo.root.signed, version=3), [ROOT_KEY])
    assert refusal(BadVersionNumberError, state.update_root, skipped.to_bytes()) == (
        "root: expected version 2, got 3"
    )


def test_expiry_refusals_name_the_role() -> None:
    past = NOW - timedelta(days=1)
    repo = build(root_expires=past)
    assert refusal(
        ExpiredMetadataError, trusted(repo).update_timestamp, repo.timestamp.to_bytes()
    ) == ("root: expired (the final root must be current)")
    repo = build(ts_expires=past)
    state = trusted(repo)
    assert refusal(ExpiredMetadataError, state.update_timestamp, repo.timestamp.to_bytes()) == (
        "timestamp: expired"
    )
    assert state.has_timestamp()  # kept as the rollback reference
    repo = build(snap_expires=past)
    state = trusted(repo)
    state.update_timestamp(repo.timestamp.to_bytes())
    assert refusal(ExpiredMetadataError, state.update_snapshot, repo.snapshot.to_bytes()) == (
        "snapshot: expired"
    )


def test_timestamp_rollback_and_equal_version_refusals() -> None:
    state = trusted(build())
    state.update_timestamp(build(ts_version=3, snap_version=2).timestamp.to_bytes())
    assert (
        refusal(
            BadVersionNumberError, state.update_timestamp, build(ts_version=2).timestamp.to_bytes()
        )
        == "timestamp: version 2 is older than the trusted version 3"
    )
    assert refusal(
        EqualVersionNumberError, state.update_timestamp,
        build(ts_version=3, snap_version=2).timestamp.to_bytes(),
    ) == "timestamp: same version as the trusted one"  # fmt: skip
    assert refusal(
        BadVersionNumberError, state.update_timestamp,
        build(ts_version=4, snap_version=1).timestamp.to_bytes(),
    ) == "timestamp: snapshot version 1 is older than the trusted 2"  # fmt: skip
    # the same snapshot version in a newer timestamp is fine (only older is refused)
    state.update_timestamp(build(ts_version=5, snap_version=2).timestamp.to_bytes())
    assert state.timestamp.version == 5


def test_snapshot_refusals_name_the_versions_and_files() -> None:
    repo = build(snap_version=2)
    state = trusted(repo)
    mismatch = build(snap_version=1)
    state.update_timestamp(repo.timestamp.to_bytes())
    assert refusal(LengthOrHashMismatchError, state.update_snapshot, mismatch.snapshot.to_bytes())
    assert refusal(
        BadVersionNumberError, state.update_snapshot, mismatch.snapshot.to_bytes(), True
    ) == ("snapshot: timestamp names version 2, got 1")
    # the cached snapshot (v1, kept as the rollback reference), then a remote one that drops
    # a file the cached one listed
    state = trusted(repo)
    state.update_timestamp(repo.timestamp.to_bytes())
    refusal(BadVersionNumberError, state.update_snapshot, mismatch.snapshot.to_bytes(), True)
    fewer = build(snap_version=2, snapshot_meta={"targets.json": MetaFile(1)})
    assert refusal(RepositoryError, state.update_snapshot, fewer.snapshot.to_bytes(), True) == (
        "snapshot: no longer lists 'apps.json'"
    )


def test_the_timestamp_s_length_and_hashes_of_the_snapshot_are_both_checked() -> None:
    repo = build()
    state = trusted(repo)
    state.update_timestamp(repo.timestamp.to_bytes())
    padded = repo.snapshot.to_bytes() + b" "
    assert refusal(LengthOrHashMismatchError, state.update_snapshot, padded) == (
        f"expected {len(padded) - 1} bytes, got {len(padded)}"
    )
    same_length = repo.snapshot.to_bytes().replace(b"apps.json", b"apps.jsox")
    assert "hash" in refusal(LengthOrHashMismatchError, state.update_snapshot, same_length)


def test_targets_are_checked_against_the_snapshot_length_hashes_and_version() -> None:
    repo = build()
    state = trusted(repo)
    state.update_timestamp(repo.timestamp.to_bytes())
    state.update_snapshot(repo.snapshot.to_bytes())
    padded = repo.targets.to_bytes() + b" "
    assert refusal(LengthOrHashMismatchError, state.update_targets, padded) == (
        f"expected {len(padded) - 1} bytes, got {len(padded)}"
    )
    other = build(targets_version=2)
    forged_meta = {
        "targets.json": repository.meta_file(1, other.targets.to_bytes()),
        "apps.json": repository.meta_file(1, repo.apps.to_bytes()),
    }
    repo2 = build(snapshot_meta=forged_meta)
    state = trusted(repo2)
    state.update_timestamp(repo2.timestamp.to_bytes())
    state.update_snapshot(repo2.snapshot.to_bytes())
    assert refusal(BadVersionNumberError, state.update_targets, other.targets.to_bytes()) == (
        "targets: snapshot names version 1, got 2"
    )
    same_length = repo.apps.to_bytes().replace(b'"version":1', b'"version":2')
    state = trusted(repo)
    state.update_timestamp(repo.timestamp.to_bytes())
    state.update_snapshot(repo.snapshot.to_bytes())
    state.update_targets(repo.targets.to_bytes())
    refusal(
        LengthOrHashMismatchError, state.update_delegated_targets, same_length, "apps", "targets"
    )
