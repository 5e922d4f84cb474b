"""``archy-node registry add NAME --from-relay URL --announcement ID-or-d-tag``.

The announcement is fetched from the relay(s) and checked exactly as ``discover``
checks it (:mod:`node_runtime.market.verify`: form, did:key binding, root fingerprint,
TUF chain, catalog BLAKE3, version, developer signature).  Only then is the root
fetched again from the verified origin and its BLAKE3 compared with the announced
fingerprint; the owner sees that fingerprint and the did:key before confirming.

An announcement for a registry this node already has (same name, or one of its
origins) must name the same root fingerprint and did:key; otherwise it is refused with
both values, so a second, forged announcement cannot move a node to another root.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from catalog.address import blake3_hex
from catalog.announcement import ANNOUNCEMENT_HASHTAG, APP_DATA_KIND, AppAnnouncement
from node_runtime.market.relays import EventQuery, fetch_events
from node_runtime.market.verify import (
    ROOT_MAX_LENGTH,
    AnnouncementRefused,
    Listing,
    RegistryVerifier,
    announcement_of,
    is_announcement,
    listing_of,
    newest_per_address,
)
from node_runtime.registries.manage import RegistryRefused
from node_runtime.store.registry_state import RegistryRecord
from signing.errors import TufError


@dataclass(frozen=True)
class VerifiedAnnouncement:
    """An announcement whose every claim held, and the root bytes it pins."""

    listing: Listing
    origin: str
    root_bytes: bytes

    @property
    def announcement(self) -> AppAnnouncement:
        return self.listing.announcement

    @property
    def event_id(self) -> str:
        return self.listing.event.id


def fetch_announcement(
    relays: list[str], wanted: str, allow_file_origins: bool = False
) -> VerifiedAnnouncement:
    """The newest announcement whose event id or ``d`` tag is ``wanted``, verified."""
    found = fetch_events(relays, [EventQuery((APP_DATA_KIND,), hashtag=ANNOUNCEMENT_HASHTAG)])
    events = newest_per_address(event for event in found.events if is_announcement(event))
    matching = [event for event in events if wanted in (event.id, event.tag("d"))]
    if not matching:
        unreachable = "".join(
            f"; relay {url} did not answer ({why})"
            for url, why in sorted(found.unreachable.items())
        )
        raise RegistryRefused(
            f"no announcement {wanted[:80]!r} on {', '.join(relays)}{unreachable}"
        )
    if len({event.pubkey for event in matching}) > 1:
        raise RegistryRefused(
            f"announcement {wanted[:80]!r} is published by {len(matching)} different keys; "
            "name it by its event id"
        )
    event = matching[0]
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="archy-registry-add-") as work:
        verifier = RegistryVerifier(Path(work), allow_file_origins, reference_time=now)
        try:
            announcement = announcement_of(event)
            registry = verifier.verify(announcement)
            listing = listing_of(event, announcement, registry)
            root_url = f"{registry.origin}/metadata/{announcement.root.version}.root.json"
            root_bytes = verifier.transport(registry.origin).download_bytes(
                root_url, ROOT_MAX_LENGTH
            )
        except AnnouncementRefused as refusal:
            raise RegistryRefused(f"announcement {event.id[:12]}: {refusal.message}") from None
        except TufError as error:
            raise RegistryRefused(f"announcement {event.id[:12]}: {error}") from None
    if blake3_hex(root_bytes) != announcement.root.blake3:
        raise RegistryRefused(
            f"{root_url}: root fingerprint changed while it was read "
            f"({blake3_hex(root_bytes)}, the announcement says {announcement.root.blake3})"
        )
    return VerifiedAnnouncement(listing, registry.origin, root_bytes)


def mismatch_with_added(
    verified: VerifiedAnnouncement, name: str, added: list[RegistryRecord]
) -> str | None:
    """Why the announcement contradicts a registry already added (same name or origin)."""
    announcement = verified.announcement
    origins = {origin.rstrip("/") for origin in announcement.origins}
    for record in added:
        if record.name not in (name, announcement.registry) and (
            record.origin.rstrip("/") not in origins
        ):
            continue
        if record.root_blake3 != announcement.root.blake3:
            return (
                f"announcement {verified.event_id[:12]} ({announcement.d_tag()}) names root "
                f"{announcement.root.blake3}, but registry {record.name!r} on this node trusts "
                f"root {record.root_blake3}; refused (a registry's root changes only by its own "
                "signed rotation)"
            )
        if record.did is not None and record.did != announcement.did:
            return (
                f"announcement {verified.event_id[:12]} ({announcement.d_tag()}) is by "
                f"{announcement.did}, but registry {record.name!r} on this node is signed by "
                f"{record.did}; refused"
            )
    return None
