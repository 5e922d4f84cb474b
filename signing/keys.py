"""Keys and signatures in the TUF format.

We sign with Ed25519 (PyNaCl).  We verify Ed25519, ECDSA P-256
(``ecdsa-sha2-nistp256``), RSA-PSS and RSA PKCS#1 v1.5 with SHA-256, the key
types other TUF repositories use; the last three in :mod:`signing.pem_keys`,
imported the first time such a key is checked (it loads ``cryptography``).

Public API:

- ``PublicKey`` — ``{"keytype", "scheme", "keyval", ...}``, no private part;
  ``PublicKey.from_dict`` / ``to_dict``; ``key_id(key)`` is the SHA-256 of the
  canonical JSON of ``{"keytype", "scheme", "keyval"}``, as TUF computes it.
- ``Signature`` — ``{"keyid", "sig"}`` (hex).
- ``SigningKey.generate()`` / ``SigningKey.from_seed(seed)`` — an Ed25519 private
  key; ``.public_key``, ``.keyid``, ``.sign(message) -> Signature``,
  ``.seed()`` (the 32 secret bytes, for the ceremony's own storage; never log it).
- ``verify_signature(key, signature, message) -> bool`` — never raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import nacl.exceptions
import nacl.signing

from catalog.canonical import encode_canonical

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-sha2-nistp256"
RSASSA_PSS_SHA256 = "rsassa-pss-sha256"
RSA_PKCS1V15_SHA256 = "rsa-pkcs1v15-sha256"


@dataclass(frozen=True)
class PublicKey:
    """A public key as TUF metadata lists it; ``extra`` keeps unknown fields."""

    keytype: str
    scheme: str
    keyval: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def public(self) -> str:
        value = self.keyval.get("public")
        return value if isinstance(value, str) else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "keytype": self.keytype,
            "scheme": self.scheme,
            "keyval": dict(self.keyval),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublicKey:
        """Build from a parsed key object; raise ``ValueError`` if malformed."""
        keytype, scheme, keyval = data.get("keytype"), data.get("scheme"), data.get("keyval")
        if not isinstance(keytype, str) or not isinstance(scheme, str):
            raise ValueError("keytype and scheme must be strings")
        if not isinstance(keyval, dict) or not isinstance(keyval.get("public"), str):
            raise ValueError("keyval must be an object with a string 'public'")
        extra = {k: v for k, v in data.items() if k not in ("keytype", "scheme", "keyval")}
        return cls(keytype, scheme, dict(keyval), extra)

    def identity(self) -> tuple[str, str, str]:
        """What makes two listings the same key, whatever their keyids say."""
        return (self.keytype, self.scheme, "".join(self.public.split()).lower())


def key_id(key: PublicKey) -> str:
    """The TUF keyid of ``key``: SHA-256 over its canonical public part."""
    public_part = {"keytype": key.keytype, "scheme": key.scheme, "keyval": dict(key.keyval)}
    return hashlib.sha256(encode_canonical(public_part)).hexdigest()


@dataclass(frozen=True)
class Signature:
    keyid: str
    sig: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "keyid": self.keyid, "sig": self.sig}


class SigningKey:
    """An Ed25519 private key.  Its repr never shows the secret."""

    def __init__(self, key: nacl.signing.SigningKey) -> None:
        self._key = key
        self.public_key = PublicKey(ED25519, ED25519, {"public": key.verify_key.encode().hex()})
        self.keyid = key_id(self.public_key)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(nacl.signing.SigningKey(seed))

    def seed(self) -> bytes:
        return bytes(self._key)

    def sign(self, message: bytes) -> Signature:
        return Signature(self.keyid, self._key.sign(message).signature.hex())

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.keyid[:16]}…)"


def _verify_ed25519(key: PublicKey, signature: bytes, message: bytes) -> None:
    nacl.signing.VerifyKey(bytes.fromhex(key.public)).verify(message, signature)


def _verify_ecdsa_p256(key: PublicKey, signature: bytes, message: bytes) -> None:
    from signing.pem_keys import verify_ecdsa_p256  # loads cryptography: only for such keys

    verify_ecdsa_p256(key.public, signature, message)


def _verify_rsa_pss(key: PublicKey, signature: bytes, message: bytes) -> None:
    from signing.pem_keys import verify_rsa_pss

    verify_rsa_pss(key.public, signature, message)


def _verify_rsa_pkcs1v15(key: PublicKey, signature: bytes, message: bytes) -> None:
    from signing.pem_keys import verify_rsa_pkcs1v15

    verify_rsa_pkcs1v15(key.public, signature, message)


_VERIFIERS = {
    (ED25519, ED25519): _verify_ed25519,
    ("ecdsa", ECDSA_P256): _verify_ecdsa_p256,
    (ECDSA_P256, ECDSA_P256): _verify_ecdsa_p256,
    ("rsa", RSASSA_PSS_SHA256): _verify_rsa_pss,
    ("rsa", RSA_PKCS1V15_SHA256): _verify_rsa_pkcs1v15,
}


def is_supported(key: PublicKey) -> bool:
    return (key.keytype, key.scheme) in _VERIFIERS


def verify_signature(key: PublicKey, signature: Signature, message: bytes) -> bool:
    """True only if ``signature`` is a valid signature of ``message`` by ``key``."""
    verifier = _VERIFIERS.get((key.keytype, key.scheme))
    if verifier is None:
        return False
    try:
        verifier(key, bytes.fromhex(signature.sig), message)
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False
    return True
