"""signing/threshold.py as a caller sees it: exact counts and exact refusal messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signing import repository
from signing.errors import UnsignedMetadataError
from signing.keys import PublicKey, Signature, SigningKey
from signing.metadata import Metadata, Targets
from signing.threshold import count_signing_keys, verify_delegate, verify_threshold

EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
A, B, C = (SigningKey.from_seed(bytes([n]) * 32) for n in (1, 2, 3))


def signed_targets(*signers: SigningKey) -> Metadata[Targets]:
    return repository.sign(Targets(1, EXPIRES), signers)


def test_an_unknown_keyid_is_skipped_and_the_keys_after_it_still_count() -> None:
    md = signed_targets(A, B)
    keys = {A.keyid: A.public_key, B.keyid: B.public_key}
    # a signature under a keyid the role lists but the key map lacks: skipped, never verified
    stray = Signature("unknown", md.signatures[0].sig)
    signatures = (stray, *md.signatures)
    count = count_signing_keys(keys, ["unknown", A.keyid, B.keyid], md.signed_bytes, signatures)
    assert count == 2


def test_a_second_keyid_for_the_same_key_is_skipped_not_the_end_of_the_list() -> None:
    md = signed_targets(A, B)
    alias = PublicKey(
        A.public_key.keytype, A.public_key.scheme, {"public": A.public_key.public.upper()}
    )
    keys = {A.keyid: A.public_key, "alias-of-a": alias, B.keyid: B.public_key}
    keyids = [A.keyid, "alias-of-a", B.keyid]
    assert count_signing_keys(keys, keyids, md.signed_bytes, md.signatures) == 2


def test_a_root_refuses_metadata_below_the_threshold_naming_the_role_and_counts() -> None:
    root = repository.new_root(
        EXPIRES,
        {"root": [A.public_key, B.public_key], "timestamp": [A.public_key],
         "snapshot": [A.public_key], "targets": [A.public_key, B.public_key]},
        thresholds={"targets": 2},
    )  # fmt: skip
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_delegate(root, "targets", signed_targets(A))
    assert str(refused.value) == "targets: signed by 1 of the 2 keys the threshold requires"
    verify_delegate(root, "targets", signed_targets(A, B))  # the quorum: accepted
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_delegate(root, "mirrors", signed_targets(A, B))
    assert str(refused.value) == "root does not define the role 'mirrors'"


def test_targets_without_delegations_refuse_any_delegate_by_name() -> None:
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_delegate(Targets(1, EXPIRES), "apps", signed_targets(A))
    assert str(refused.value) == "'apps' is not delegated by this role"


def test_targets_that_delegate_other_roles_refuse_an_undelegated_name() -> None:
    parent = repository.delegate(Targets(1, EXPIRES), "apps", [A.public_key])
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_delegate(parent, "tools", signed_targets(A))
    assert str(refused.value) == "'tools' is not delegated by this role"
    verify_delegate(parent, "apps", signed_targets(A))
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_delegate(parent, "apps", signed_targets(C))
    assert str(refused.value) == "apps: signed by 0 of the 1 keys the threshold requires"


def test_verify_threshold_zero_signatures_message() -> None:
    with pytest.raises(UnsignedMetadataError) as refused:
        verify_threshold("snapshot", {A.keyid: A.public_key}, [A.keyid], 1, signed_targets())
    assert str(refused.value) == "snapshot: signed by 0 of the 1 keys the threshold requires"
