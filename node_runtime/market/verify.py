"""Check an announcement against the registry it names, before anything is shown.

An announcement (a kind 30078 event from an untrusted relay) claims: a registry's
origin(s), the fingerprint of its root, its catalog's BLAKE3, an app's version, the
developer's did:key and that did:key's binding to the event's Nostr key.  Each claim
is checked, in this order, and the first that fails refuses the listing with one line:

1. the event's form: kind 30078, ``d`` tag = the content's registry/app, content schema;
2. the binding: the did:key signed "this event's pubkey announces for me";
3. the root: fetched from the origin (``metadata/N.root.json``), its BLAKE3 must equal
   the announced fingerprint; it becomes the trust anchor of a fresh TUF client;
4. the catalog: the TUF client (node_runtime.fetch.tuf_client) refreshes timestamp ->
   snapshot -> targets and downloads ``app-catalog.json``, hash-checked;
5. the catalog's BLAKE3 equals the announced one (else the announcement is stale or
   forged), the app is in it at the announced version and revision, its entry carries a
   valid did:key signature over its manifest, by the announced did:key.

Registries are verified once per (origins, root pin) and cached for the run.  With a
``trust_dir`` (the node's ``<state root>/market/registries/``), each registry's TUF
metadata is kept between runs, per (origin, root fingerprint): the next run starts from
the newest root, timestamp and snapshot it trusted, so an origin (or a mirror in its
place) serving older signed metadata is refused as a rollback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from catalog.address import blake3_hex
from catalog.announcement import (
    ANNOUNCEMENT_HASHTAG,
    APP_DATA_KIND,
    AnnouncementError,
    AppAnnouncement,
    RootPin,
    parse_announcement,
)
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogApp, CatalogError, parse_catalog
from catalog.refusal import Refused
from node_runtime.fetch.fetcher import Fetcher
from node_runtime.fetch.http import fetcher_for
from node_runtime.fetch.tuf_client import Updater
from node_runtime.market.relays import NostrEvent
from node_runtime.store.atomic_file import write_file_atomically
from signing.developer import binding_problem, verify_developer_signature
from signing.errors import TufError

ROOT_MAX_LENGTH = 512_000


class AnnouncementRefused(Refused):
    """The announcement does not hold; the message says which claim failed."""


@dataclass(frozen=True)
class VerifiedRegistry:
    origin: str
    root: RootPin
    catalog_blake3: str
    catalog: AppCatalog


@dataclass(frozen=True)
class Listing:
    """An app whose announcement held in every claim."""

    event: NostrEvent
    announcement: AppAnnouncement
    app: CatalogApp
    registry: VerifiedRegistry


def is_announcement(event: NostrEvent) -> bool:
    return event.kind == APP_DATA_KIND and ANNOUNCEMENT_HASHTAG in event.tag_values("t")


def newest_per_address(events: Iterable[NostrEvent]) -> list[NostrEvent]:
    """NIP-01 replaceable semantics: per (pubkey, d tag) only the newest event counts
    (ties: the lowest id).  A relay that serves an older one does not win over one that
    serves the newer."""
    newest: dict[tuple[str, str], NostrEvent] = {}
    for event in events:
        address = (event.pubkey, event.tag("d") or "")
        current = newest.get(address)
        if current is None or (-event.created_at, event.id) < (-current.created_at, current.id):
            newest[address] = event
    return [newest[key] for key in sorted(newest)]


def announcement_of(event: NostrEvent) -> AppAnnouncement:
    """Steps 1 and 2: the event's form and the did:key <-> Nostr key binding."""
    if event.kind != APP_DATA_KIND:
        raise AnnouncementRefused(f"event {event.id[:12]}: kind {event.kind}, not {APP_DATA_KIND}")
    try:
        announcement = parse_announcement(event.content)
    except AnnouncementError as error:
        raise AnnouncementRefused(f"event {event.id[:12]}: {error}") from None
    if event.tag("d") != announcement.d_tag():
        raise AnnouncementRefused(
            f"event {event.id[:12]}: d tag {event.tag('d')!r} does not name "
            f"{announcement.d_tag()!r}"
        )
    problem = binding_problem(announcement.did, event.pubkey, announcement.binding)
    if problem is not None:
        raise AnnouncementRefused(f"{announcement.d_tag()}: {problem}")
    return announcement


