"""Key types, thresholds, duplicate keys and signatures, keyids taken as given, unknown fields."""

from __future__ import annotations

import json

import pytest
from securesystemslib.signer import CryptoSigner, SSlibKey

from tests.support.tuf_fixtures import ConformanceClient
from tests.support.tuf_oracle import KEY_TYPES, SimulatedRepository, new_signer

ONLINE_ROLES = ("timestamp", "snapshot", "targets")


@pytest.mark.parametrize("key_type", sorted(KEY_TYPES))
def test_every_role_can_use_each_key_type(
    client: ConformanceClient, repo: SimulatedRepository, key_type: str
) -> None:
    assert client.init() == 0
    new_root_signer = new_signer(key_type)
    repo.add_key("root", new_root_signer)
    repo.bump_root()
    old = [k for k in repo.root.roles["root"].keyids if k != new_root_signer.public_key.keyid]
    for role in ONLINE_ROLES:
        repo.replace_keys(role, key_type)
    repo.root.revoke_key(old[0], "root")
    repo.signers["root"] = {
        new_root_signer.public_key.keyid: new_root_signer,
        **repo.signers["root"],
    }
    repo.bump_root()  # v3: signed by the old key (v2's quorum) and the new one
    del repo.signers["root"][old[0]]
    repo.bump_root()  # v4: the new key only
    repo.add_artifact("file", b"signed with " + key_type.encode())
    repo.publish_targets()
    assert client.download("file") == 0
    assert client.version("root") == 4
    for role in ("root", *ONLINE_ROLES):
        assert client.stored(role) == repo.published[role][-1]


def test_a_threshold_needs_distinct_keys_not_repeated_signatures(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    repo.add_key("snapshot")
    repo.root.roles["snapshot"].threshold = 2
    repo.bump_root()
    repo.publish(["snapshot"])
    # Two signatures, both by the first key: the second key never signed.
    first_keyid = next(iter(repo.signers["snapshot"]))
    signatures = repo.md["snapshot"].signatures
    signatures.pop(next(k for k in signatures if k != first_keyid))
    data = json.loads(repo.md["snapshot"].to_bytes())
    data["signatures"].append(dict(data["signatures"][0]))
    repo.by_version["snapshot"][2] = json.dumps(data).encode()
    repo.publish(["timestamp"])
    assert client.refresh() == 1
    assert client.version("snapshot") == 1


def test_duplicate_sig_keyids(client: ConformanceClient, repo: SimulatedRepository) -> None:
    """The specification: a keyid MUST be unique in ``signatures``, even beside a valid quorum.

    The public conformance suite's case of the same name: the snapshot's one correct
    signature is listed twice, and the client must not accept that snapshot.
    """
    assert client.init() == 0
    data = json.loads(repo.md["snapshot"].to_bytes())
    data["signatures"].append(dict(data["signatures"][0]))
    repo.by_version["snapshot"][1] = json.dumps(data).encode()
    assert client.refresh() == 1
    assert client.version("snapshot") is None
    assert "signs more than once" in client.last_stderr
    assert "Traceback" not in client.last_stderr


def test_one_key_listed_under_several_keyids_counts_once(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    signer = repo.signers["snapshot"][next(iter(repo.signers["snapshot"]))]
    for alias in ("alias-1", "alias-2"):
        aliased = SSlibKey(
            alias, signer.public_key.keytype, signer.public_key.scheme, signer.public_key.keyval
        )
        repo.root.add_key(aliased, "snapshot")
        repo.signers["snapshot"][alias] = CryptoSigner(signer._private_key, aliased)
    repo.root.roles["snapshot"].threshold = 3
    repo.bump_root()
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 1
    assert client.version("root") == 2
    assert client.version("snapshot") == 1


def test_keyids_are_taken_as_given_not_recomputed(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    signer = new_signer("ecdsa")
    named = SSlibKey(
        "my-timestamp-key",
        signer.public_key.keytype,
        signer.public_key.scheme,
        signer.public_key.keyval,
    )
    for keyid in list(repo.root.roles["timestamp"].keyids):
        repo.root.revoke_key(keyid, "timestamp")
    repo.root.add_key(named, "timestamp")
    repo.signers["timestamp"] = {"my-timestamp-key": CryptoSigner(signer._private_key, named)}
    repo.bump_root()
    repo.publish(["timestamp"])
    assert client.refresh() == 0
    assert client.version("timestamp") == 2


def test_snapshot_threshold_higher_than_its_keys_fails(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    for _ in range(4):
        repo.add_key("snapshot")
    repo.root.roles["snapshot"].threshold = 6
    repo.bump_root()
    repo.publish(["snapshot", "timestamp"])
    assert client.refresh() == 1
    assert client.version("root") == 2
    assert client.version("snapshot") == 1


def test_unknown_fields_are_signed_over_and_kept(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    assert client.refresh() == 0
    repo.root.unrecognized_fields["custom-field"] = "value"
    keyid = repo.root.roles["root"].keyids[0]
    repo.root.keys[keyid].unrecognized_fields["extra-field"] = {"a": 1, "b": 2}
    repo.root.keys[keyid].unrecognized_fields["keyid_hash_algorithms"] = ["md5"]
    repo.root.roles["root"].unrecognized_fields["another-field"] = "value"
    repo.bump_root()
    repo.targets().unrecognized_fields["x-custom"] = [1, 2, 3]
    repo.add_artifact("file", b"data")
    repo.targets().targets["file"].unrecognized_fields["custom"] = {"nested": True}
    repo.publish_targets()
    assert client.download("file") == 0
    assert client.stored("root") == repo.published["root"][-1]
    assert client.stored("targets") == repo.published["targets"][-1]


@pytest.mark.parametrize(
    "spec_version,accepted",
    [
        ("1.0.31", True),
        ("1.0", True),
        ("1.99.0", True),
        ("2.0.0", False),
        ("1", False),
        ("one.zero", False),
    ],
)
def test_spec_version_major_must_be_1(
    client: ConformanceClient, repo: SimulatedRepository, spec_version: str, accepted: bool
) -> None:
    assert client.init() == 0
    repo.timestamp.spec_version = spec_version
    repo.publish(["timestamp"])
    assert client.refresh() == (0 if accepted else 1)
    assert client.version("timestamp") == (2 if accepted else None)


def test_invalid_signature_beside_a_valid_quorum_is_ignored(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    assert client.init() == 0
    repo.publish(["timestamp"])
    data = json.loads(repo.published["timestamp"][-1])
    data["signatures"].insert(0, {"keyid": "f" * 64, "sig": "ab" * 64})
    repo.serve("timestamp", json.dumps(data).encode())
    assert client.refresh() == 0
    assert client.stored("timestamp") == repo.published["timestamp"][-1]
