"""signing/did_key.py against the did:key method's published Ed25519 test vectors.

The vectors (seed -> did:key and base58 public key) are those of the W3C CCG
did-method-key repository, test-vectors/ed25519-x25519.json.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing.did_key import (
    DidKeyError,
    DidKeySigner,
    base58btc_decode,
    base58btc_encode,
    did_key_from_public_bytes,
    parse_did_key,
    verify_did_signature,
)

# seed (hex) -> (did:key, publicKeyBase58)
SPEC_VECTORS = {
    "00" * 32: (
        "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
        "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS",
    ),
    "00" * 31 + "01": (
        "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG",
        "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt",
    ),
    "00" * 31 + "02": (
        "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf",
        "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH",
    ),
    "00" * 31 + "03": (
        "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ",
        "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2",
    ),
    "00" * 31 + "04": (
        "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL",
        "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x",
    ),
}


@pytest.mark.parametrize("seed_hex", sorted(SPEC_VECTORS))
def test_the_spec_vectors_give_the_published_did_and_public_key(seed_hex: str) -> None:
    did, public_b58 = SPEC_VECTORS[seed_hex]
    signer = DidKeySigner.from_seed(bytes.fromhex(seed_hex))
    assert signer.did == did
    assert parse_did_key(did) == base58btc_decode(public_b58)
    assert base58btc_encode(parse_did_key(did)) == public_b58
    assert did_key_from_public_bytes(base58btc_decode(public_b58)) == did


def test_a_signature_verifies_only_for_its_message_and_its_did() -> None:
    signer = DidKeySigner.from_seed(bytes.fromhex("00" * 32))
    other = DidKeySigner.from_seed(bytes.fromhex("00" * 31 + "01"))
    signature = signer.sign(b"hello")
    assert len(signature) == 64
    assert verify_did_signature(signer.did, signature, b"hello")
    assert not verify_did_signature(signer.did, signature, b"hello!")
    assert not verify_did_signature(other.did, signature, b"hello")
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_did_signature(signer.did, flipped, b"hello")
    assert not verify_did_signature(signer.did, signature[:63], b"hello")
    assert not verify_did_signature("did:key:nonsense", signature, b"hello")


def test_repr_never_shows_the_seed() -> None:
    signer = DidKeySigner.from_seed(bytes.fromhex("ab" * 32))
    assert "ab" * 8 not in repr(signer)
    assert signer.did in repr(signer)


GOOD = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("did:web:example.org", "does not start with 'did:key:'"),
        ("did:KEY:" + GOOD[8:], "does not start with 'did:key:'"),
        ("did:key:" + "f" + GOOD[9:], "must start with 'z'"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooW0", "'0' at position"),
        ("did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWl", "'l' at position"),
        ("did:key:z", "multicodec is not ed25519-pub"),
        # secp256k1-pub (0xe7 0x01), from the spec's secp256k1 vectors
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "not ed25519-pub"),
        # X25519 (0xec 0x01) key-agreement key of the first vector
        ("did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", "not ed25519-pub"),
        ("did:key:z" + base58btc_encode(b"\xed\x01" + b"\2" * 31), "31 bytes, not 32"),
        ("did:key:z" + base58btc_encode(b"\xed\x01" + b"\2" * 33), "33 bytes, not 32"),
        ("did:key:z1" + GOOD[9:], "not ed25519-pub"),  # a leading zero byte
        ("did:key:Z" + GOOD[9:], "must start with 'z'"),
        (GOOD + " ", "' ' at position"),
        ("did:key:z" + "6" * 200, "at most 100 characters"),
    ],
)
def test_hostile_did_keys_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DidKeyError, match=None) as refused:
        parse_did_key(text)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not verify_did_signature(text, b"\0" * 64, b"")


def test_base58_round_trips_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\1", b"\xff" * 40):
        assert base58btc_decode(base58btc_encode(data)) == data


def test_public_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(DidKeyError, match="32 bytes, not 31"):
        did_key_from_public_bytes(b"\0" * 31)


@given(st.binary(min_size=32, max_size=32))
def test_every_ed25519_public_key_round_trips(public: bytes) -> None:
    did = did_key_from_public_bytes(public)
    assert did.startswith("did:key:z6Mk")
    assert parse_did_key(did) == public


@given(st.text(max_size=120))
def test_parsing_any_text_either_succeeds_or_refuses_with_a_did_key_error(text: str) -> None:
    try:
        public = parse_did_key("did:key:z" + text)
    except DidKeyError as error:
        assert "\n" not in str(error)
    else:
        assert did_key_from_public_bytes(public) == "did:key:z" + text
