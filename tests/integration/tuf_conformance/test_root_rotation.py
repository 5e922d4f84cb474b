"""Root rotation: thresholds, key changes, expiry of intermediate and final roots."""

from __future__ import annotations

import json

import pytest
from securesystemslib.signer import CryptoSigner

from tests.support.tuf_fixtures import ConformanceClient
from tests.support.tuf_oracle import SimulatedRepository, days_from_now

# Each root version: (keys it trusts for root, threshold, keys that sign it).
# The last version is either accepted (True) or refused, leaving the one before.
ROTATIONS = {
    "1-of-1 key replaced": ([([1], 1, [1]), ([2], 1, [2, 1]), ([2], 1, [2])], True),
    "unused extra signatures": (
        [([1], 1, [3, 1, 4]), ([2], 1, [3, 2, 1, 4]), ([2], 1, [3, 2, 4])],
        True,
    ),
    "3-of-5 different signer sets": (
        [
            ([0, 1, 2, 3, 4], 3, [0, 2, 4]),
            ([0, 1, 2, 3, 4], 3, [0, 4, 1]),
            ([0, 1, 2, 3, 4], 3, [0, 1, 3]),
        ],
        True,
    ),
    "3-of-5 one key replaced": (
        [([0, 1, 2, 3, 4], 3, [0, 2, 4]), ([0, 1, 3, 4, 5], 3, [0, 4, 1])],
        True,
    ),
    "3-of-5 all keys replaced in two steps": (
        [
            ([0, 1, 2, 3, 4], 3, [0, 2, 4]),
            ([5, 6, 7, 8, 9], 3, [0, 2, 4, 5, 6, 7]),
            ([5, 6, 7, 8, 9], 3, [5, 6, 7]),
        ],
        True,
    ),
    "threshold 1 to 2 of 3": ([([1, 2, 3], 1, [1]), ([1, 2, 3], 2, [1, 2])], True),
    "threshold 2 to 1 of 3": (
        [([1, 2, 3], 2, [1, 2]), ([1, 2, 3], 1, [1, 2]), ([1, 2, 3], 1, [1])],
        True,
    ),
    "1-of-1 to 2-of-2": ([([1], 1, [1]), ([1, 2], 2, [1, 2])], True),
    "not signed by the old key": ([([1], 1, [1]), ([2], 1, [2, 3, 4])], False),
    "not signed by the new key": ([([1], 1, [1]), ([2], 1, [1, 3, 4])], False),
    "new threshold not met by new keys": (
        [([0, 1, 2, 3, 4], 3, [0, 2, 4]), ([0, 1, 3, 4, 5], 3, [0, 2, 4])],
        False,
    ),
    "old threshold not met by old keys": (
        [([0, 1, 2, 3, 4], 3, [0, 2, 4]), ([0, 1, 3, 4, 5], 3, [0, 4, 5])],
        False,
    ),
    "threshold raised but not met": ([([1, 2, 3], 1, [1]), ([1, 2, 3], 2, [2])], False),
    "threshold lowered without old quorum": ([([1, 2, 3], 2, [1, 2]), ([1, 2, 3], 1, [1])], False),
}

SIGNERS = [CryptoSigner.generate_ed25519() for _ in range(10)]


@pytest.mark.parametrize("versions,accepted", ROTATIONS.values(), ids=ROTATIONS.keys())
def test_root_rotation(
    client: ConformanceClient,
    repo: SimulatedRepository,
    versions: list[tuple[list[int], int, list[int]]],
    accepted: bool,
) -> None:
    repo.published["root"], repo.by_version["root"] = [], {}
    repo.root.version = 0
    for keys, threshold, signed_by in versions:
        for keyid in list(repo.root.roles["root"].keyids):
            repo.root.revoke_key(keyid, "root")
        repo.root.roles["root"].threshold = threshold
        for index in keys:
            repo.root.add_key(SIGNERS[index].public_key, "root")
        repo.signers["root"] = {SIGNERS[i].public_key.keyid: SIGNERS[i] for i in signed_by}
        repo.publish(["root"])
    assert client.init(repo.published["root"][0]) == 0
    assert client.refresh() == (0 if accepted else 1)
    expected = repo.published["root"][-1 if accepted else -2]
    assert client.stored("root") == expected


def test_an_expired_intermediate_root_is_passed_through(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.root.expires = days_from_now(-1)
    repo.bump_root()
    repo.root.expires = days_from_now(30)
    repo.bump_root()
    assert client.refresh() == 0
    assert client.stored("root") == repo.published["root"][-1]


def test_an_expired_initial_root_can_be_updated(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    repo.published["root"], repo.by_version["root"] = [], {}
    repo.root.expires = days_from_now(-10)
    repo.publish(["root"], bump=False)
    repo.root.expires = days_from_now(30)
    repo.bump_root()
    assert client.init(repo.published["root"][0]) == 0
    assert client.refresh() == 0
    assert client.version("root") == 2


def test_a_root_with_the_wrong_version_number_is_refused(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.root.version = 3
    repo.sign("root")
    repo.by_version["root"][2] = repo.md["root"].to_bytes()  # v3 served as 2.root.json
    assert client.refresh() == 1
    assert client.version("root") == 1


def test_new_root_keys_void_the_cached_timestamp_and_snapshot_only_when_they_change(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    repo.bump_root()  # no key change: the cached metadata stays the rollback reference
    assert client.refresh() == 0
    assert repo.metadata_requests[-2:] == [("root", 3), ("timestamp", None)]
    assert client.files() == ["root.json", "snapshot.json", "targets.json", "timestamp.json"]


@pytest.mark.parametrize(
    "change",
    ["threshold 0", "no snapshot role", "unknown extra role", "keyid listed twice", "version 0"],
)
def test_malformed_new_root_is_refused(
    client: ConformanceClient, repo: SimulatedRepository, change: str
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    signed = repo.root.to_dict()
    signed["version"] = 2
    if change == "threshold 0":
        signed["roles"]["snapshot"]["threshold"] = 0
    elif change == "no snapshot role":
        del signed["roles"]["snapshot"]
    elif change == "unknown extra role":
        signed["roles"]["mirror"] = {"keyids": [], "threshold": 1}
    elif change == "keyid listed twice":
        signed["roles"]["timestamp"]["keyids"] *= 2
    else:
        signed["version"] = 0
    repo.by_version["root"][2] = _sign_raw(repo, signed)
    assert client.refresh() == 1
    assert client.version("root") == 1


def _sign_raw(repo: SimulatedRepository, signed: dict[str, object]) -> bytes:
    """Sign an arbitrary ``signed`` object with the current root keys (canonical JSON)."""
    from securesystemslib.formats import encode_canonical

    payload = encode_canonical(signed).encode()
    signatures = [
        {"keyid": keyid, "sig": signer.sign(payload).signature}
        for keyid, signer in repo.signers["root"].items()
    ]
    return json.dumps({"signatures": signatures, "signed": signed}).encode()
