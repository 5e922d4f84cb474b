"""Read events from Nostr relays (nostr-sdk client): the only module that touches nostr-sdk.

Relays are untrusted transport.  What leaves this module is a plain
:class:`NostrEvent` whose id and schnorr signature nostr-sdk verified (an event that
fails is dropped here and counted); nothing about its content is believed yet.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from catalog.refusal import Refused

DEFAULT_TIMEOUT = datetime.timedelta(seconds=10)
"""How long a relay may take to connect, and then to answer (each); see :func:`fetch_events`."""


class RelayRefused(Refused):
    """No relay could be asked (a malformed URL, none reachable)."""


@dataclass(frozen=True)
class NostrEvent:
    id: str
    pubkey: str  # x-only secp256k1, 64 lowercase hex
    created_at: int
    kind: int
    tags: tuple[tuple[str, ...], ...]
    content: str

    def tag(self, name: str) -> str | None:
        """The first value of the first tag called ``name``."""
        for tag in self.tags:
            if len(tag) >= 2 and tag[0] == name:
                return tag[1]
        return None

    def tag_values(self, name: str) -> list[str]:
        return [tag[1] for tag in self.tags if len(tag) >= 2 and tag[0] == name]


@dataclass(frozen=True)
class EventQuery:
    """A NIP-01 filter, in the few shapes discovery needs."""

    kinds: tuple[int, ...]
    hashtag: str | None = None
    authors: tuple[str, ...] = ()


@dataclass
class FetchResult:
    events: list[NostrEvent]
    bad_signatures: int = 0
    unreachable: dict[str, str] = field(default_factory=dict)
    """relay URL -> why it could not be connected to"""


def _plain(event: object) -> NostrEvent:
    from nostr_sdk import Event

    assert isinstance(event, Event)
    return NostrEvent(
        id=event.id().to_hex(),
        pubkey=event.author().to_hex(),
        created_at=int(event.created_at().as_secs()),
        kind=int(event.kind().as_u16()),
        tags=tuple(tuple(tag.to_vec()) for tag in event.tags()),
        content=event.content(),
    )


async def _fetch(
    relays: list[str], queries: list[EventQuery], timeout: datetime.timedelta
) -> FetchResult:
    from nostr_sdk import ClientBuilder, Filter, Kind, PublicKey, RelayUrl, ReqTarget

    filters = []
    for query in queries:
        selection = Filter().kinds([Kind(kind) for kind in query.kinds])
        if query.hashtag is not None:
            selection = selection.hashtag(query.hashtag)
        if query.authors:
            selection = selection.authors([PublicKey.parse(a) for a in query.authors])
        filters.append(selection)
    client = ClientBuilder().build()
    try:
        for relay in relays:
            await client.add_relay(RelayUrl.parse(relay))
        # try_connect returns once every relay connected or failed (or at the timeout)
        connected = await client.try_connect(timeout)
        unreachable = {str(url): str(why) for url, why in connected.failed.items()}
        answering = [url for url in connected.success]
        if not answering:
            shown = "; ".join(f"{url}: {why}" for url, why in sorted(unreachable.items()))
            raise RelayRefused(f"no relay answered ({shown})")
        # Ask only the relays that connected: a failed one would keep the request open
        # (the pool waits for its end-of-stored-events) until the timeout.
        target = ReqTarget.manual({url: filters for url in answering})
        events = await client.fetch_events(target, timeout=timeout)
    finally:
        await client.shutdown()
    result = FetchResult([], unreachable=unreachable)
    seen: set[str] = set()
    for event in events:
        if not event.verify():
            result.bad_signatures += 1
            continue
        plain = _plain(event)
        if plain.id not in seen:
            seen.add(plain.id)
            result.events.append(plain)
    return result


def fetch_events(
    relays: Iterable[str], queries: list[EventQuery], timeout: datetime.timedelta = DEFAULT_TIMEOUT
) -> FetchResult:
    """Every event any relay returns for ``queries``, signature-checked, without duplicates.

    Returns as soon as every relay answered or failed: a relay that refuses the
    connection costs nothing, one that does not complete it within ``timeout`` is listed
    in ``unreachable``, and one that connected but does not finish answering within
    ``timeout`` gives what it sent until then."""
    relays = list(relays)
    if not relays or not queries:
        return FetchResult([])
    try:
        return asyncio.run(_fetch(relays, queries, timeout))
    except RelayRefused:
        raise
    except Exception as error:  # nostr-sdk raises its own error types (bad URL, bad key)
        raise RelayRefused(f"relays: {error}") from None


def public_key_hex(text: str) -> str:
    """A Nostr public key given as npub… or hex, as 64 lowercase hex digits."""
    from nostr_sdk import PublicKey

    try:
        return str(PublicKey.parse(text).to_hex())
    except Exception:  # nostr-sdk's own error type
        raise RelayRefused(f"{text[:70]!r} is not a Nostr public key (npub… or 64 hex)") from None
