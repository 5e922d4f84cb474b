"""Publish a signing event of the ceremony: the bridge from ``ceremony/`` to an origin.

``publish_signing_event`` re-checks the event (intact since it was opened, a
targets event), takes the ceremony's verified root chain, and checks the
catalog it is about to upload from ``dist_dir`` as the ceremony does: the
bytes the targets metadata signs, the files the metadata lists, every
embedded manifest through the build's checks and every unit re-rendered
byte for byte (:mod:`pipeline.ceremony.event_check`).  Then
``publish_targets`` matches every artifact against the signed hashes and
writes (for the split layout, with the event's ``app-files`` role and its
catalog deltas).  Nothing is written when any check fails.

It lives in the ceremony, above :mod:`pipeline.publish`: publishing takes
signed metadata and bytes and knows nothing of signing events.

Public API: ``publish_signing_event(state, event_id, dist_dir, origin, online_key,
now, on_file) -> PublishReport``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipeline.ceremony.event import CeremonyError, check_intact
from pipeline.ceremony.event_check import verify_targets_event
from pipeline.ceremony.state import CeremonyState
from pipeline.publish.artifacts import ArtifactError, read_build_outputs
from pipeline.publish.origin import Origin, PublishError
from pipeline.publish.signed_repository import PublishReport, publish_targets
from pipeline.publish.targets_layout import APP_FILES_ROLE
from signing.keys import SigningKey
from signing.metadata import Targets


def publish_signing_event(
    state: CeremonyState,
    event_id: str | None,
    dist_dir: Path,
    origin: Origin,
    online_key: SigningKey,
    now: datetime,
    on_file: Callable[[str], None] = lambda path: None,
) -> PublishReport:
    try:
        event = state.load_event(event_id or state.latest_event_id("targets"))
        check_intact(event)
        roots = state.roots()
        settings = state.settings
    except CeremonyError as error:
        raise PublishError(str(error)) from None
    if not isinstance(event.metadata.signed, Targets):
        raise PublishError(f"event {event.event_id} is a root event; publish a targets event")
    try:
        outputs = read_build_outputs(dist_dir)
    except ArtifactError as error:
        raise PublishError(str(error)) from None
    try:
        verify_targets_event(
            event.metadata.signed,
            outputs.catalog_bytes,
            roots[-1].signed,
            event.app_files,
            event.deltas,
        )
    except CeremonyError as error:
        raise PublishError(f"{dist_dir}: {error}") from None
    artifacts = {**dict(outputs.artifacts), **dict(event.deltas)}
    delegated = {} if event.app_files is None else {APP_FILES_ROLE: event.app_files}
    return publish_targets(
        origin,
        roots,
        event.metadata,
        artifacts,
        online_key,
        now,
        settings.expiry("snapshot"),
        settings.expiry("timestamp"),
        on_file,
        delegated,
    )
