"""The ceremony's steps, as library calls the ``archy ceremony`` commands make.

- ``init_ceremony`` — root v1 with the root, targets and online keys and
  thresholds, signed by the root keys at hand;
- ``open_catalog_event`` — the next targets metadata for a build's outputs,
  unsigned, checked and reviewed (:mod:`pipeline.ceremony.review`) before it
  is saved;
- ``sign_event`` — check the event again and add one maintainer's signature
  (and, for a root event that now meets both thresholds, make it the
  trusted root);
- ``open_root_rotation`` — the next root (keys added or removed, thresholds,
  a fresh expiry), to be cross-signed by the old and the new root keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from catalog.address import blake3_hex
from pipeline.ceremony.event import (
    CeremonyError,
    EventStatus,
    SigningEvent,
    UnchangedCatalogError,
    add_signature,
    check_key_may_sign,
    check_signable,
    check_still_pending,
    event_status,
    open_root_event,
    open_targets_event,
)
from pipeline.ceremony.review import EventReview, review_event, verify_event
from pipeline.ceremony.state import CeremonyState
from pipeline.publish.artifacts import ArtifactError, read_build_outputs
from signing.keys import PublicKey, SigningKey
from signing.metadata import Metadata, Root
from signing.repository import add_key, bump, remove_key, set_threshold


def init_ceremony(
    state: CeremonyState,
    role_keys: Mapping[str, Sequence[PublicKey]],
    thresholds: Mapping[str, int],
    root_signing_keys: Sequence[SigningKey],
    now: datetime,
    expiry_days: Mapping[str, int] | None = None,
) -> Metadata[Root]:
    """``role_keys`` names root, targets and the online keys (snapshot, timestamp)."""
    return state.initialise(role_keys, thresholds, root_signing_keys, now, expiry_days)


def open_catalog_event(
    state: CeremonyState, dist_dir: Path, now: datetime, renew: bool = False
) -> tuple[SigningEvent, EventReview]:
    """Open the signing event for the build in ``dist_dir``, check it, and save it in ``state``.

    Nothing is written unless every check of :func:`review_event` passes, and
    unless the catalog changed since the last accepted one (``renew``: open it
    anyway, to sign the same catalog again before targets expires).
    """
    settings = state.settings
    state.trusted_root()  # refuse early if the ceremony's roots do not verify
    try:
        outputs = read_build_outputs(dist_dir)
    except ArtifactError as error:
        raise CeremonyError(str(error)) from None
    # Versions only grow: past the newest event, signed or not, so no two events share one.
    version = max(state.targets_event_versions(), default=0) + 1
    event = open_targets_event(
        version,
        now.replace(microsecond=0) + settings.expiry("targets"),
        outputs.artifacts,
        now,
        catalog=outputs.catalog_bytes,
        lifetime=settings.event_lifetime,
    )
    review = review_event(state, event)
    if not review.changed and not renew:
        accepted = state.latest_accepted_targets(below_version=version)
        since = "" if accepted is None else f" (targets v{accepted.record.version})"
        raise UnchangedCatalogError(
            f"nothing changed since the last accepted catalog{since}; no event was opened "
            "(to sign the same catalog again before it expires, pass --renew)"
        )
    state.save_event(event, _informational_copy(review))
    return event, review


def _informational_copy(review: EventReview) -> str:
    return (
        "# What changed when this event was opened: a copy for people, never read back.\n"
        "# `archy ceremony sign` recomputes and shows it from the signed metadata.\n" + review.text
    )


def sign_event(
    state: CeremonyState,
    event_id: str,
    key: SigningKey,
    now: datetime,
    reviewed_blake3: str | None = None,
) -> EventStatus:
    """Check the event again, add ``key``'s signature and save it; return the new status.

    ``reviewed_blake3`` is the content the signer was shown: if the event holds
    anything else by now, nothing is signed.
    """
    root = state.trusted_root()
    event = state.load_event(event_id)
    if reviewed_blake3 is not None and blake3_hex(event.metadata.signed_bytes) != reviewed_blake3:
        raise CeremonyError(
            f"event {event_id} changed while you were reviewing it; nothing was signed"
        )
    check_signable(event, now)
    check_still_pending(event, root)
    check_key_may_sign(event, key, root)
    verify_event(state, event)
    event = add_signature(event, key, root, now)
    state.save_event(event)
    status = event_status(event, root)
    if event.record.role == "root" and status.threshold_met:
        state.accept_root(event)
    return status


def open_root_rotation(
    state: CeremonyState,
    add_keys: Mapping[str, Sequence[PublicKey]],
    remove_keyids: Mapping[str, Sequence[str]],
    thresholds: Mapping[str, int],
    now: datetime,
) -> tuple[SigningEvent, EventReview]:
    """Open the event for the next root: keys added, then removed, then thresholds set."""
    current = state.trusted_root()
    settings = state.settings
    next_root = bump(current, now.replace(microsecond=0) + settings.expiry("root"))
    try:
        for role_name, keys in add_keys.items():
            for key in keys:
                next_root = add_key(next_root, role_name, key)
        for role_name, keyids in remove_keyids.items():
            for keyid in keyids:
                full = [k for k in next_root.roles[role_name].keyids if k.startswith(keyid)]
                if len(full) != 1:
                    raise ValueError(f"{keyid!r} names no single key of {role_name}")
                next_root = remove_key(next_root, role_name, full[0])
        for role_name, threshold in thresholds.items():
            next_root = set_threshold(next_root, role_name, threshold)
    except (ValueError, KeyError) as error:
        raise CeremonyError(f"cannot rotate root: {error}") from None
    event = open_root_event(next_root, now, settings.event_lifetime)
    review = review_event(state, event)
    state.save_event(event, _informational_copy(review))
    return event, review
