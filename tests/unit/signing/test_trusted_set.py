"""``TrustedSet`` fed metadata bytes for each step of the TUF client workflow (spec 1.0.31 §5).

Each test is one rule of the specification's "detailed client workflow", named after the
rule: load the trusted root (§5.2), update the root (§5.3), the timestamp (§5.4), the
snapshot (§5.5) and the targets (§5.6), and the order those steps must come in.  The bytes
are built and signed with the project's own ``signing.repository``, exactly as the
publisher writes them, and handed to the state machine with no fetcher and no files.
Every test has a refusal it expects (or the acceptance the rule allows), so removing the
check a test is named after makes it fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from signing import repository
from signing.errors import (
    BadVersionNumberError,
    EqualVersionNumberError,
    ExpiredMetadataError,
    LengthOrHashMismatchError,
    MetadataFormatError,
    RepositoryError,
    UnsignedMetadataError,
)
from signing.keys import SigningKey
from signing.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp
from signing.trusted_set import TrustedSet

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # the fixed update start time
FUTURE = START + timedelta(days=90)
PAST = START - timedelta(days=1)


def key(n: int) -> SigningKey:
    return SigningKey.from_seed(bytes([n]) * 32)


ROOT_A, ROOT_B, ROOT_C = key(41), key(42), key(43)
ONLINE, ONLINE_NEW, TARGETS_KEY, APPS_KEY, STRANGER = key(51), key(52), key(53), key(54), key(55)


@dataclasses.dataclass
class Published:
    """One consistent set of metadata as a repository serves it, and its bytes."""

    root: Metadata[Root]
    timestamp: Metadata[Timestamp]
    snapshot: Metadata[Snapshot]
    targets: Metadata[Targets]
    apps: Metadata[Targets]


def first_root(expires: datetime = FUTURE, **changes: Any) -> Root:
    root = repository.new_root(
        expires,
        {"root": [ROOT_A.public_key], "timestamp": [ONLINE.public_key],
         "snapshot": [ONLINE.public_key], "targets": [TARGETS_KEY.public_key]},
    )  # fmt: skip
    return dataclasses.replace(root, **changes)


def publish(
    *,
    timestamp_version: int = 1,
    snapshot_version: int = 1,
    targets_version: int = 1,
    apps_version: int = 1,
    timestamp_expires: datetime = FUTURE,
    snapshot_expires: datetime = FUTURE,
    targets_expires: datetime = FUTURE,
    online: SigningKey = ONLINE,
    targets_signer: SigningKey = TARGETS_KEY,
    apps_signer: SigningKey = APPS_KEY,
    snapshot_meta: dict[str, MetaFile] | None = None,
) -> Published:
    """Root v1 and a timestamp → snapshot → targets → apps chain with the given versions."""
    apps = repository.sign(Targets(apps_version, FUTURE), [apps_signer])
    parent = repository.delegate(
        Targets(targets_version, targets_expires), "apps", [APPS_KEY.public_key]
    )
    targets = repository.sign(parent, [targets_signer])
    meta = {
        "targets.json": repository.meta_file(targets_version, targets.to_bytes()),
        "apps.json": repository.meta_file(apps_version, apps.to_bytes()),
    }
    snapshot = repository.sign(
        Snapshot(
            snapshot_version, snapshot_expires, meta if snapshot_meta is None else snapshot_meta
        ),
        [online],
    )
    timestamp = repository.sign(
        repository.timestamp_for(timestamp_version, timestamp_expires, snapshot), [online]
    )
    root = repository.sign(first_root(), [ROOT_A])
    return Published(root, timestamp, snapshot, targets, apps)


def timestamp_naming(snapshot_version: int, version: int = 1) -> bytes:
    """A timestamp (signed by the online key) that names a snapshot version, without hashes."""
    return repository.sign(
        Timestamp(version, FUTURE, MetaFile(snapshot_version)), [ONLINE]
    ).to_bytes()


def client(published: Published | None = None) -> TrustedSet:
    published = published or publish()
    return TrustedSet(published.root.to_bytes(), START)


def loaded_through_snapshot(published: Published) -> TrustedSet:
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    state.update_snapshot(published.snapshot.to_bytes())
    return state


def refused(kind: type[Exception], call: Callable[..., object], *args: object) -> str:
    """The message of the refusal, which must be exactly of type ``kind``."""
    with pytest.raises(kind) as raised:
        call(*args)
    assert type(raised.value) is kind
    return str(raised.value)


def next_root(current: Root, **changes: Any) -> Root:
    return dataclasses.replace(repository.bump(current, FUTURE), **changes)


def with_root_keys(root: Root, keys: list[SigningKey], threshold: int) -> Root:
    """``root`` whose root role is exactly ``keys`` with ``threshold``."""
    changed = root
    for each in keys:
        changed = repository.add_key(changed, "root", each.public_key)
    changed = repository.set_threshold(changed, "root", 1)
    for keyid in list(changed.roles["root"].keyids):
        if keyid not in {each.keyid for each in keys}:
            changed = repository.remove_key(changed, "root", keyid)
    return repository.set_threshold(changed, "root", threshold)


# --- §5.2 load the trusted root -------------------------------------------------------------


def test_the_trusted_root_must_be_signed_by_a_threshold_of_its_own_root_keys() -> None:
    forged = repository.sign(first_root(), [STRANGER])
    assert refused(UnsignedMetadataError, TrustedSet, forged.to_bytes(), START) == (
        "root: signed by 0 of the 1 keys the threshold requires"
    )


def test_the_trusted_root_must_be_root_metadata() -> None:
    timestamp = publish().timestamp
    message = refused(MetadataFormatError, TrustedSet, timestamp.to_bytes(), START)
    assert message == "root.signed._type: expected 'root', got 'timestamp'"


def test_an_expired_trusted_root_still_loads_because_an_update_may_replace_it() -> None:
    stale = repository.sign(first_root(expires=PAST), [ROOT_A])
    assert TrustedSet(stale.to_bytes(), START).root.version == 1


# --- §5.3 update the root -------------------------------------------------------------------


def test_root_n_plus_1_signed_by_the_old_and_the_new_root_thresholds_becomes_trusted() -> None:
    state = client()
    rotated = with_root_keys(next_root(state.root), [ROOT_B], 1)
    assert state.update_root(repository.sign(rotated, [ROOT_A, ROOT_B]).to_bytes()) == rotated
    assert state.root.roles["root"].keyids == (ROOT_B.keyid,)


def test_root_n_plus_1_without_the_old_roots_threshold_is_refused() -> None:
    state = client()
    rotated = with_root_keys(next_root(state.root), [ROOT_B], 1)
    only_new = repository.sign(rotated, [ROOT_B]).to_bytes()
    assert refused(UnsignedMetadataError, state.update_root, only_new) == (
        "root: signed by 0 of the 1 keys the threshold requires"
    )
    assert state.root.version == 1


def test_root_n_plus_1_without_its_own_threshold_is_refused() -> None:
    state = client()
    rotated = with_root_keys(next_root(state.root), [ROOT_B], 1)
    only_old = repository.sign(rotated, [ROOT_A]).to_bytes()
    assert refused(UnsignedMetadataError, state.update_root, only_old) == (
        "root: signed by 0 of the 1 keys the threshold requires"
    )
    assert state.root.version == 1


def test_root_n_plus_1_short_of_its_own_raised_threshold_is_refused() -> None:
    state = client()
    two_of_three = with_root_keys(next_root(state.root), [ROOT_A, ROOT_B, ROOT_C], 2)
    one_signature = repository.sign(two_of_three, [ROOT_A]).to_bytes()
    assert refused(UnsignedMetadataError, state.update_root, one_signature) == (
        "root: signed by 1 of the 2 keys the threshold requires"
    )
    enough = repository.sign(two_of_three, [ROOT_A, ROOT_C]).to_bytes()
    assert state.update_root(enough).roles["root"].threshold == 2


def test_a_root_whose_old_threshold_is_two_needs_two_old_keys_to_move_on() -> None:
    state = client()
    two_of_three = with_root_keys(next_root(state.root), [ROOT_A, ROOT_B, ROOT_C], 2)
    state.update_root(repository.sign(two_of_three, [ROOT_A, ROOT_B]).to_bytes())
    third = with_root_keys(next_root(two_of_three), [ROOT_C], 1)
    one_old_key = repository.sign(third, [ROOT_C]).to_bytes()
    assert refused(UnsignedMetadataError, state.update_root, one_old_key) == (
        "root: signed by 1 of the 2 keys the threshold requires"
    )
    assert state.update_root(repository.sign(third, [ROOT_B, ROOT_C]).to_bytes()).version == 3


def test_the_root_chain_is_followed_one_version_at_a_time_across_rotations() -> None:
    state = client()
    second = with_root_keys(next_root(state.root), [ROOT_B], 1)
    third = with_root_keys(next_root(second), [ROOT_C], 1)
    state.update_root(repository.sign(second, [ROOT_A, ROOT_B]).to_bytes())
    # Version 3 needs version 2's keys, not the keys the client started with.
    assert state.update_root(repository.sign(third, [ROOT_B, ROOT_C]).to_bytes()) == third


def test_a_root_that_skips_a_version_is_refused() -> None:
    state = client()
    skipped = dataclasses.replace(next_root(state.root), version=3)
    assert refused(
        BadVersionNumberError, state.update_root, repository.sign(skipped, [ROOT_A]).to_bytes()
    ) == ("root: expected version 2, got 3")


def test_a_root_with_the_trusted_version_is_refused_as_not_the_next_one() -> None:
    state = client()
    same = repository.sign(
        dataclasses.replace(state.root, expires=FUTURE + timedelta(days=1)), [ROOT_A]
    )
    assert refused(BadVersionNumberError, state.update_root, same.to_bytes()) == (
        "root: expected version 2, got 1"
    )
    assert state.root.expires == FUTURE


def test_a_root_update_must_be_root_metadata() -> None:
    published = publish()
    state = client(published)
    message = refused(MetadataFormatError, state.update_root, published.targets.to_bytes())
    assert message == "root.signed._type: expected 'root', got 'targets'"


def test_an_expired_intermediate_root_is_accepted_when_a_current_root_follows() -> None:
    state = client()
    expired = next_root(state.root, expires=PAST)
    current = next_root(expired)
    state.update_root(repository.sign(expired, [ROOT_A]).to_bytes())
    state.update_root(repository.sign(current, [ROOT_A]).to_bytes())
    state.update_timestamp(publish().timestamp.to_bytes())
    assert state.root.version == 3


def test_the_final_root_must_not_be_expired_when_the_timestamp_is_loaded() -> None:
    state = client()
    state.update_root(repository.sign(next_root(state.root, expires=PAST), [ROOT_A]).to_bytes())
    message = refused(ExpiredMetadataError, state.update_timestamp, publish().timestamp.to_bytes())
    assert message == "root: expired (the final root must be current)"
    assert not state.has_timestamp()


def test_a_root_expiring_exactly_at_the_update_start_time_counts_as_expired() -> None:
    state = client()
    state.update_root(repository.sign(next_root(state.root, expires=START), [ROOT_A]).to_bytes())
    with pytest.raises(ExpiredMetadataError):
        state.update_timestamp(publish().timestamp.to_bytes())


# --- §5.4 update the timestamp --------------------------------------------------------------


def test_a_timestamp_must_be_signed_by_the_roots_timestamp_keys() -> None:
    published = publish(online=STRANGER)
    state = client(published)
    assert refused(
        UnsignedMetadataError, state.update_timestamp, published.timestamp.to_bytes()
    ) == ("timestamp: signed by 0 of the 1 keys the threshold requires")
    assert not state.has_timestamp()


def test_a_timestamp_is_checked_against_the_timestamp_keys_of_the_updated_root() -> None:
    state = client()
    rotated = repository.add_key(next_root(state.root), "timestamp", ONLINE_NEW.public_key)
    rotated = repository.remove_key(rotated, "timestamp", ONLINE.keyid)
    state.update_root(repository.sign(rotated, [ROOT_A]).to_bytes())
    with pytest.raises(UnsignedMetadataError):
        state.update_timestamp(publish().timestamp.to_bytes())
    new_timestamp = repository.sign(publish().timestamp.signed, [ONLINE_NEW])
    assert state.update_timestamp(new_timestamp.to_bytes()).version == 1


def test_a_timestamp_must_be_timestamp_metadata() -> None:
    published = publish()
    state = client(published)
    message = refused(MetadataFormatError, state.update_timestamp, published.snapshot.to_bytes())
    assert message == "timestamp.signed._type: expected 'timestamp', got 'snapshot'"


def test_a_timestamp_older_than_the_trusted_one_is_a_rollback() -> None:
    state = client()
    state.update_timestamp(publish(timestamp_version=5).timestamp.to_bytes())
    older = publish(timestamp_version=4).timestamp.to_bytes()
    assert refused(BadVersionNumberError, state.update_timestamp, older) == (
        "timestamp: version 4 is older than the trusted version 5"
    )
    assert state.timestamp.version == 5


def test_a_timestamp_of_the_trusted_version_is_reported_as_equal_and_the_old_one_kept() -> None:
    state = client()
    first = publish(timestamp_version=5, snapshot_version=1).timestamp
    state.update_timestamp(first.to_bytes())
    same_version = publish(timestamp_version=5, snapshot_version=2).timestamp.to_bytes()
    assert refused(EqualVersionNumberError, state.update_timestamp, same_version) == (
        "timestamp: same version as the trusted one"
    )
    assert state.timestamp == first.signed


def test_a_timestamp_naming_an_older_snapshot_than_the_trusted_timestamp_is_a_rollback() -> None:
    state = client()
    state.update_timestamp(timestamp_naming(snapshot_version=7, version=1))
    assert refused(
        BadVersionNumberError, state.update_timestamp, timestamp_naming(6, version=2)
    ) == ("timestamp: snapshot version 6 is older than the trusted 7")
    assert state.timestamp.snapshot_meta.version == 7


def test_a_newer_timestamp_may_name_the_same_snapshot_version() -> None:
    state = client()
    state.update_timestamp(timestamp_naming(snapshot_version=7, version=1))
    assert state.update_timestamp(timestamp_naming(7, version=2)).version == 2


def test_an_expired_timestamp_is_refused_as_a_freeze_but_kept_against_later_rollbacks() -> None:
    state = client()
    expired = publish(timestamp_version=3, timestamp_expires=PAST).timestamp.to_bytes()
    assert refused(ExpiredMetadataError, state.update_timestamp, expired) == "timestamp: expired"
    older = publish(timestamp_version=2).timestamp.to_bytes()
    with pytest.raises(BadVersionNumberError):
        state.update_timestamp(older)


def test_a_snapshot_cannot_be_loaded_on_top_of_an_expired_timestamp() -> None:
    published = publish(timestamp_expires=PAST)
    state = client(published)
    with pytest.raises(ExpiredMetadataError):
        state.update_timestamp(published.timestamp.to_bytes())
    message = refused(ExpiredMetadataError, state.update_snapshot, published.snapshot.to_bytes())
    assert message == "timestamp: expired"


def test_a_timestamp_expiring_exactly_at_the_update_start_time_counts_as_expired() -> None:
    published = publish(timestamp_expires=START)
    with pytest.raises(ExpiredMetadataError):
        client(published).update_timestamp(published.timestamp.to_bytes())


# --- §5.5 update the snapshot ---------------------------------------------------------------


def test_a_snapshot_whose_bytes_differ_from_the_timestamps_hash_is_refused_before_parsing() -> None:
    published = publish()
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    data = published.snapshot.to_bytes()
    same_length_garbage = b"x" * len(data)
    message = refused(LengthOrHashMismatchError, state.update_snapshot, same_length_garbage)
    assert message == "sha256 hash does not match"
    assert not state.has_snapshot()


def test_a_snapshot_whose_length_differs_from_the_timestamp_is_refused() -> None:
    published = publish()
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    with pytest.raises(LengthOrHashMismatchError):
        state.update_snapshot(published.snapshot.to_bytes() + b" ")
    assert not state.has_snapshot()


def test_a_snapshot_from_the_clients_own_cache_is_not_held_to_the_new_timestamps_hash() -> None:
    cached = publish(snapshot_version=1)
    fresh = publish(timestamp_version=2, snapshot_version=2)
    state = client(fresh)
    state.update_timestamp(fresh.timestamp.to_bytes())
    with pytest.raises(LengthOrHashMismatchError):
        state.update_snapshot(cached.snapshot.to_bytes())
    # Trusted bytes skip the hash check but still meet the version rule.
    with pytest.raises(BadVersionNumberError):
        state.update_snapshot(cached.snapshot.to_bytes(), trusted=True)
    assert state.update_snapshot(fresh.snapshot.to_bytes()).version == 2


def test_a_snapshot_must_be_signed_by_the_roots_snapshot_keys() -> None:
    published = publish()
    state = client(published)
    by_stranger = repository.sign(published.snapshot.signed, [STRANGER])
    state.update_timestamp(
        repository.sign(repository.timestamp_for(1, FUTURE, by_stranger), [ONLINE]).to_bytes()
    )
    assert refused(UnsignedMetadataError, state.update_snapshot, by_stranger.to_bytes()) == (
        "snapshot: signed by 0 of the 1 keys the threshold requires"
    )
    assert not state.has_snapshot()


def test_a_snapshot_must_be_snapshot_metadata() -> None:
    published = publish()
    state = client(published)
    state.update_timestamp(timestamp_naming(1))
    message = refused(MetadataFormatError, state.update_snapshot, published.targets.to_bytes())
    assert message == "snapshot.signed._type: expected 'snapshot', got 'targets'"


def test_a_snapshot_must_have_the_version_the_timestamp_names() -> None:
    published = publish(snapshot_version=3)
    state = client(published)
    state.update_timestamp(timestamp_naming(snapshot_version=4))
    assert refused(BadVersionNumberError, state.update_snapshot, published.snapshot.to_bytes()) == (
        "snapshot: timestamp names version 4, got 3"
    )
    with pytest.raises(BadVersionNumberError):
        state.update_targets(published.targets.to_bytes())


def test_a_snapshot_listing_an_older_targets_version_than_the_trusted_snapshot_is_a_rollback() -> (
    None
):
    cached = publish(snapshot_version=1, targets_version=5)
    fresh = publish(timestamp_version=2, snapshot_version=2, targets_version=4)
    state = client(fresh)
    state.update_timestamp(fresh.timestamp.to_bytes())
    with pytest.raises(BadVersionNumberError):  # the cached one is not the version named
        state.update_snapshot(cached.snapshot.to_bytes(), trusted=True)
    assert refused(BadVersionNumberError, state.update_snapshot, fresh.snapshot.to_bytes()) == (
        "snapshot: targets.json version 4 is older than the trusted version 5"
    )


def test_a_snapshot_listing_an_older_delegated_targets_version_is_a_rollback() -> None:
    cached = publish(snapshot_version=1, apps_version=3)
    fresh = publish(timestamp_version=2, snapshot_version=2, apps_version=2)
    state = client(fresh)
    state.update_timestamp(fresh.timestamp.to_bytes())
    with pytest.raises(BadVersionNumberError):
        state.update_snapshot(cached.snapshot.to_bytes(), trusted=True)
    assert refused(BadVersionNumberError, state.update_snapshot, fresh.snapshot.to_bytes()) == (
        "snapshot: apps.json version 2 is older than the trusted version 3"
    )


def test_a_snapshot_that_drops_a_targets_file_listed_before_is_refused() -> None:
    cached = publish(snapshot_version=1)
    kept = {"targets.json": cached.snapshot.signed.meta["targets.json"]}
    fresh = publish(timestamp_version=2, snapshot_version=2, snapshot_meta=kept)
    state = client(fresh)
    state.update_timestamp(fresh.timestamp.to_bytes())
    with pytest.raises(BadVersionNumberError):
        state.update_snapshot(cached.snapshot.to_bytes(), trusted=True)
    assert refused(RepositoryError, state.update_snapshot, fresh.snapshot.to_bytes()) == (
        "snapshot: no longer lists 'apps.json'"
    )


def test_a_snapshot_may_list_the_same_or_newer_targets_versions_than_the_trusted_one() -> None:
    cached = publish(snapshot_version=1, targets_version=4, apps_version=2)
    fresh = publish(timestamp_version=2, snapshot_version=2, targets_version=4, apps_version=3)
    state = client(fresh)
    state.update_timestamp(fresh.timestamp.to_bytes())
    with pytest.raises(BadVersionNumberError):
        state.update_snapshot(cached.snapshot.to_bytes(), trusted=True)
    assert state.update_snapshot(fresh.snapshot.to_bytes()).meta["apps.json"].version == 3


def test_an_expired_snapshot_is_refused_as_a_freeze() -> None:
    published = publish(snapshot_expires=PAST)
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    assert refused(ExpiredMetadataError, state.update_snapshot, published.snapshot.to_bytes()) == (
        "snapshot: expired"
    )
    with pytest.raises(ExpiredMetadataError):
        state.update_targets(published.targets.to_bytes())


# --- §5.6 update the targets ----------------------------------------------------------------


def test_targets_whose_bytes_differ_from_the_snapshots_hash_are_refused() -> None:
    published = publish()
    state = loaded_through_snapshot(published)
    data = published.targets.to_bytes()
    with pytest.raises(LengthOrHashMismatchError):
        state.update_targets(b"y" * len(data))
    with pytest.raises(LengthOrHashMismatchError):
        state.update_targets(data + b"\n")


def test_targets_must_have_the_version_the_snapshot_names() -> None:
    published = publish(targets_version=2)
    listed_as_three = {
        "targets.json": MetaFile(3),
        "apps.json": published.snapshot.signed.meta["apps.json"],
    }
    mismatched = publish(targets_version=2, snapshot_meta=listed_as_three)
    state = loaded_through_snapshot(mismatched)
    assert refused(BadVersionNumberError, state.update_targets, mismatched.targets.to_bytes()) == (
        "targets: snapshot names version 3, got 2"
    )


def test_targets_must_be_signed_by_the_roots_targets_keys() -> None:
    published = publish(targets_signer=ONLINE)
    state = loaded_through_snapshot(published)
    assert refused(UnsignedMetadataError, state.update_targets, published.targets.to_bytes()) == (
        "targets: signed by 0 of the 1 keys the threshold requires"
    )


def test_targets_must_be_targets_metadata() -> None:
    published = publish()
    meta = {"targets.json": MetaFile(1), "apps.json": MetaFile(1)}
    state = loaded_through_snapshot(publish(snapshot_meta=meta))
    message = refused(MetadataFormatError, state.update_targets, published.snapshot.to_bytes())
    assert message == "targets.signed._type: expected 'targets', got 'snapshot'"


def test_expired_targets_are_refused_as_a_freeze() -> None:
    published = publish(targets_expires=PAST)
    state = loaded_through_snapshot(published)
    assert refused(ExpiredMetadataError, state.update_targets, published.targets.to_bytes()) == (
        "targets: expired"
    )


def test_delegated_targets_must_be_signed_by_the_keys_their_delegator_names() -> None:
    published = publish(apps_signer=TARGETS_KEY)
    state = loaded_through_snapshot(published)
    state.update_targets(published.targets.to_bytes())
    message = refused(
        UnsignedMetadataError,
        state.update_delegated_targets,
        published.apps.to_bytes(),
        "apps",
        "targets",
    )
    assert message == "apps: signed by 0 of the 1 keys the threshold requires"
    assert state.delegated_targets("apps", "targets") is None


def test_targets_the_snapshot_does_not_list_are_refused() -> None:
    published = publish()
    state = loaded_through_snapshot(publish(snapshot_meta={"apps.json": MetaFile(1)}))
    assert refused(RepositoryError, state.update_targets, published.targets.to_bytes()) == (
        "snapshot does not list 'targets'"
    )


# --- the order of the workflow --------------------------------------------------------------


def test_no_snapshot_is_accepted_before_a_timestamp() -> None:
    published = publish()
    assert refused(
        RuntimeError, client(published).update_snapshot, published.snapshot.to_bytes()
    ) == ("snapshot needs a trusted timestamp first")


def test_no_targets_are_accepted_before_a_snapshot() -> None:
    published = publish()
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    assert refused(RuntimeError, state.update_targets, published.targets.to_bytes()) == (
        "targets need a trusted snapshot first"
    )


def test_the_root_cannot_change_once_a_timestamp_is_trusted() -> None:
    published = publish()
    state = client(published)
    state.update_timestamp(published.timestamp.to_bytes())
    rotated = repository.sign(next_root(state.root), [ROOT_A]).to_bytes()
    assert refused(RuntimeError, state.update_root, rotated) == (
        "root cannot change once the timestamp is loaded"
    )


def test_the_timestamp_cannot_change_once_a_snapshot_is_trusted() -> None:
    published = publish()
    state = loaded_through_snapshot(published)
    newer = publish(timestamp_version=2).timestamp.to_bytes()
    assert refused(RuntimeError, state.update_timestamp, newer) == (
        "timestamp cannot change once the snapshot is loaded"
    )


def test_the_snapshot_cannot_change_once_targets_are_trusted() -> None:
    published = publish()
    state = loaded_through_snapshot(published)
    state.update_targets(published.targets.to_bytes())
    assert refused(RuntimeError, state.update_snapshot, published.snapshot.to_bytes()) == (
        "snapshot cannot change once targets are loaded"
    )


def test_delegated_targets_wait_for_their_delegator() -> None:
    published = publish()
    state = loaded_through_snapshot(published)
    message = refused(
        RuntimeError, state.update_delegated_targets, published.apps.to_bytes(), "apps", "targets"
    )
    assert message == "delegator 'targets' is not trusted yet"


def test_the_whole_workflow_trusts_each_role_in_turn() -> None:
    published = publish()
    state = client(published)
    assert state.update_timestamp(published.timestamp.to_bytes()) == published.timestamp.signed
    assert state.update_snapshot(published.snapshot.to_bytes()) == published.snapshot.signed
    assert state.update_targets(published.targets.to_bytes()) == published.targets.signed
    apps = state.update_delegated_targets(published.apps.to_bytes(), "apps", "targets")
    assert (state.timestamp, state.snapshot, state.targets, apps) == (
        published.timestamp.signed,
        published.snapshot.signed,
        published.targets.signed,
        published.apps.signed,
    )


def test_no_role_is_reported_as_trusted_before_its_step_has_run() -> None:
    state = client()
    for role in ("timestamp", "snapshot", "targets"):
        with pytest.raises(RuntimeError, match="trusted yet"):
            getattr(state, role)
    assert (state.has_timestamp(), state.has_snapshot()) == (False, False)
