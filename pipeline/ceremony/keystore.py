"""Private signing keys at rest: one passphrase-encrypted file per key.

A key file is a small JSON document.  The public key and its keyid are in
the clear (anyone may read who the key belongs to); the 32-byte Ed25519 seed
is sealed with PyNaCl's ``SecretBox`` (XSalsa20-Poly1305) under a key derived
from the passphrase by Argon2id (PyNaCl's ``pwhash``), with the salt and cost
stored beside it.  Files are created with mode 0600, atomically, and never
overwritten.  Nothing here prints or logs a seed or a passphrase.

Public API:

- ``write_key_file(path, key, passphrase, cost=KdfCost.MODERATE)``;
- ``read_key_file(path, passphrase) -> SigningKey`` — raises
  :class:`KeyFileError` (missing or malformed file) or
  :class:`WrongPassphraseError`;
- ``read_public_key(path) -> PublicKey`` — the public part of a key file
  (or of a ``.pub`` file that holds only that part);
- ``write_public_key_file(path, key)``.
"""

from __future__ import annotations

import enum
import errno
import json
import os
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.secret
import nacl.utils

from pipeline.atomic_file import create_file_once
from signing.keys import PublicKey, SigningKey, key_id

KEY_FILE_FORMAT = "archy-signing-key/1"
PUBLIC_KEY_FORMAT = "archy-public-key/1"


class KeyFileError(Exception):
    """A key file is missing, unreadable or not a key file."""


class WrongPassphraseError(KeyFileError):
    """The passphrase does not open the key file."""


class KdfCost(enum.Enum):
    """Argon2id cost: MODERATE (~0.5 s, 256 MiB) for real keys, INTERACTIVE for dev keys."""

    INTERACTIVE = (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
    MODERATE = (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)


def _derive_box(
    passphrase: bytes, salt: bytes, opslimit: int, memlimit: int
) -> nacl.secret.SecretBox:
    if not passphrase:
        raise KeyFileError("the passphrase is empty")
    secret = argon2id.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=opslimit, memlimit=memlimit
    )
    return nacl.secret.SecretBox(secret)


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600, atomically; refuse to replace an existing file."""
    if path.exists():
        raise KeyFileError(f"{path}: already exists; a key file is never overwritten")
    if not create_file_once(path, data, mode=0o600, prefix=".tmp-key-"):
        # path appeared meanwhile: never overwrite
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(path))


def write_key_file(
    path: Path, key: SigningKey, passphrase: bytes, cost: KdfCost = KdfCost.MODERATE
) -> None:
    """Encrypt ``key`` under ``passphrase`` into a new 0600 file at ``path``."""
    opslimit, memlimit = cost.value
    salt = nacl.utils.random(argon2id.SALTBYTES)
    sealed = _derive_box(passphrase, salt, opslimit, memlimit).encrypt(key.seed())
    document = {
        "format": KEY_FILE_FORMAT,
        "keyid": key.keyid,
        "public_key": key.public_key.to_dict(),
        "kdf": {"name": "argon2id", "salt": salt.hex(), "opslimit": opslimit, "memlimit": memlimit},
        "cipher": "xsalsa20poly1305",
        "sealed_seed": sealed.hex(),
    }
    write_private_file(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())


def _load_document(path: Path, source: str | None = None) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8") if source is None else source
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no such key file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise KeyFileError(f"{path}: cannot read the key file ({error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise KeyFileError(f"{path}: not a key file (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") not in (
        KEY_FILE_FORMAT,
        PUBLIC_KEY_FORMAT,
    ):
        raise KeyFileError(f"{path}: not an archy key file")
    return document


def _public_key(path: Path, document: dict[str, Any]) -> PublicKey:
    try:
        key = PublicKey.from_dict(document["public_key"])
    except (KeyError, TypeError, ValueError):
        raise KeyFileError(f"{path}: public_key is missing or malformed") from None
    if key_id(key) != document.get("keyid"):
        raise KeyFileError(f"{path}: keyid does not match the public key")
    return key


def read_public_key(path: Path) -> PublicKey:
    """The public key a key file (private or ``.pub``) holds; needs no passphrase."""
    return _public_key(path, _load_document(path))


def write_public_key_file(path: Path, key: PublicKey) -> None:
    document = {"format": PUBLIC_KEY_FORMAT, "keyid": key_id(key), "public_key": key.to_dict()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_key_file(path: Path, passphrase: bytes, source: str | None = None) -> SigningKey:
    """Open the key file at ``path`` (or its text ``source``) with ``passphrase``."""
    document = _load_document(path, source)
    if document["format"] != KEY_FILE_FORMAT:
        raise KeyFileError(f"{path}: holds only a public key; signing needs the private key file")
    public = _public_key(path, document)
    try:
        kdf = document["kdf"]
        salt = bytes.fromhex(kdf["salt"])
        opslimit, memlimit = int(kdf["opslimit"]), int(kdf["memlimit"])
        sealed = bytes.fromhex(document["sealed_seed"])
    except (KeyError, TypeError, ValueError):
        raise KeyFileError(f"{path}: the encrypted part is missing or malformed") from None
    if kdf.get("name") != "argon2id" or document.get("cipher") != "xsalsa20poly1305":
        raise KeyFileError(f"{path}: unsupported key derivation or cipher")
    try:
        seed = _derive_box(passphrase, salt, opslimit, memlimit).decrypt(sealed)
    except nacl.exceptions.CryptoError:
        raise WrongPassphraseError(f"{path}: wrong passphrase") from None
    key = SigningKey.from_seed(seed)
    if key.keyid != key_id(public):
        raise KeyFileError(f"{path}: the private key does not match its public key")
    return key
