"""``archy-node discover``'s work: ask relays, verify every announcement, score what holds.

One round asks the relays for announcements, endorsements, reports, revocations and the
owner's follow list; a second asks for the follow lists of the keys the owner follows (depth
2).  Every announcement then goes through :mod:`node_runtime.market.verify`; those
that fail are reported with their reason and never listed; those whose did:key is
revoked (by a revocation seen now or remembered from before,
:mod:`node_runtime.market.revocation`) are shown as revoked, with the reason, and never
listed.  The score of each listing comes from :mod:`node_runtime.market.score`.  Each
registry's trusted TUF metadata is kept under the node's state root between runs
(rollback protection, :mod:`node_runtime.market.verify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from catalog.announcement import (
    ANNOUNCEMENT_HASHTAG,
    APP_DATA_KIND,
    ENDORSEMENT_HASHTAG,
    FOLLOW_LIST_KIND,
    REPORT_HASHTAG,
    REVOCATION_HASHTAG,
    AnnouncementError,
    parse_endorsement,
    parse_report,
)
from node_runtime.market.first_seen import record_first_seen
from node_runtime.market.relays import DEFAULT_TIMEOUT, EventQuery, NostrEvent, fetch_events
from node_runtime.market.revocation import (
    RevokedKey,
    read_revocations,
    remember_revocations,
)
from node_runtime.market.score import TrustFacts, TrustScore, policy_facts, trust_score
from node_runtime.market.verify import (
    AnnouncementRefused,
    Listing,
    RegistryVerifier,
    announcement_of,
    is_announcement,
    listing_of,
    newest_per_address,
)


@dataclass(frozen=True)
class OwnerTrust:
    """What the owner decided: their Nostr key (for follows), did:keys they trust, and the
    root fingerprints (BLAKE3 of root files) of the registries they trust as official."""

    owner_pubkey: str | None = None
    trusted_dids: frozenset[str] = frozenset()
    official_roots: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ScoredListing:
    listing: Listing
    score: TrustScore

    def to_json(self) -> dict[str, object]:
        announcement, app = self.listing.announcement, self.listing.app
        return {
            "registry": announcement.registry,
            "app": announcement.app,
            "name": app.manifest.name,
            "version": f"{app.version}-r{app.revision}",
            "did": announcement.did,
            "nostr_pubkey": self.listing.event.pubkey,
            "origin": self.listing.registry.origin,
            "root_fingerprint": announcement.root.blake3,
            "catalog_blake3": announcement.catalog_blake3,
            "score": self.score.to_json(),
        }


@dataclass(frozen=True)
class Rejection:
    event_id: str
    reason: str


@dataclass(frozen=True)
class RevokedListing:
    """An announcement that holds in form and binding, by a did:key that is revoked."""

    registry: str
    app: str
    revocation: RevokedKey

    def to_json(self) -> dict[str, str]:
        return {
            "registry": self.registry,
            "app": self.app,
            "did": self.revocation.did,
            "reason": self.revocation.reason,
            "revocation_event": self.revocation.event_id,
        }


@dataclass(frozen=True)
class DiscoveryReport:
    listings: list[ScoredListing]
    rejected: list[Rejection]
    revoked: list[RevokedListing]
    bad_signatures: int
    unreachable: dict[str, str]


def _newest_follow_lists(events: list[NostrEvent]) -> dict[str, frozenset[str]]:
    newest: dict[str, NostrEvent] = {}
    for event in events:
        if event.kind != FOLLOW_LIST_KIND:
            continue
        current = newest.get(event.pubkey)
        if current is None or (-event.created_at, event.id) < (-current.created_at, current.id):
            newest[event.pubkey] = event
    return {key: frozenset(event.tag_values("p")) for key, event in newest.items()}


def _claims(events: list[NostrEvent], hashtag: str) -> dict[tuple[str, str], set[str]]:
    """(did, app) -> the keys whose newest endorsement (or report) names it."""
    parse = parse_endorsement if hashtag == ENDORSEMENT_HASHTAG else parse_report
    found: dict[tuple[str, str], set[str]] = {}
    tagged = [e for e in events if e.kind == APP_DATA_KIND and hashtag in e.tag_values("t")]
    for event in newest_per_address(tagged):
        try:
            claim = parse(event.content)
        except AnnouncementError:
            continue
        if event.tag("d") != claim.d_tag():
            continue
        found.setdefault((claim.did, claim.app), set()).add(event.pubkey)
    return found


def discover(
    relays: list[str],
    work_dir: Path,
    trust: OwnerTrust,
    now: datetime,
    state_root: Path | None = None,
    allow_file_origins: bool = False,
    timeout: timedelta = DEFAULT_TIMEOUT,
) -> DiscoveryReport:
    queries = [
        EventQuery((APP_DATA_KIND,), hashtag=tag)
        for tag in (ANNOUNCEMENT_HASHTAG, ENDORSEMENT_HASHTAG, REPORT_HASHTAG, REVOCATION_HASHTAG)
    ]
    if trust.owner_pubkey is not None:
        queries.append(EventQuery((FOLLOW_LIST_KIND,), authors=(trust.owner_pubkey,)))
    first = fetch_events(relays, queries, timeout)
    follows = _newest_follow_lists(first.events)
    bad_signatures = first.bad_signatures
    if trust.owner_pubkey is not None and follows.get(trust.owner_pubkey):
        second = fetch_events(
            relays,
            [EventQuery((FOLLOW_LIST_KIND,), authors=tuple(sorted(follows[trust.owner_pubkey])))],
            timeout,
        )
        bad_signatures += second.bad_signatures
        follows = {**_newest_follow_lists(second.events), **follows}
    revocations = read_revocations(first.events)
    revoked = remember_revocations(state_root, revocations.revoked)
    trust_dir = None
    if state_root is not None and state_root.is_dir():
        trust_dir = state_root / "market" / "registries"
        trust_dir.parent.mkdir(mode=0o700, exist_ok=True)
        trust_dir.mkdir(mode=0o700, exist_ok=True)
    verifier = RegistryVerifier(work_dir, allow_file_origins, now, trust_dir=trust_dir)
    listings: list[Listing] = []
    rejected = [Rejection(event_id, why) for event_id, why in revocations.rejected]
    revoked_listings: list[RevokedListing] = []
    for event in newest_per_address(e for e in first.events if is_announcement(e)):
        try:
            announcement = announcement_of(event)
            if announcement.did in revoked:
                revocation = revoked[announcement.did]
                revoked_listings.append(
                    RevokedListing(announcement.registry, announcement.app, revocation)
                )
                continue
            listings.append(listing_of(event, announcement, verifier.verify(announcement)))
        except AnnouncementRefused as refusal:
            rejected.append(Rejection(event.id, refusal.message))
    endorsements = _claims(first.events, ENDORSEMENT_HASHTAG)
    reports = _claims(first.events, REPORT_HASHTAG)
    seen = record_first_seen(state_root, sorted({x.announcement.did for x in listings}), now)
    scored = []
    for listing in listings:
        key = (listing.announcement.did, listing.announcement.app)
        facts = TrustFacts(
            developer_pubkey=listing.event.pubkey,
            did=listing.announcement.did,
            official=listing.announcement.root.blake3 in trust.official_roots,
            owner_trusts_did=listing.announcement.did in trust.trusted_dids,
            endorsers=frozenset(endorsements.get(key, ())),
            reporters=frozenset(reports.get(key, ())),
            first_seen=seen.get(listing.announcement.did),
            policy=policy_facts(listing.app.manifest),
        )
        scored.append(ScoredListing(listing, trust_score(facts, trust.owner_pubkey, follows, now)))
    scored.sort(key=lambda each: (-each.score.total, each.listing.announcement.d_tag()))
    return DiscoveryReport(scored, rejected, revoked_listings, bad_signatures, first.unreachable)


@dataclass(frozen=True)
class RelayClaims:
    """What relays say about apps, checked like ``discover`` checks it: each event's id and
    signature (``fetch_events``), the newest endorsement or report per key, its content and
    ``d`` tag; the owner's follow lists to depth 2; the Nostr keys bound to each did:key by
    an announcement whose binding signature holds."""

    endorsements: dict[tuple[str, str], set[str]]
    reports: dict[tuple[str, str], set[str]]
    follows: dict[str, frozenset[str]]
    developer_keys: dict[str, str]
    bad_signatures: int
    unreachable: dict[str, str]


def _bound_developer_keys(events: list[NostrEvent]) -> dict[str, str]:
    """did -> the Nostr key of its newest announcement whose form and binding hold."""
    keys: dict[str, tuple[int, str, str]] = {}
    for event in newest_per_address(e for e in events if is_announcement(e)):
        try:
            announcement = announcement_of(event)
        except AnnouncementRefused:
            continue
        current = keys.get(announcement.did)
        if current is None or event.created_at > current[0]:
            keys[announcement.did] = (event.created_at, event.id, event.pubkey)
    return {did: pubkey for did, (_, _, pubkey) in keys.items()}


def relay_claims(
    relays: list[str], owner_pubkey: str | None, timeout: timedelta = DEFAULT_TIMEOUT
) -> RelayClaims:
    """Endorsements, reports and follow lists from ``relays`` (for ``archy-node info``)."""
    queries = [
        EventQuery((APP_DATA_KIND,), hashtag=tag)
        for tag in (ANNOUNCEMENT_HASHTAG, ENDORSEMENT_HASHTAG, REPORT_HASHTAG)
    ]
    if owner_pubkey is not None:
        queries.append(EventQuery((FOLLOW_LIST_KIND,), authors=(owner_pubkey,)))
    first = fetch_events(relays, queries, timeout)
    follows = _newest_follow_lists(first.events)
    bad_signatures = first.bad_signatures
    if owner_pubkey is not None and follows.get(owner_pubkey):
        second = fetch_events(
            relays,
            [EventQuery((FOLLOW_LIST_KIND,), authors=tuple(sorted(follows[owner_pubkey])))],
            timeout,
        )
        bad_signatures += second.bad_signatures
        follows = {**_newest_follow_lists(second.events), **follows}
    return RelayClaims(
        _claims(first.events, ENDORSEMENT_HASHTAG),
        _claims(first.events, REPORT_HASHTAG),
        follows,
        _bound_developer_keys(first.events),
        bad_signatures,
        first.unreachable,
    )


def refresh_revocations(
    relays: list[str], state_root: Path | None, timeout: timedelta = DEFAULT_TIMEOUT
) -> dict[str, RevokedKey]:
    """Ask the relays for revocations only, keep the verified ones under ``state_root``, and
    return every revocation the node knows (for ``registry``/``pull``/``install``, which then
    call :func:`node_runtime.market.revocation.revoked_apps`)."""
    found = fetch_events(
        relays, [EventQuery((APP_DATA_KIND,), hashtag=REVOCATION_HASHTAG)], timeout
    )
    return remember_revocations(state_root, read_revocations(found.events).revoked)
