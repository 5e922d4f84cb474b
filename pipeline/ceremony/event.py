"""Signing events: new offline-role metadata waiting for the maintainers' signatures.

An event holds the unsigned (then partly signed) metadata of one offline role
— the next ``targets`` (a new catalog) or the next ``root`` (a rotation) — and
is bound to its content: the BLAKE3 of the canonical signed bytes is recorded
when the event is opened, and every later step recomputes it.  An event
expires (default 7 days after it was opened); signing an expired one is
refused, so nobody signs something stale.

Pure: everything takes and returns values; ``pipeline.ceremony.state`` reads
and writes them.

Public API:

- ``SigningEvent`` (``record`` + ``metadata`` + optional catalog bytes, and for
  the split layout the ``app-files`` role and the catalog deltas); what
  changed is never stored here: ``pipeline.ceremony.review`` computes it from
  the signed metadata every time it is shown;
- ``event_content_blake3(metadata, app_files)`` — what the record binds: the
  top-level metadata's signed bytes, and ``app-files``'s when the event has it;
- ``open_targets_event(...)`` (one flat targets role: events opened before the
  split, and tests), ``open_split_targets_event(...)``, ``open_root_event(...)``;
- ``check_intact(event)``, ``check_signable(event, now)``;
- ``required_roles(event, trusted_root) -> list[RoleQuorum]`` — whose
  signatures count: the targets role of the trusted root, or for a root
  event the root role of both the trusted root and the next root;
- ``event_status(event, trusted_root) -> EventStatus``;
- ``check_key_may_sign(event, key, trusted_root)``;
- ``app_files_signed(top_level, app_files)``;
- ``add_signature(event, key, trusted_root, now) -> SigningEvent`` — signs the
  top-level metadata and, while it has not met its delegation's threshold, the
  ``app-files`` role (an ``app-files`` kept from an earlier event is already
  signed and published: signing it again would change published bytes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from catalog.address import blake3_hex
from pipeline.publish.targets_layout import APP_FILES_ROLE
from signing.errors import TufError
from signing.keys import PublicKey, SigningKey, verify_signature
from signing.metadata import Metadata, Root, Targets
from signing.metadata_fields import format_expires, parse_expires
from signing.repository import add_signatures, add_target, target_file
from signing.threshold import verify_delegate

EventRole = Literal["targets", "root"]
DEFAULT_EVENT_LIFETIME = timedelta(days=7)


class CeremonyError(Exception):
    """A ceremony step was refused; the message says why and what to do."""


class EventAlteredError(CeremonyError):
    pass


class UnchangedCatalogError(CeremonyError):
    """The build's catalog is the last accepted one: there is nothing to sign."""


class EventExpiredError(CeremonyError):
    pass


class KeyNotInRoleError(CeremonyError):
    pass


@dataclass(frozen=True)
class EventRecord:
    """What ``event.json`` says: identity, lifetime and the content binding."""

    event_id: str
    role: EventRole
    version: int
    created: datetime
    expires: datetime
    signed_blake3: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "role": self.role,
            "version": self.version,
            "created": format_expires(self.created),
            "expires": format_expires(self.expires),
            "signed_blake3": self.signed_blake3,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventRecord:
        role = data["role"]
        if role not in ("targets", "root"):
            raise ValueError(f"unknown role {role!r}")
        return cls(
            event_id=str(data["event_id"]),
            role=role,
            version=int(data["version"]),
            created=parse_expires(str(data["created"]), "created"),
            expires=parse_expires(str(data["expires"]), "expires"),
            signed_blake3=str(data["signed_blake3"]),
        )


@dataclass(frozen=True)
class SigningEvent:
    record: EventRecord
    metadata: Metadata[Targets] | Metadata[Root]
    catalog: bytes | None = None
    app_files: Metadata[Targets] | None = None
    """The delegated ``app-files`` role (split layout); None for a flat or root event."""
    deltas: tuple[tuple[str, bytes], ...] = ()
    """``(target name, bytes)`` of the catalog deltas the top-level metadata signs."""

    @property
    def event_id(self) -> str:
        return self.record.event_id

    @property
    def content_blake3(self) -> str:
        return event_content_blake3(self.metadata, self.app_files)


