"""signing/keys.py's models as metadata and callers see them: python-tuf's Key as the oracle
for reading a key object, every refusal's reason, and one key counted once however its
public part is written."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Key as TufKey

from signing.errors import MetadataFormatError
from signing.keys import (
    ECDSA_P256,
    ED25519,
    RSA_PKCS1V15_SHA256,
    RSASSA_PSS_SHA256,
    PublicKey,
    SigningKey,
    is_supported,
    key_id,
)
from signing.metadata_fields import keys_field
from signing.threshold import count_signing_keys

MESSAGE = b'{"signed":"bytes"}'
ED_PUBLIC = "ab" * 32


def test_unknown_fields_of_a_key_are_kept_as_python_tuf_keeps_them() -> None:
    data: dict[str, Any] = {
        "keytype": ED25519,
        "scheme": ED25519,
        "keyval": {"public": ED_PUBLIC, "x-keyval": 1},
        "x-custom": {"nested": [1, "two"]},
    }
    ours = PublicKey.from_dict(data)
    theirs = TufKey.from_dict("id", dict(data))
    assert ours.to_dict() == theirs.to_dict() == data
    assert ours.extra == theirs.unrecognized_fields == {"x-custom": {"nested": [1, "two"]}}
    # the keyid covers keytype, scheme and keyval only, as python-tuf computes it
    signer = CryptoSigner.generate_ed25519()
    listed = {**signer.public_key.to_dict(), "x-custom": True}
    assert key_id(PublicKey.from_dict(listed)) == signer.public_key.keyid


NOT_STRINGS = "keytype and scheme must be strings"
NO_PUBLIC = "keyval must be an object with a string 'public'"
ED = {"keytype": ED25519, "scheme": ED25519}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"keytype": 1, "scheme": ED25519}, NOT_STRINGS),
        ({"keytype": ED25519, "scheme": None}, NOT_STRINGS),
        ({"scheme": ED25519}, NOT_STRINGS),
        ({"keytype": ED25519}, NOT_STRINGS),
        ({**ED, "keyval": None}, NO_PUBLIC),
        ({**ED, "keyval": []}, NO_PUBLIC),
        ({**ED, "keyval": {}}, NO_PUBLIC),
        ({**ED, "keyval": {"public": 1}}, NO_PUBLIC),
    ],
)
def test_a_malformed_key_object_is_refused_naming_the_key(
    data: dict[str, Any], reason: str
) -> None:
    full = {"keyval": {"public": ED_PUBLIC}, **data}
    with pytest.raises(ValueError) as refused:
        PublicKey.from_dict(full)
    assert str(refused.value) == reason
    with pytest.raises(MetadataFormatError) as refused_in_metadata:
        keys_field({"k1": full}, "root.signed.keys")
    assert str(refused_in_metadata.value) == f"root.signed.keys.k1: {reason}"


def test_which_key_types_and_schemes_are_supported() -> None:
    for keytype, scheme in (
        (ED25519, ED25519),
        ("ecdsa", ECDSA_P256),
        (ECDSA_P256, ECDSA_P256),
        ("rsa", RSASSA_PSS_SHA256),
        ("rsa", RSA_PKCS1V15_SHA256),
    ):
        assert is_supported(PublicKey(keytype, scheme, {"public": ""}))
    for keytype, scheme in (
        ("ed448", "ed448"),
        (ED25519, ECDSA_P256),
        ("rsa", "rsassa-pss-sha512"),
        ("ecdsa", "ecdsa-sha2-nistp384"),
    ):
        assert not is_supported(PublicKey(keytype, scheme, {"public": ""}))


def test_one_key_listed_twice_in_other_spellings_counts_once() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    hex_public = key.public_key.public
    spaced = " ".join(hex_public[i : i + 8] for i in range(0, len(hex_public), 8)).upper()
    alias = PublicKey(ED25519, ED25519, {"public": spaced})
    signature = key.sign(MESSAGE)
    keys = {key.keyid: key.public_key, "alias": alias}
    alias_signature = dataclasses.replace(signature, keyid="alias")
    # the alias alone verifies: the hex reader skips spaces and ignores case
    assert count_signing_keys(keys, ["alias"], MESSAGE, [alias_signature]) == 1
    assert (
        count_signing_keys(keys, [key.keyid, "alias"], MESSAGE, [signature, alias_signature]) == 1
    )
    assert key.public_key.identity() == alias.identity() == (ED25519, ED25519, hex_public)


def test_a_signing_key_shows_only_its_keyid_prefix() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    assert repr(key) == f"SigningKey(keyid={key.keyid[:16]}…)"


@pytest.mark.parametrize("length", [0, 31, 33])
def test_a_seed_of_another_length_is_refused(length: int) -> None:
    with pytest.raises(ValueError) as refused:
        SigningKey.from_seed(b"\1" * length)
    assert str(refused.value) == "an Ed25519 seed is 32 bytes"
