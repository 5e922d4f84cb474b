"""Key types, signature checks, thresholds and hashes."""

from __future__ import annotations

import dataclasses

import pytest
from securesystemslib.signer import CryptoSigner

from signing.errors import LengthOrHashMismatchError, UnknownHashAlgorithmError
from signing.hashing import digest_hex, verify_length_and_hashes
from signing.keys import PublicKey, Signature, SigningKey, key_id, verify_signature
from signing.threshold import count_signing_keys

MESSAGE = b'{"signed":"bytes"}'


@pytest.mark.parametrize(
    "generate",
    [CryptoSigner.generate_ecdsa, CryptoSigner.generate_rsa, CryptoSigner.generate_ed25519],
)
def test_verifies_signatures_made_by_securesystemslib(generate) -> None:  # type: ignore[no-untyped-def]
    signer = generate()
    key = PublicKey.from_dict(signer.public_key.to_dict())
    signature = Signature(signer.public_key.keyid, signer.sign(MESSAGE).signature)
    assert verify_signature(key, signature, MESSAGE)
    assert not verify_signature(key, signature, MESSAGE + b" ")
    assert key_id(key) == signer.public_key.keyid


def test_ed25519_sign_and_verify_and_keyid_rule() -> None:
    key = SigningKey.from_seed(bytes(range(32)))
    signature = key.sign(MESSAGE)
    assert verify_signature(key.public_key, signature, MESSAGE)
    assert SigningKey.from_seed(key.seed()).keyid == key.keyid
    assert "seed" not in repr(key) and key.seed().hex() not in repr(key)


@pytest.mark.parametrize(
    "tamper",
    [
        {"sig": "zz"},
        {"sig": ""},
        {"sig": "00" * 64},
    ],
)
def test_malformed_signatures_are_simply_invalid(tamper: dict[str, str]) -> None:
    key = SigningKey.generate()
    signature = dataclasses.replace(key.sign(MESSAGE), **tamper)
    assert not verify_signature(key.public_key, signature, MESSAGE)


def test_unknown_key_type_never_verifies() -> None:
    key = PublicKey("made-up", "made-up", {"public": "00"})
    assert not verify_signature(key, Signature("x", "00"), MESSAGE)


def test_threshold_counts_each_key_once() -> None:
    a, b = SigningKey.generate(), SigningKey.generate()
    keys = {a.keyid: a.public_key, "alias": a.public_key, b.keyid: b.public_key}
    sig_a = a.sign(MESSAGE)
    alias = dataclasses.replace(sig_a, keyid="alias")
    assert (
        count_signing_keys(keys, [a.keyid, a.keyid, "alias"], MESSAGE, [sig_a, sig_a, alias]) == 1
    )
    assert count_signing_keys(keys, [a.keyid, b.keyid], MESSAGE, [sig_a, b.sign(MESSAGE)]) == 2


def test_hashes_blake3_sha256_sha512_all_checked() -> None:
    data = b"content"
    hashes = {name: digest_hex(name, data) for name in ("blake3", "sha256", "sha512")}
    verify_length_and_hashes(data, len(data), hashes)
    with pytest.raises(LengthOrHashMismatchError):
        verify_length_and_hashes(data, len(data), {**hashes, "sha512": "00"})
    with pytest.raises(LengthOrHashMismatchError):
        verify_length_and_hashes(data, len(data) + 1, hashes)
    with pytest.raises(UnknownHashAlgorithmError):
        verify_length_and_hashes(data, None, {**hashes, "md5": "00"})
