"""Revoked developer did:keys: which keys are revoked, and what a node keeps of it.

A revocation (docs/marketplace.md §3.5) is a kind 30078 event tagged
``archy-revocation`` whose content carries the did:key's own signature of "this key is
revoked, because REASON".  The did:key's signature is the whole authority: any Nostr
key may carry it (a developer who lost their Nostr key can still publish one), nobody
without the did:key can forge one, and a thief holding the key can only revoke it —
which is what its owner wants anyway.  A revocation is permanent: there is no
un-revocation.

Because a relay may withhold events, a node keeps every revocation it verified in
``<state root>/market/revocations.json`` (0600, atomic) and re-checks each signature
when it reads the file: once seen, a revocation stays in force whatever the relays
serve later.

Pure core (:func:`read_revocations`, :func:`revoked_keys`, :func:`revoked_apps`) plus
the state file (:func:`remembered_revocations`, :func:`remember_revocations`).  What
the rest of the node calls at pull/install time::

    revoked = remembered_revocations(state_root)          # did -> RevokedKey
    for app_id, why in revoked_apps(catalog, revoked).items(): refuse(why)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog.announcement import (
    APP_DATA_KIND,
    REVOCATION_HASHTAG,
    AnnouncementError,
    parse_revocation,
)
from catalog.catalog_model import AppCatalog
from node_runtime.market.relays import NostrEvent
from node_runtime.store.atomic_file import write_file_atomically
from signing.developer import revocation_problem

FILE_NAME = "revocations.json"


@dataclass(frozen=True)
class RevokedKey:
    """A did:key whose revocation verified: its reason and the signature that proves it."""

    did: str
    reason: str
    signature: str
    event_id: str

    def to_json(self) -> dict[str, str]:
        return {
            "did": self.did,
            "reason": self.reason,
            "signature": self.signature,
            "event": self.event_id,
        }

    def why(self) -> str:
        """One line for people: ``did:key:… was revoked by its developer: REASON``."""
        return f"{self.did} was revoked by its developer: {self.reason}"


@dataclass(frozen=True)
class Revocations:
    revoked: dict[str, RevokedKey]
    rejected: list[tuple[str, str]]
    """(event id, why) of every revocation event that does not hold"""


def is_revocation(event: NostrEvent) -> bool:
    return event.kind == APP_DATA_KIND and REVOCATION_HASHTAG in event.tag_values("t")


def _revoked_key(event: NostrEvent) -> RevokedKey:
    """The did:key ``event`` revokes, or AnnouncementError saying why it does not."""
    revocation = parse_revocation(event.content)
    if event.tag("d") != revocation.d_tag():
        raise AnnouncementError(f"d tag {event.tag('d')!r} does not name {revocation.d_tag()!r}")
    problem = revocation_problem(revocation.did, revocation.reason, revocation.signature)
    if problem is not None:
        raise AnnouncementError(problem)
    return RevokedKey(revocation.did, revocation.reason, revocation.signature, event.id)


def read_revocations(events: Iterable[NostrEvent]) -> Revocations:
    """Every did:key the revocation events among ``events`` revoke (others are ignored).

    Every event counts, not only the newest per (pubkey, d tag): a revocation never
    expires.  For a key revoked more than once, the reason shown is that of the event
    with the lowest (created_at, id)."""
    candidates = sorted((e for e in events if is_revocation(e)), key=lambda e: (e.created_at, e.id))
    revoked: dict[str, RevokedKey] = {}
    rejected: list[tuple[str, str]] = []
    for event in candidates:
        try:
            key = _revoked_key(event)
        except AnnouncementError as error:
            rejected.append((event.id, f"revocation {event.id[:12]}: {error}"))
            continue
        revoked.setdefault(key.did, key)
    return Revocations(revoked, rejected)


def revoked_keys(events: Iterable[NostrEvent]) -> dict[str, RevokedKey]:
    """did:key -> its verified revocation, from relay events (pure)."""
    return read_revocations(events).revoked


def revoked_apps(catalog: AppCatalog, revoked: Mapping[str, RevokedKey]) -> dict[str, str]:
    """app id -> why it must not be offered, installed or updated: its entry is signed by a
    revoked did:key.  Empty when no entry is."""
    refused = {}
    for app_id in sorted(catalog.apps):
        developer = catalog.apps[app_id].developer
        if developer is not None and developer.did in revoked:
            refused[app_id] = f"apps.{app_id}: signed by {revoked[developer.did].why()}"
    return refused


def _state_file(state_root: Path) -> Path:
    return state_root / "market" / FILE_NAME


def remembered_revocations(state_root: Path | None) -> dict[str, RevokedKey]:
    """The revocations this node verified before (each signature checked again on read;
    an entry that does not verify, or an unreadable file, is ignored)."""
    if state_root is None:
        return {}
    try:
        document = json.loads(_state_file(state_root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    kept = {}
    for did, entry in document.items():
        if not isinstance(entry, dict):
            continue
        fields = [entry.get(name) for name in ("reason", "signature", "event")]
        if not all(isinstance(value, str) for value in fields):
            continue
        reason, signature, event_id = (str(value) for value in fields)
        if revocation_problem(did, reason, signature) is None:
            kept[did] = RevokedKey(did, reason, signature, event_id)
    return kept


def remember_revocations(
    state_root: Path | None, seen: Mapping[str, RevokedKey]
) -> dict[str, RevokedKey]:
    """The remembered revocations plus ``seen`` (a remembered one keeps its first reason),
    written back when ``state_root`` exists and something is new."""
    known = remembered_revocations(state_root)
    merged = {**seen, **known}
    if state_root is not None and state_root.is_dir() and merged.keys() != known.keys():
        path = _state_file(state_root)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        document = {did: merged[did].to_json() for did in sorted(merged)}
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        write_file_atomically(path, text.encode(), mode=0o600)
    return merged
