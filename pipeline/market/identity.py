"""A developer identity on disk: an Ed25519 did:key, a Nostr key, and their public binding.

A directory holds three files:

* ``did-key.json`` — the Ed25519 key (the did:key), sealed by the ceremony's keystore
  (:mod:`pipeline.ceremony.keystore`: Argon2id + XSalsa20-Poly1305, 0600, never
  overwritten);
* ``nostr-key.json`` — the 32-byte secp256k1 secret of the Nostr key, sealed the same
  way.  The keystore seals a 32-byte seed and checks it against the Ed25519 public key
  of that seed; for this file that public key is only the keystore's integrity check
  (it reveals nothing about the secret) — the Nostr public key is in ``identity.json``;
* ``identity.json`` — public: the did:key, the Nostr public key (hex and npub) and the
  binding signature (:func:`signing.developer.sign_binding`), which anyone can check.

Nothing here prints or logs a secret.  Public API: ``create_identity(directory,
passphrase, cost) -> PublicIdentity``, ``read_public_identity(directory)``,
``open_identity(directory, passphrase) -> DeveloperIdentity``, ``IdentityError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.refusal import Refused
from pipeline.ceremony.keystore import (
    KdfCost,
    KeyFileError,
    read_key_file,
    write_key_file,
    write_private_file,
)
from signing.developer import binding_problem, sign_binding
from signing.did_key import DidKeySigner
from signing.keys import SigningKey

DID_KEY_FILE = "did-key.json"
NOSTR_KEY_FILE = "nostr-key.json"
PUBLIC_FILE = "identity.json"
PUBLIC_FORMAT = "archy-developer-identity/1"


def default_identity_dir() -> Path:
    """``$ARCHY_DEV_DIR``, else ``$XDG_CONFIG_HOME/archy/developer`` (``~/.config/…``)."""
    configured = os.environ.get("ARCHY_DEV_DIR")
    if configured:
        return Path(configured)
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "archy" / "developer"


class IdentityError(Refused):
    """The identity directory is missing, incomplete, tampered with, or the passphrase is wrong."""


@dataclass(frozen=True)
class PublicIdentity:
    did: str
    nostr_pubkey: str
    npub: str
    binding: str

    def to_json(self) -> dict[str, str]:
        return {
            "format": PUBLIC_FORMAT,
            "did": self.did,
            "nostr_pubkey": self.nostr_pubkey,
            "npub": self.npub,
            "binding": self.binding,
        }


@dataclass(frozen=True)
class DeveloperIdentity:
    """The opened identity: the did:key signer and the Nostr secret (hex; never log it)."""

    public: PublicIdentity
    signer: DidKeySigner
    nostr_secret_hex: str

    def __repr__(self) -> str:
        return f"DeveloperIdentity(did={self.public.did}, npub={self.public.npub})"


def _nostr_keys_from_secret(secret_hex: str) -> Any:
    from nostr_sdk import Keys

    return Keys.parse(secret_hex)


def create_identity(directory: Path, passphrase: bytes, cost: KdfCost) -> PublicIdentity:
    """Make a new identity in ``directory``; refuse if any of its files exists."""
    from nostr_sdk import Keys

    existing = [name for name in (DID_KEY_FILE, NOSTR_KEY_FILE, PUBLIC_FILE)
                if (directory / name).exists()]  # fmt: skip
    if existing:
        raise IdentityError(
            f"{directory / existing[0]}: already exists; an identity is never overwritten",
            hint="use another --dir, or `archy dev whoami` to see the one there",
        )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    signer = DidKeySigner.generate()
    nostr = Keys.generate()
    public_key = nostr.public_key()
    nostr_pubkey = public_key.to_hex()
    public = PublicIdentity(
        did=signer.did,
        nostr_pubkey=nostr_pubkey,
        npub=public_key.to_bech32(),
        binding=sign_binding(signer, nostr_pubkey),
    )
    nostr_secret = bytes.fromhex(nostr.secret_key().to_hex())
    try:
        write_key_file(
            directory / DID_KEY_FILE, SigningKey.from_seed(signer.seed()), passphrase, cost
        )
        write_key_file(
            directory / NOSTR_KEY_FILE, SigningKey.from_seed(nostr_secret), passphrase, cost
        )
        text = json.dumps(public.to_json(), indent=2, sort_keys=True) + "\n"
        write_private_file(directory / PUBLIC_FILE, text.encode())
    except KeyFileError as error:
        raise IdentityError(str(error)) from None
    (directory / PUBLIC_FILE).chmod(0o644)  # public by design
    return public


def read_public_identity(directory: Path) -> PublicIdentity:
    """The public part, checked: the binding must verify."""
    path = directory / PUBLIC_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IdentityError(
            f"{path}: no developer identity here", hint="create one with `archy dev keygen`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IdentityError(f"{path}: not a developer identity file ({error})") from None
    if not isinstance(document, dict) or document.get("format") != PUBLIC_FORMAT:
        raise IdentityError(f"{path}: not a developer identity file (format)")
    fields = ("did", "nostr_pubkey", "npub", "binding")
    if not all(isinstance(document.get(name), str) for name in fields):
        raise IdentityError(f"{path}: one of {', '.join(fields)} is missing")
    public = PublicIdentity(*(document[name] for name in fields))
    problem = binding_problem(public.did, public.nostr_pubkey, public.binding)
    if problem is not None:
        raise IdentityError(f"{path}: {problem}")
    from nostr_sdk import PublicKey

    if PublicKey.parse(public.npub).to_hex() != public.nostr_pubkey:
        raise IdentityError(f"{path}: npub does not name nostr_pubkey")
    return public


def open_identity(directory: Path, passphrase: bytes) -> DeveloperIdentity:
    """Open both private keys and check they are the ones the public file names."""
    public = read_public_identity(directory)
    try:
        did_seed = read_key_file(directory / DID_KEY_FILE, passphrase).seed()
        nostr_seed = read_key_file(directory / NOSTR_KEY_FILE, passphrase).seed()
    except KeyFileError as error:
        raise IdentityError(str(error)) from None
    signer = DidKeySigner.from_seed(did_seed)
    if signer.did != public.did:
        raise IdentityError(f"{directory / DID_KEY_FILE}: is not the key of {public.did}")
    if _nostr_keys_from_secret(nostr_seed.hex()).public_key().to_hex() != public.nostr_pubkey:
        raise IdentityError(f"{directory / NOSTR_KEY_FILE}: is not the key of {public.npub}")
    return DeveloperIdentity(public, signer, nostr_seed.hex())
