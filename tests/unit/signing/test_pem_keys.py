"""ECDSA and RSA checks live apart (signing.pem_keys): hostile PEM keys never verify, and
checking Ed25519 signatures never loads ``cryptography``."""

from __future__ import annotations

import subprocess
import sys

import pytest
from securesystemslib.signer import CryptoSigner

from signing.keys import PublicKey, Signature, verify_signature

MESSAGE = b'{"signed":"bytes"}'


def _with_public(key: PublicKey, public: str) -> PublicKey:
    return PublicKey(key.keytype, key.scheme, {**key.keyval, "public": public})


@pytest.mark.parametrize("generate", [CryptoSigner.generate_ecdsa, CryptoSigner.generate_rsa])
def test_a_garbled_or_mismatched_pem_key_simply_does_not_verify(generate) -> None:  # type: ignore[no-untyped-def]
    signer = generate()
    key = PublicKey.from_dict(signer.public_key.to_dict())
    signature = Signature(signer.public_key.keyid, signer.sign(MESSAGE).signature)
    other = CryptoSigner.generate_rsa if generate is CryptoSigner.generate_ecdsa else None
    other = other or CryptoSigner.generate_ecdsa
    other_pem = PublicKey.from_dict(other().public_key.to_dict()).public
    for public in ("not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"):
        assert not verify_signature(_with_public(key, public), signature, MESSAGE)
    assert not verify_signature(_with_public(key, other_pem), signature, MESSAGE)
    assert not verify_signature(key, Signature(signature.keyid, "00" * 8), MESSAGE)
    assert verify_signature(key, signature, MESSAGE)


def test_checking_ed25519_signatures_never_loads_cryptography() -> None:
    program = (
        "import sys\n"
        "from signing.keys import SigningKey, verify_signature\n"
        "key = SigningKey.generate()\n"
        "assert verify_signature(key.public_key, key.sign(b'm'), b'm')\n"
        "print(sorted(m for m in sys.modules if m.startswith('cryptography')))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert finished.stdout.strip() == "[]"