def event_content_blake3(
    metadata: Metadata[Targets] | Metadata[Root], app_files: Metadata[Targets] | None
) -> str:
    """The BLAKE3 an event is bound to: its metadata, and ``app-files`` when it has one."""
    top = blake3_hex(metadata.signed_bytes)
    if app_files is None:
        return top
    return blake3_hex(f"{top} {blake3_hex(app_files.signed_bytes)}".encode())


@dataclass(frozen=True)
class RoleQuorum:
    """One threshold an event must meet: ``threshold`` of ``keys`` (by keyid)."""

    label: str
    keys: dict[str, PublicKey]
    threshold: int


@dataclass(frozen=True)
class QuorumStatus:
    quorum: RoleQuorum
    signed_by: tuple[str, ...]

    @property
    def met(self) -> bool:
        return len(self.signed_by) >= self.quorum.threshold

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(k for k in self.quorum.keys if k not in self.signed_by)


@dataclass(frozen=True)
class EventStatus:
    event: SigningEvent
    quorums: tuple[QuorumStatus, ...]
    foreign_signatures: tuple[str, ...]
    """keyids that signed but count for no required role (ignored)."""

    @property
    def threshold_met(self) -> bool:
        return all(q.met for q in self.quorums)


def _event_id(role: EventRole, version: int, signed_blake3: str) -> str:
    return f"{role}-v{version}-{signed_blake3[:12]}"


def _new_event(
    role: EventRole,
    metadata: Metadata[Targets] | Metadata[Root],
    now: datetime,
    lifetime: timedelta,
    catalog: bytes | None = None,
    app_files: Metadata[Targets] | None = None,
    deltas: tuple[tuple[str, bytes], ...] = (),
) -> SigningEvent:
    digest = event_content_blake3(metadata, app_files)
    version = metadata.signed.version
    created = now.replace(microsecond=0)
    record = EventRecord(
        _event_id(role, version, digest), role, version, created, created + lifetime, digest
    )
    return SigningEvent(record, metadata, catalog, app_files, deltas)


def open_targets_event(
    version: int,
    expires: datetime,
    artifacts: Sequence[tuple[str, bytes]],
    now: datetime,
    catalog: bytes | None = None,
    lifetime: timedelta = DEFAULT_EVENT_LIFETIME,
) -> SigningEvent:
    """An event for targets ``version`` listing every ``(target name, bytes)`` by BLAKE3."""
    targets = Targets(version, expires)
    for name, data in sorted(artifacts):
        targets = add_target(targets, target_file(name, data))
    return _new_event("targets", Metadata.unsigned(targets), now, lifetime, catalog)


def open_split_targets_event(
    top_level: Targets,
    app_files: Metadata[Targets],
    deltas: Sequence[tuple[str, bytes]],
    now: datetime,
    catalog: bytes,
    lifetime: timedelta = DEFAULT_EVENT_LIFETIME,
) -> SigningEvent:
    """An event for the split layout (:mod:`pipeline.publish.targets_layout`).

    ``top_level`` names the catalog, its deltas and node binaries and delegates
    to ``app_files`` — unsigned when it is new, or the signed role of an earlier
    event kept as it is.
    """
    return _new_event(
        "targets",
        Metadata.unsigned(top_level),
        now,
        lifetime,
        catalog,
        app_files,
        tuple(sorted(deltas)),
    )


def open_root_event(
    next_root: Root, now: datetime, lifetime: timedelta = DEFAULT_EVENT_LIFETIME
) -> SigningEvent:
    return _new_event("root", Metadata.unsigned(next_root), now, lifetime)


