"""Every refusal of signing/did_key.py as a caller sees it: the exact one-line reason (a
catalog check prints it after the field: `apps.X.developer.did: ...`), and where each
limit lies."""

from __future__ import annotations

import pytest

from signing.did_key import (
    MAX_DID_LENGTH,
    DidKeyError,
    DidKeySigner,
    base58btc_decode,
    base58btc_encode,
    parse_did_key,
    verify_did_signature,
)

# the first did:key test vector of the W3C CCG did-method-key repository (seed 00 * 32)
GOOD = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
NOT_Z = "the identifier is not multibase base58btc (it must start with 'z')"
NOT_ED25519 = "the multicodec is not ed25519-pub (0xed01)"
SHORT_KEY = "did:key:z" + base58btc_encode(b"\xed\x01" + b"\2" * 31)


def _refusal(text: object) -> str:
    with pytest.raises(DidKeyError) as refused:
        parse_did_key(text)  # type: ignore[arg-type]
    assert isinstance(refused.value, ValueError)  # callers catching ValueError see it too
    return str(refused.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "a did:key is a string"),
        (b"did:key:z6Mk", "a did:key is a string"),
        ("did:key:" + "f" + GOOD[9:], NOT_Z),
        ("did:key:", NOT_Z),
        ("did:key:z", NOT_ED25519),
        ("did:key:z1" + GOOD[9:], NOT_ED25519),
        (SHORT_KEY, "the Ed25519 key is 31 bytes, not 32"),
        (GOOD[:-1] + "0", "character '0' at position 46 is not base58btc"),
        ("did:key:zI", "character 'I' at position 0 is not base58btc"),
    ],
)
def test_each_refusal_gives_its_exact_reason(text: object, reason: str) -> None:
    assert _refusal(text) == reason


def test_a_foreign_identifier_is_quoted_by_its_first_20_characters() -> None:
    text = "did:web:example.org:a-long-path"
    assert _refusal(text) == "'did:web:example.org:' does not start with 'did:key:'"


def test_the_length_limit_is_100_characters_inclusive() -> None:
    assert MAX_DID_LENGTH == 100
    at_limit = "did:web:" + "x" * 92
    assert len(at_limit) == 100
    assert _refusal(at_limit) == "'did:web:xxxxxxxxxxxx' does not start with 'did:key:'"
    assert _refusal(at_limit + "x") == "a did:key is at most 100 characters"


def test_base58_is_big_endian_as_bitcoin_writes_it() -> None:
    # Bitcoin's base58 vectors: "Hello World!" and a leading zero byte
    assert base58btc_encode(b"Hello World!") == "2NEpo7TZRRrLZSi2U"
    assert base58btc_decode("2NEpo7TZRRrLZSi2U") == b"Hello World!"
    assert base58btc_encode(b"\0\0\x28\x7f\xb4\xcd") == "11233QC4"
    assert base58btc_decode("11233QC4") == b"\0\0\x28\x7f\xb4\xcd"
    assert base58btc_encode(b"\x01\x00") == "5R"
    assert base58btc_decode("5R") == b"\x01\x00"
    assert base58btc_decode("") == b""
    assert base58btc_decode("1") == b"\0"


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_seed_of_another_length_is_refused(length: int) -> None:
    with pytest.raises(ValueError) as refused:
        DidKeySigner.from_seed(b"\1" * length)
    assert str(refused.value) == "an Ed25519 seed is 32 bytes"


def test_a_signature_over_no_did_never_verifies() -> None:
    signer = DidKeySigner.from_seed(b"\0" * 32)
    assert signer.did == GOOD
    signature = signer.sign(b"m")
    assert verify_did_signature(GOOD, signature, b"m")
    assert not verify_did_signature(None, signature, b"m")  # type: ignore[arg-type]
    assert not verify_did_signature(GOOD, signature + b"\0", b"m")
