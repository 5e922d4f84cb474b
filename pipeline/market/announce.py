"""``archy dev announce``: one NIP-78 event per app of a developer's registry, sent to relays.

The pure part (:func:`announcements`) turns the built catalog, the registry's root
file and its origin URLs into :class:`catalog.announcement.AppAnnouncement` contents,
after checking what a node will check: every app entry carries this identity's valid
did:key signature.  :func:`publish_announcements` signs each as a kind 30078 event
with the identity's Nostr key (nostr-sdk) and sends it to every relay.  Relays are
untrusted transport: a node believes none of it before checking the registry itself.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from dataclasses import dataclass

from catalog.address import blake3_hex
from catalog.announcement import (
    ANNOUNCEMENT_HASHTAG,
    APP_DATA_KIND,
    AppAnnouncement,
    Endorsement,
    Report,
    Revocation,
    RootPin,
)
from catalog.catalog_model import CatalogError, parse_catalog
from catalog.refusal import Refused
from pipeline.market.identity import DeveloperIdentity, PublicIdentity
from signing.developer import verify_developer_signature

RELAY_TIMEOUT = datetime.timedelta(seconds=10)


class AnnounceRefused(Refused):
    """Nothing was announced: the inputs do not hold, or no relay took the events."""


def root_version(root_bytes: bytes, where: str) -> int:
    try:
        version = json.loads(root_bytes)["signed"]["version"]
    except (ValueError, KeyError, TypeError):
        raise AnnounceRefused(f"{where}: not a TUF root metadata file") from None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise AnnounceRefused(f"{where}: signed.version is not a positive integer")
    return version


def announcements(
    catalog_bytes: bytes,
    root_bytes: bytes,
    registry: str,
    origins: list[str],
    identity: PublicIdentity,
    app_ids: list[str] | None = None,
    where: tuple[str, str] = ("app-catalog.json", "root.json"),
) -> list[AppAnnouncement]:
    """One announcement per app (all, or ``app_ids``), each checked as a node will."""
    try:
        catalog = parse_catalog(catalog_bytes)
    except CatalogError as error:
        raise AnnounceRefused(f"{where[0]}: {error}") from None
    pin = RootPin(version=root_version(root_bytes, where[1]), blake3=blake3_hex(root_bytes))
    wanted = app_ids if app_ids else sorted(catalog.apps)
    result = []
    for app_id in wanted:
        app = catalog.apps.get(app_id)
        if app is None:
            raise AnnounceRefused(f"{where[0]}: has no app {app_id!r}")
        problem = verify_developer_signature(app)
        if problem is not None:
            raise AnnounceRefused(f"{where[0]}: {problem}")
        assert app.developer is not None
        if app.developer.did != identity.did:
            raise AnnounceRefused(
                f"{where[0]}: apps.{app_id} is signed by {app.developer.did}, not by you "
                f"({identity.did})"
            )
        try:
            announcement = AppAnnouncement(
                registry=registry,
                app=app_id,
                version=app.version,
                revision=app.revision,
                origins=origins,
                root=pin,
                catalog_blake3=blake3_hex(catalog_bytes),
                did=identity.did,
                binding=identity.binding,
            )
        except ValueError as error:
            first = str(error).splitlines()
            raise AnnounceRefused(f"announcement of {app_id}: {' '.join(first[:3])}") from None
        result.append(announcement)
    return result


@dataclass(frozen=True)
class RelayOutcome:
    event_id: str
    d_tag: str
    accepted_by: list[str]
    refused_by: dict[str, str]


def announcement_event_json(
    announcement: AppAnnouncement, identity: DeveloperIdentity, created_at: int | None = None
) -> str:
    """The signed event (NIP-01 JSON) of ``announcement``."""
    return claim_event_json(announcement, ANNOUNCEMENT_HASHTAG, identity, created_at)


def claim_event_json(
    claim: AppAnnouncement | Endorsement | Report,
    hashtag: str,
    identity: DeveloperIdentity,
    created_at: int | None = None,
) -> str:
    """A kind 30078 event of ``claim`` (announcement, endorsement or report), signed with
    the identity's Nostr key, as NIP-01 JSON."""
    return signed_event_json(claim, hashtag, identity.nostr_secret_hex, created_at)


def signed_event_json(
    claim: AppAnnouncement | Endorsement | Report | Revocation,
    hashtag: str,
    nostr_secret_hex: str,
    created_at: int | None = None,
) -> str:
    """A kind 30078 event of ``claim`` signed with the Nostr secret key (hex), as NIP-01 JSON."""
    from nostr_sdk import EventBuilder, Keys, Kind, Tag, Timestamp

    builder = EventBuilder(Kind(APP_DATA_KIND), claim.content()).tags(
        [Tag.identifier(claim.d_tag()), Tag.hashtag(hashtag)]
    )
    if created_at is not None:
        builder = builder.custom_created_at(Timestamp.from_secs(created_at))
    event = builder.finalize(Keys.parse(nostr_secret_hex))
    return str(event.as_json())


async def _send(events: list[str], relays: list[str]) -> list[RelayOutcome]:
    from nostr_sdk import ClientBuilder, Event, RelayUrl

    client = ClientBuilder().build()
    try:
        for relay in relays:
            await client.add_relay(RelayUrl.parse(relay))
        await client.connect(RELAY_TIMEOUT)
        outcomes = []
        for text in events:
            event = Event.from_json(text)
            output = await client.send_event(event)
            d_tag = next(t.content() or "" for t in event.tags() if t.kind() == "d")
            outcomes.append(
                RelayOutcome(
                    event_id=event.id().to_hex(),
                    d_tag=d_tag,
                    accepted_by=sorted(str(url) for url in output.success),
                    refused_by={str(url): str(why) for url, why in output.failed.items()},
                )
            )
        return outcomes
    finally:
        await client.shutdown()


def send_events(events: list[str], relays: list[str]) -> list[RelayOutcome]:
    """Send signed events to every relay; refuse when a relay URL is bad or none took one."""
    try:
        outcomes = asyncio.run(_send(events, relays))
    except Exception as error:  # nostr-sdk raises its own error types for bad URLs
        raise AnnounceRefused(f"relays: {error}") from None
    for outcome in outcomes:
        if not outcome.accepted_by:
            reasons = "; ".join(f"{url}: {why}" for url, why in outcome.refused_by.items())
            raise AnnounceRefused(f"{outcome.d_tag}: no relay accepted the event ({reasons})")
    return outcomes
