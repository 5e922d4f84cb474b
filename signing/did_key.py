"""Ed25519 ``did:key`` identifiers: encode, parse, sign and verify over bytes.

A developer's identity is an Ed25519 key whose public form is a ``did:key``
(W3C CCG did:key method): ``did:key:`` + multibase base58btc (prefix ``z``)
of the multicodec ``ed25519-pub`` varint prefix (``0xed 0x01``) followed by
the 32 public-key bytes.  Every such identifier starts ``did:key:z6Mk``.

Pure: no files, no network.  Parsing is strict — only Ed25519 did:keys are
accepted, the encoding must be canonical (re-encoding gives the same text),
and every refusal is a :class:`DidKeyError` with a one-line reason.

Public API:

- ``did_key_from_public_bytes(public) -> str``;
- ``parse_did_key(did) -> bytes`` (the 32 public-key bytes) — raises
  :class:`DidKeyError`;
- ``DidKeySigner.generate()`` / ``DidKeySigner.from_seed(seed)``: ``.did``,
  ``.sign(message) -> bytes`` (64-byte signature), ``.seed()`` (secret; never
  log it);
- ``verify_did_signature(did, signature, message) -> bool`` — never raises;
- ``base58btc_encode`` / ``base58btc_decode`` (Bitcoin alphabet).
"""

from __future__ import annotations

import nacl.exceptions
import nacl.signing

DID_KEY_PREFIX = "did:key:"
MULTIBASE_BASE58BTC = "z"
ED25519_PUB_MULTICODEC = b"\xed\x01"
ED25519_PUBLIC_LENGTH = 32
ED25519_SIGNATURE_LENGTH = 64
MAX_DID_LENGTH = 100

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: index for index, char in enumerate(_ALPHABET)}


class DidKeyError(ValueError):
    """The text is not an Ed25519 did:key; the message says why, on one line."""


def base58btc_encode(data: bytes) -> str:
    """Base58 with the Bitcoin alphabet; each leading zero byte becomes a ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """The bytes of base58btc ``text``; raise :class:`DidKeyError` on a foreign character."""
    number = 0
    for position, char in enumerate(text):
        value = _INDEX.get(char)
        if value is None:
            raise DidKeyError(f"character {char!r} at position {position} is not base58btc")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def did_key_from_public_bytes(public: bytes) -> str:
    """The did:key of a 32-byte Ed25519 public key."""
    if len(public) != ED25519_PUBLIC_LENGTH:
        raise DidKeyError(f"an Ed25519 public key is 32 bytes, not {len(public)}")
    encoded = base58btc_encode(ED25519_PUB_MULTICODEC + public)
    return f"{DID_KEY_PREFIX}{MULTIBASE_BASE58BTC}{encoded}"


def parse_did_key(did: str) -> bytes:
    """The Ed25519 public key bytes ``did`` names; raise :class:`DidKeyError` otherwise."""
    if not isinstance(did, str):
        raise DidKeyError("a did:key is a string")
    if len(did) > MAX_DID_LENGTH:
        raise DidKeyError(f"a did:key is at most {MAX_DID_LENGTH} characters")
    if not did.startswith(DID_KEY_PREFIX):
        raise DidKeyError(f"{did[:20]!r} does not start with {DID_KEY_PREFIX!r}")
    identifier = did[len(DID_KEY_PREFIX) :]
    if not identifier.startswith(MULTIBASE_BASE58BTC):
        raise DidKeyError("the identifier is not multibase base58btc (it must start with 'z')")
    decoded = base58btc_decode(identifier[1:])
    if not decoded.startswith(ED25519_PUB_MULTICODEC):
        raise DidKeyError("the multicodec is not ed25519-pub (0xed01)")
    public = decoded[len(ED25519_PUB_MULTICODEC) :]
    if len(public) != ED25519_PUBLIC_LENGTH:
        raise DidKeyError(f"the Ed25519 key is {len(public)} bytes, not 32")
    if did_key_from_public_bytes(public) != did:
        raise DidKeyError("the did:key is not in its canonical encoding")
    return public


class DidKeySigner:
    """An Ed25519 private key named by its did:key.  Its repr never shows the secret."""

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key
        self.did = did_key_from_public_bytes(key.verify_key.encode())

    @classmethod
    def generate(cls) -> DidKeySigner:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> DidKeySigner:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(nacl.signing.SigningKey(seed))

    def seed(self) -> bytes:
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        return bytes(self._key.sign(message).signature)

    def __repr__(self) -> str:
        return f"DidKeySigner(did={self.did})"


def verify_did_signature(did: str, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is the Ed25519 signature of ``message`` by ``did``'s key."""
    try:
        public = parse_did_key(did)
    except DidKeyError:
        return False
    if len(signature) != ED25519_SIGNATURE_LENGTH:
        return False
    try:
        nacl.signing.VerifyKey(public).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, TypeError):
        return False
    return True
