"""The ceremony's steps, as library calls the ``archy ceremony`` commands make.

- ``init_ceremony`` — root v1 with the root, targets and online keys and
  thresholds, signed by the root keys at hand;
- ``open_catalog_event`` — the next targets metadata for a build's outputs,
  in the split layout (the top-level role with the catalog deltas, and
  ``app-files``: :mod:`pipeline.publish.targets_layout`), unsigned, checked
  and reviewed (:mod:`pipeline.ceremony.review`) before it is saved;
- ``sign_event`` — check the event again and add one maintainer's signature
  (and, for a root event that now meets both thresholds, make it the
  trusted root);
- ``open_root_rotation`` — the next root (keys added or removed, thresholds,
  a fresh expiry), to be cross-signed by the old and the new root keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from pipeline.ceremony.event import (
    CeremonyError,
    EventStatus,
    SigningEvent,
    UnchangedCatalogError,
    add_signature,
    app_files_signed,
    check_key_may_sign,
    check_signable,
    check_still_pending,
    event_status,
    open_root_event,
    open_split_targets_event,
)
from pipeline.ceremony.review import EventReview, review_event, verify_event
from pipeline.ceremony.state import CeremonyState
from pipeline.publish.artifacts import ArtifactError, BuildOutputs, read_build_outputs
from pipeline.publish.catalog_deltas import DEFAULT_KEEP, delta_artifacts
from pipeline.publish.targets_layout import split_targets
from signing.keys import PublicKey, SigningKey
from signing.metadata import Metadata, Root, Targets
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
    state.trusted_root()  # refuse early if the ceremony's roots do not verify
    try:
        outputs = read_build_outputs(dist_dir)
    except ArtifactError as error:
        raise CeremonyError(str(error)) from None
    # Versions only grow: past the newest event, signed or not, so no two events share one.
    version = max(state.targets_event_versions(), default=0) + 1
    event = _split_event(state, outputs, version, now, renew)
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


def _split_event(
    state: CeremonyState, outputs: BuildOutputs, version: int, now: datetime, renew: bool
) -> SigningEvent:
    """The event for the split layout: top-level targets with the deltas, and ``app-files``.

    The deltas start from the catalogs of the last ``DEFAULT_KEEP`` accepted
    events (what the origin published).  ``app-files`` is the last accepted
    event's when it lists the same files, still verifies under the trusted
    root's targets keys and does not expire within half a targets period (a
    whole one with ``renew``); otherwise a new version, signed with targets.
    """
    settings = state.settings
    root = state.trusted_root()
    role = root.roles["targets"]
    expires = now.replace(microsecond=0) + settings.expiry("targets")
    bases = state.accepted_catalogs(below_version=version, keep=DEFAULT_KEEP)
    deltas = delta_artifacts(list(bases.values()), outputs.catalog_bytes)
    accepted = state.latest_accepted_targets(below_version=version)
    kept = None if accepted is None else accepted.app_files
    margin = settings.expiry("targets") if renew else settings.expiry("targets") / 2
    split = split_targets(
        {**dict(outputs.artifacts), **deltas},
        version,
        expires,
        [root.keys[keyid] for keyid in role.keyids],
        role.threshold,
        None if kept is None else kept.signed,
        renew_before=now + margin,
    )
    app_files: Metadata[Targets]
    if kept is not None and not split.app_files_changed and app_files_signed(split.top_level, kept):
        app_files = kept
    else:
        next_version = max(state.app_files_versions(), default=0) + 1
        app_files = Metadata.unsigned(dataclasses.replace(split.app_files, version=next_version))
    return open_split_targets_event(
        split.top_level,
        app_files,
        sorted(deltas.items()),
        now,
        outputs.catalog_bytes,
        settings.event_lifetime,
    )


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
    if reviewed_blake3 is not None and event.content_blake3 != reviewed_blake3:
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
