"""ECDSA P-256 and RSA signature checks (PEM public keys, via ``cryptography``).

Split from :mod:`signing.keys` so that checking Ed25519 signatures (what our
own roles and most TUF repositories use) never loads ``cryptography``: about
a fifth of a second of every ``archy-node tuf`` start.  :mod:`signing.keys`
imports this module the first time it checks an ECDSA or RSA signature.

Each check raises :class:`ValueError` when the signature does not verify or the
key is not of the named kind, and returns None when it verifies.

Public API: ``verify_ecdsa_p256``, ``verify_rsa_pss``, ``verify_rsa_pkcs1v15``
(each ``(public_pem, signature, message) -> None``).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def _public_key(public_pem: str) -> object:
    try:
        return serialization.load_pem_public_key(public_pem.encode())
    except UnsupportedAlgorithm as error:
        raise ValueError(f"unsupported key: {error}") from None


def _verified(check: Callable[[], None]) -> None:
    try:
        check()
    except InvalidSignature:
        raise ValueError("the signature does not verify") from None
    except UnsupportedAlgorithm as error:
        raise ValueError(f"unsupported: {error}") from None


def verify_ecdsa_p256(public_pem: str, signature: bytes, message: bytes) -> None:
    public = _public_key(public_pem)
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        raise ValueError("not a P-256 key")
    _verified(lambda: public.verify(signature, message, ec.ECDSA(hashes.SHA256())))


def _rsa_key(public_pem: str) -> rsa.RSAPublicKey:
    public = _public_key(public_pem)
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return public


def verify_rsa_pss(public_pem: str, signature: bytes, message: bytes) -> None:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
    public = _rsa_key(public_pem)
    _verified(lambda: public.verify(signature, message, pss, hashes.SHA256()))


def verify_rsa_pkcs1v15(public_pem: str, signature: bytes, message: bytes) -> None:
    public = _rsa_key(public_pem)
    _verified(lambda: public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256()))
