"""signing.pem_keys on its own: each check accepts what securesystemslib signs with the key
type and scheme it names, and refuses anything else with the ValueError its docstring promises
(the reason pinned, so a caller that logs it says why)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.signer import CryptoSigner

from signing.keys import PublicKey, Signature, verify_signature
from signing.pem_keys import verify_ecdsa_p256, verify_rsa_pkcs1v15, verify_rsa_pss

MESSAGE = b'{"signed":"bytes"}'
Check = Callable[[str, bytes, bytes], None]

# an EC key on secp112r1 (made with `openssl ecparam -name secp112r1 -genkey`):
# OpenSSL parses it, cryptography refuses its curve
SECP112R1_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MDIwEAYHKoZIzj0CAQYFK4EEAAYDHgAEnSQk05RPwPyxO6uFD9bZZEnoDXutXJjj\n"
    "YIl5Tw==\n"
    "-----END PUBLIC KEY-----\n"
)


def _pem(signer: CryptoSigner) -> str:
    public = signer.public_key.keyval["public"]
    assert isinstance(public, str)
    return public


def _p192_pem() -> str:
    key = ec.generate_private_key(ec.SECP192R1()).public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture(scope="module")
def signers() -> dict[str, CryptoSigner]:
    return {
        "ecdsa": CryptoSigner.generate_ecdsa(),
        "pss": CryptoSigner.generate_rsa(size=2048),
        "pkcs1v15": CryptoSigner.generate_rsa(scheme="rsa-pkcs1v15-sha256", size=2048),
    }


CHECKS: dict[str, Check] = {
    "ecdsa": verify_ecdsa_p256,
    "pss": verify_rsa_pss,
    "pkcs1v15": verify_rsa_pkcs1v15,
}


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_each_check_accepts_exactly_the_signature_securesystemslib_made(
    signers: dict[str, CryptoSigner], kind: str
) -> None:
    signer = signers[kind]
    signature = signer.sign(MESSAGE)
    signer.public_key.verify_signature(signature, MESSAGE)  # the oracle agrees
    check = CHECKS[kind]
    assert check(_pem(signer), bytes.fromhex(signature.signature), MESSAGE) is None
    key = PublicKey.from_dict(signer.public_key.to_dict())
    assert verify_signature(key, Signature(signer.public_key.keyid, signature.signature), MESSAGE)
    for tampered in (MESSAGE + b" ", b"", MESSAGE[:-1]):
        with pytest.raises(ValueError) as refused:
            check(_pem(signer), bytes.fromhex(signature.signature), tampered)
        assert str(refused.value) == "the signature does not verify"
        assert not verify_signature(
            key, Signature(signer.public_key.keyid, signature.signature), tampered
        )


def test_rsa_pss_and_pkcs1v15_signatures_are_not_each_other(
    signers: dict[str, CryptoSigner],
) -> None:
    for made, checked in (("pss", "pkcs1v15"), ("pkcs1v15", "pss")):
        signer = signers[made]
        signature = bytes.fromhex(signer.sign(MESSAGE).signature)
        with pytest.raises(ValueError) as refused:
            CHECKS[checked](_pem(signer), signature, MESSAGE)
        assert str(refused.value) == "the signature does not verify"


@pytest.mark.parametrize("kind", ["pss", "pkcs1v15"])
def test_an_rsa_check_refuses_a_key_that_is_not_rsa(
    signers: dict[str, CryptoSigner], kind: str
) -> None:
    signature = bytes.fromhex(signers["ecdsa"].sign(MESSAGE).signature)
    for pem in (_pem(signers["ecdsa"]), _p192_pem()):
        with pytest.raises(ValueError) as refused:
            CHECKS[kind](pem, signature, MESSAGE)
        assert str(refused.value) == "not an RSA key"


def test_the_ecdsa_check_refuses_rsa_and_other_curves(signers: dict[str, CryptoSigner]) -> None:
    signature = bytes.fromhex(signers["ecdsa"].sign(MESSAGE).signature)
    for pem in (_pem(signers["pss"]), _p192_pem()):
        with pytest.raises(ValueError) as refused:
            verify_ecdsa_p256(pem, signature, MESSAGE)
        assert str(refused.value) == "not a P-256 key"


@pytest.mark.parametrize("kind", sorted(CHECKS))
def test_a_key_on_a_curve_cryptography_does_not_support_is_refused_naming_it(kind: str) -> None:
    with pytest.raises(ValueError) as refused:
        CHECKS[kind](SECP112R1_PEM, b"\0" * 64, MESSAGE)
    assert str(refused.value).startswith("unsupported key: ")
    assert "1.3.132.0.6" in str(refused.value)  # the curve's OID
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