@dataclass
class RegistryVerifier:
    """Steps 3 and 4, with a cache: each announced registry is fetched and verified once."""

    work_dir: Path
    allow_file_origins: bool = False
    reference_time: datetime | None = None
    transport: Callable[[str], Fetcher] = fetcher_for
    trust_dir: Path | None = None
    """Where each registry's trusted TUF metadata is kept between runs (None: not kept)."""
    _cache: dict[tuple[tuple[str, ...], RootPin], VerifiedRegistry | AnnouncementRefused] = field(
        default_factory=dict
    )

    def verify(self, announcement: AppAnnouncement) -> VerifiedRegistry:
        key = (tuple(announcement.origins), announcement.root)
        if key not in self._cache:
            self._cache[key] = self._verify_any_origin(announcement)
        outcome = self._cache[key]
        if isinstance(outcome, AnnouncementRefused):
            raise AnnouncementRefused(f"{announcement.d_tag()}: {outcome.message}")
        return outcome

    def _verify_any_origin(
        self, announcement: AppAnnouncement
    ) -> VerifiedRegistry | AnnouncementRefused:
        problems = []
        for origin in announcement.origins:
            try:
                return self._verify_origin(origin.rstrip("/"), announcement.root)
            except AnnouncementRefused as refusal:
                problems.append(refusal.message)
        return AnnouncementRefused("; ".join(problems))

    def _verify_origin(self, origin: str, pin: RootPin) -> VerifiedRegistry:
        scheme = urlsplit(origin).scheme
        if scheme == "file" and not self.allow_file_origins:
            raise AnnouncementRefused(f"{origin}: file:// origins are refused (local files)")
        fetcher = self.transport(origin)
        root_url = f"{origin}/metadata/{pin.version}.root.json"
        try:
            root_bytes = fetcher.download_bytes(root_url, ROOT_MAX_LENGTH)
        except TufError as error:
            raise AnnouncementRefused(f"{root_url}: cannot fetch the root ({error})") from None
        actual = blake3_hex(root_bytes)
        if actual != pin.blake3:
            raise AnnouncementRefused(
                f"{root_url}: root fingerprint is {actual}, the announcement says {pin.blake3}"
            )
        name = hashlib.sha256(f"{origin}\n{actual}".encode()).hexdigest()[:24]
        metadata = (self.trust_dir or self.work_dir) / name / "metadata"
        metadata.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.trust_dir is None or not (metadata / "root.json").is_file():
            write_file_atomically(metadata / "root.json", root_bytes)
        try:
            updater = Updater(
                metadata,
                f"{origin}/metadata/",
                self.work_dir / name / "targets",
                f"{origin}/targets/",
                fetcher=fetcher,
                reference_time=self.reference_time,
            )
            updater.refresh()
            info = updater.get_targetinfo(CATALOG_NAME)
            if info is None:
                raise AnnouncementRefused(f"{origin}: the registry signs no {CATALOG_NAME}")
            catalog_bytes = updater.download_target(info).read_bytes()
        except TufError as error:
            raise AnnouncementRefused(f"{origin}: the registry does not verify ({error})") from None
        try:
            catalog = parse_catalog(catalog_bytes)
        except CatalogError as error:
            raise AnnouncementRefused(f"{origin}: {CATALOG_NAME}: {error}") from None
        return VerifiedRegistry(origin, pin, blake3_hex(catalog_bytes), catalog)


def listing_of(
    event: NostrEvent, announcement: AppAnnouncement, registry: VerifiedRegistry
) -> Listing:
    """Step 5: the announced catalog, app, version and developer signature."""
    where = announcement.d_tag()
    if registry.catalog_blake3 != announcement.catalog_blake3:
        raise AnnouncementRefused(
            f"{where}: announces catalog {announcement.catalog_blake3[:16]}…, the registry's "
            f"signed catalog is {registry.catalog_blake3[:16]}… (stale or forged)"
        )
    app = registry.catalog.apps.get(announcement.app)
    if app is None:
        raise AnnouncementRefused(f"{where}: the registry's catalog has no app {announcement.app}")
    if (app.version, app.revision) != (announcement.version, announcement.revision):
        raise AnnouncementRefused(
            f"{where}: announces {announcement.version}-r{announcement.revision}, the catalog "
            f"holds {app.version}-r{app.revision}"
        )
    problem = verify_developer_signature(app)
    if problem is not None:
        raise AnnouncementRefused(f"{where}: {problem}")
    assert app.developer is not None
    if app.developer.did != announcement.did:
        raise AnnouncementRefused(
            f"{where}: the entry is signed by {app.developer.did}, the announcement names "
            f"{announcement.did}"
        )
    return Listing(event, announcement, app, registry)
