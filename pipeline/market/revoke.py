"""``archy dev revoke``: a developer revokes their own did:key (docs/marketplace.md §3.5).

The revocation is a statement signed by the did:key it revokes
(:func:`signing.developer.sign_revocation`): a *revocation certificate*.  It can be sent
at once, or made in advance and kept offline (``--certificate-out``), then sent later by
anyone — with a one-time Nostr key, since a certificate needs no other authority — if
the did:key or the developer's Nostr key is lost.

After a revocation was sent from the identity directory, ``revocation.json`` (public,
the certificate) stays there and ``archy dev announce`` refuses to announce with that
identity.  Nothing here prints or logs a secret.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from catalog.announcement import (
    REVOCATION_HASHTAG,
    AnnouncementError,
    Revocation,
    parse_revocation,
)
from catalog.refusal import Refused
from pipeline.atomic_file import create_file_once, write_file_atomically
from pipeline.market.announce import signed_event_json
from pipeline.market.identity import DeveloperIdentity
from signing.developer import revocation_problem, sign_revocation

REVOKED_FILE = "revocation.json"


class RevokeRefused(Refused):
    """No revocation was made or sent: the reason, the certificate or the file is not right."""


MAX_REASON_LENGTH = 500


def check_reason(reason: str) -> None:
    """Refuse an empty or too long reason before any passphrase is asked for."""
    if not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise RevokeRefused(
            f"--reason: give 1 to {MAX_REASON_LENGTH} characters (it is public), not {len(reason)}"
        )


def make_revocation(identity: DeveloperIdentity, reason: str) -> Revocation:
    """The identity's did:key, revoked for ``reason`` (1 to 500 characters; public)."""
    try:
        return Revocation(
            did=identity.public.did,
            reason=reason,
            signature=sign_revocation(identity.signer, reason),
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RevokeRefused(f"--reason: {where}: {first['msg']}") from None


def read_certificate(path: Path) -> Revocation:
    """A revocation certificate from ``path``, its signature checked."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RevokeRefused(f"{path}: cannot read ({error})") from None
    try:
        revocation = parse_revocation(text.strip())
    except AnnouncementError as error:
        raise RevokeRefused(f"{path}: not a revocation certificate ({error})") from None
    problem = revocation_problem(revocation.did, revocation.reason, revocation.signature)
    if problem is not None:
        raise RevokeRefused(f"{path}: {problem}")
    return revocation


def save_certificate(path: Path, revocation: Revocation) -> None:
    """Write a certificate to a new file (never over an existing one)."""
    if not create_file_once(path, (revocation.content() + "\n").encode(), mode=0o600):
        raise RevokeRefused(f"{path}: already exists; a certificate is never overwritten")


def revocation_event_json(revocation: Revocation, identity: DeveloperIdentity | None) -> str:
    """The kind 30078 event carrying ``revocation``: signed with the identity's Nostr key,
    or (no identity: a certificate sent later) with a one-time Nostr key."""
    if identity is None:
        from nostr_sdk import Keys

        secret = Keys.generate().secret_key().to_hex()
        return signed_event_json(revocation, REVOCATION_HASHTAG, secret)
    return signed_event_json(revocation, REVOCATION_HASHTAG, identity.nostr_secret_hex)


def record_revoked(identity_dir: Path, revocation: Revocation) -> None:
    """Keep the first sent certificate in the identity directory (public)."""
    path = identity_dir / REVOKED_FILE
    if path.exists():
        return
    write_file_atomically(path, (revocation.content() + "\n").encode(), mode=0o644)


def revoked_identity(identity_dir: Path) -> str | None:
    """The reason this identity's did:key was revoked from this directory, or None."""
    path = identity_dir / REVOKED_FILE
    if not path.exists():
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        return "(unreadable revocation.json)"