def check_intact(event: SigningEvent) -> None:
    """Refuse an event whose metadata no longer matches what was opened."""
    actual = event.content_blake3
    record = event.record
    if (
        actual != record.signed_blake3
        or event.metadata.signed.version != record.version
        or event.metadata.signed.type != record.role
    ):
        raise EventAlteredError(
            f"event {record.event_id} was altered after it was opened "
            f"(its content hashes to {actual[:12]}…, not {record.signed_blake3[:12]}…); "
            "open a new event"
        )


def check_signable(event: SigningEvent, now: datetime) -> None:
    check_intact(event)
    if now >= event.record.expires:
        raise EventExpiredError(
            f"event {event.event_id} expired at {format_expires(event.record.expires)}; "
            "open a new event"
        )


def check_still_pending(event: SigningEvent, trusted_root: Root) -> None:
    """Refuse to sign a root event the trusted chain already holds (or went past)."""
    if event.record.role == "root" and event.record.version <= trusted_root.version:
        raise CeremonyError(
            f"event {event.event_id} (root v{event.record.version}) is already in effect: the "
            f"trusted root is v{trusted_root.version}; nothing was signed"
        )


def required_roles(event: SigningEvent, trusted_root: Root) -> list[RoleQuorum]:
    """The thresholds ``event`` must meet under ``trusted_root``."""

    def quorum(label: str, root: Root, role_name: str) -> RoleQuorum:
        role = root.roles[role_name]
        return RoleQuorum(label, {k: root.keys[k] for k in role.keyids}, role.threshold)

    if event.record.role == "targets":
        return [quorum("targets", trusted_root, "targets")]
    next_root = event.metadata.signed
    assert isinstance(next_root, Root)
    return [
        quorum(f"root v{trusted_root.version} (current)", trusted_root, "root"),
        quorum(f"root v{next_root.version} (next)", next_root, "root"),
    ]


def event_status(event: SigningEvent, trusted_root: Root) -> EventStatus:
    """Who signed, for which threshold; signatures that count for nothing are listed apart."""
    quorums = required_roles(event, trusted_root)
    valid = {
        signature.keyid
        for signature in event.metadata.signatures
        for q in quorums
        if signature.keyid in q.keys
        and verify_signature(q.keys[signature.keyid], signature, event.metadata.signed_bytes)
    }
    statuses = tuple(QuorumStatus(q, tuple(k for k in q.keys if k in valid)) for q in quorums)
    foreign = tuple(s.keyid for s in event.metadata.signatures if s.keyid not in valid)
    return EventStatus(event, statuses, foreign)


def check_key_may_sign(event: SigningEvent, key: SigningKey, trusted_root: Root) -> None:
    """Refuse ``key`` unless its signature counts toward one of ``event``'s thresholds."""
    quorums = required_roles(event, trusted_root)
    if not any(key.keyid in q.keys for q in quorums):
        roles = ", ".join(q.label for q in quorums)
        raise KeyNotInRoleError(
            f"key {key.keyid[:16]}… is not a key of {roles}; it cannot sign event {event.event_id}"
        )


def add_signature(
    event: SigningEvent, key: SigningKey, trusted_root: Root, now: datetime
) -> SigningEvent:
    """``event`` with ``key``'s signature; refused if altered, expired or not a role key."""
    check_signable(event, now)
    check_key_may_sign(event, key, trusted_root)
    metadata: Metadata[Targets] | Metadata[Root]
    if isinstance(event.metadata.signed, Targets):
        metadata = add_signatures(event.metadata, [key])
        app_files = event.app_files
        if app_files is not None and not app_files_signed(event.metadata.signed, app_files):
            app_files = add_signatures(app_files, [key])
        return dataclasses.replace(event, metadata=metadata, app_files=app_files)
    metadata = add_signatures(event.metadata, [key])
    return dataclasses.replace(event, metadata=metadata)


def app_files_signed(top_level: Targets, app_files: Metadata[Targets]) -> bool:
    """Whether ``app_files`` meets the threshold ``top_level``'s delegation gives it."""
    try:
        verify_delegate(top_level, APP_FILES_ROLE, app_files)
    except TufError:
        return False
    return True
