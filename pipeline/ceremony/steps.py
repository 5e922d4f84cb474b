"""The ceremony's steps, as library calls the ``archy ceremony`` commands make.

- ``init_ceremony`` — root v1 with the root, targets and online keys and
  thresholds, signed by the root keys at hand;
- ``open_catalog_event`` — the next targets metadata for a build's outputs,
  unsigned, with the catalog diff against the last accepted catalog;
- ``sign_event`` — add one maintainer's signature (and, for a root event
  that now meets both thresholds, make it the trusted root);
- ``open_root_rotation`` — the next root (keys added or removed, thresholds,
  a fresh expiry), to be cross-signed by the old and the new root keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from catalog.catalog_model import CatalogError, parse_catalog
from pipeline.ceremony.catalog_diff import diff_catalogs, format_diff
from pipeline.ceremony.event import (
    CeremonyError,
    EventStatus,
    SigningEvent,
    add_signature,
    event_status,
    open_root_event,
    open_targets_event,
)
from pipeline.ceremony.state import CeremonyState
from pipeline.publish.artifacts import ArtifactError, read_build_outputs
from signing.keys import PublicKey, SigningKey
from signing.metadata import Metadata, Root, format_expires
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


def open_catalog_event(state: CeremonyState, dist_dir: Path, now: datetime) -> SigningEvent:
    """Open the signing event for the build in ``dist_dir`` and save it in ``state``."""
    settings = state.settings
    state.trusted_root()  # refuse early if the ceremony's roots do not verify
    try:
        outputs = read_build_outputs(dist_dir)
    except ArtifactError as error:
        raise CeremonyError(str(error)) from None
    accepted = state.latest_accepted_targets()
    previous = None
    if accepted is not None and accepted.catalog is not None:
        try:
            previous = parse_catalog(accepted.catalog)
        except CatalogError:
            previous = None  # an older catalog schema: show everything as new
    # Versions only grow: past the newest event, signed or not, so no two events share one.
    version = max(state.targets_event_versions(), default=0) + 1
    diff = format_diff(diff_catalogs(previous, outputs.catalog))
    event = open_targets_event(
        version,
        now.replace(microsecond=0) + settings.expiry("targets"),
        outputs.artifacts,
        diff,
        now,
        catalog=outputs.catalog_bytes,
        lifetime=settings.event_lifetime,
    )
    state.save_event(event)
    return event


def sign_event(state: CeremonyState, event_id: str, key: SigningKey, now: datetime) -> EventStatus:
    """Add ``key``'s signature to the event and save it; return the new status."""
    root = state.trusted_root()
    event = add_signature(state.load_event(event_id), key, root, now)
    state.save_event(event)
    status = event_status(event, root)
    if event.record.role == "root" and status.threshold_met:
        state.accept_root(event)
    return status


def describe_root_change(current: Root, next_root: Root) -> str:
    lines = [f"root v{current.version} -> v{next_root.version}"]
    for role_name, role in next_root.roles.items():
        before = current.roles[role_name]
        added = [k for k in role.keyids if k not in before.keyids]
        removed = [k for k in before.keyids if k not in role.keyids]
        lines += [f"  {role_name}: new key {k[:16]}…" for k in added]
        lines += [f"  {role_name}: dropped key {k[:16]}…" for k in removed]
        if role.threshold != before.threshold:
            lines.append(f"  {role_name}: threshold {before.threshold} -> {role.threshold}")
    lines.append(f"  expires {format_expires(next_root.expires)}")
    return "\n".join(lines) + "\n"


def open_root_rotation(
    state: CeremonyState,
    add_keys: Mapping[str, Sequence[PublicKey]],
    remove_keyids: Mapping[str, Sequence[str]],
    thresholds: Mapping[str, int],
    now: datetime,
) -> SigningEvent:
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
    event = open_root_event(
        next_root, describe_root_change(current, next_root), now, settings.event_lifetime
    )
    state.save_event(event)
    return event
