"""What a signer is shown: computed from signed inputs every time, never read from a file.

A targets event is checked first (:mod:`pipeline.ceremony.event_check`: the
catalog is the one its metadata signs, every manifest passes the build's
checks, every unit re-renders byte for byte; for the split layout,
:mod:`pipeline.ceremony.layout_check`: the ``app-files`` delegation, and
every delta rebuilds the catalog from an accepted one); then its catalog is compared
with the catalog of the newest *accepted* targets event of a lower version
— itself checked against its own signed metadata.  A root event is compared
with the trusted root it follows, from the two documents.  Any check that
fails refuses the whole review, so nothing unchecked is ever shown.

Public API: ``EventReview`` (``lines``, ``text``), ``review_event(state, event)``,
``verify_event(state, event)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.catalog_model import CATALOG_NAME, AppCatalog
from pipeline.ceremony.catalog_diff import diff_catalogs
from pipeline.ceremony.event import CeremonyError, SigningEvent, app_files_signed, check_intact
from pipeline.ceremony.event_check import EventCheckError, signed_catalog, verify_targets_event
from pipeline.ceremony.layout_check import check_delta_bases
from pipeline.ceremony.root_diff import diff_roots
from pipeline.ceremony.state import CeremonyState
from pipeline.publish.targets_layout import APP_FILES_ROLE
from signing.metadata import Root, Targets
from signing.metadata_fields import format_expires


@dataclass(frozen=True)
class EventReview:
    event_id: str
    lines: tuple[str, ...]
    changed: bool = True  # False: a targets event whose catalog equals the last accepted one

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _apps(count: int) -> str:
    return f"{count} app passes" if count == 1 else f"{count} apps pass"


def _previous_root(state: CeremonyState, next_root: Root) -> Root:
    for metadata in state.roots():
        if metadata.signed.version == next_root.version - 1:
            return metadata.signed
    raise CeremonyError(
        f"the event proposes root v{next_root.version}, but the trusted chain has no "
        f"root v{next_root.version - 1} to compare it with"
    )


def _check_not_superseded(state: CeremonyState, event: SigningEvent) -> None:
    """Refuse an event a newer accepted one already replaced: it could only roll nodes back."""
    newest = state.latest_accepted_targets()
    if newest is None or newest.event_id == event.event_id:
        return
    if newest.record.version >= event.record.version:
        raise CeremonyError(
            f"event {event.event_id} signs targets v{event.record.version}, but targets "
            f"v{newest.record.version} (event {newest.event_id}) is already accepted; "
            "signing it could only roll nodes back"
        )


def _baseline(state: CeremonyState, targets: Targets) -> tuple[str, AppCatalog | None]:
    """(the line naming what the changes are against, that catalog or None)."""
    accepted = state.latest_accepted_targets(below_version=targets.version)
    if accepted is None:
        return "no catalog was accepted before: everything is new", None
    assert isinstance(accepted.metadata.signed, Targets)
    try:
        previous = signed_catalog(accepted.metadata.signed, accepted.catalog)
    except EventCheckError as error:
        raise CeremonyError(
            f"the last accepted catalog (event {accepted.event_id}) cannot be trusted: {error}"
        ) from None
    return (
        f"changes since targets v{accepted.record.version} (event {accepted.event_id}, accepted):",
        previous,
    )


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"


def _layout_lines(event: SigningEvent, targets: Targets) -> list[str]:
    """What the event signs besides the catalog: per-app files, deltas (derived from it)."""
    signed = targets.targets[CATALOG_NAME]
    head = (
        f"targets v{targets.version}, expires {format_expires(targets.expires)}: "
        f"{CATALOG_NAME} ({signed.length} bytes, blake3 {signed.hashes['blake3']})"
    )
    if event.app_files is None:
        return [f"{head} and {_files(len(targets.targets) - 1)} it names"]
    files = event.app_files.signed
    state = (
        "kept as published, already signed"
        if app_files_signed(targets, event.app_files)
        else "new, signed with targets"
    )
    others = len(targets.targets) - 1 - len(event.deltas)
    return [
        f"{head}, {_files(others)} it names at the top level",
        f"{APP_FILES_ROLE} v{files.version} ({state}), expires "
        f"{format_expires(files.expires)}: {_files(len(files.targets))} it names",
        f"derived: {len(event.deltas)} catalog delta{'' if len(event.deltas) == 1 else 's'} "
        "from earlier accepted catalogs, each rebuilding this catalog byte for byte",
    ]


def _review_targets(state: CeremonyState, event: SigningEvent, targets: Targets) -> EventReview:
    _check_not_superseded(state, event)
    catalog = verify_targets_event(
        targets, event.catalog, state.trusted_root(), event.app_files, event.deltas
    )
    if event.deltas:
        assert event.catalog is not None  # verify_targets_event refused a missing catalog
        check_delta_bases(
            event.deltas, event.catalog, state.accepted_catalogs(below_version=targets.version)
        )
    baseline, previous = _baseline(state, targets)
    changes = diff_catalogs(previous, catalog)
    lines = [
        *_layout_lines(event, targets),
        f"checked: {_apps(len(catalog.apps))} schema, policy and cross-app rules; "
        "every unit re-renders byte for byte",
        baseline,
        *(changes or ["no changes"]),
    ]
    return EventReview(event.event_id, tuple(lines), changed=bool(changes) or previous is None)


def review_event(state: CeremonyState, event: SigningEvent) -> EventReview:
    """Check ``event`` from its signed inputs and describe what signing it changes."""
    check_intact(event)
    signed = event.metadata.signed
    if isinstance(signed, Targets):
        return _review_targets(state, event, signed)
    return EventReview(event.event_id, tuple(diff_roots(_previous_root(state, signed), signed)))


def verify_event(state: CeremonyState, event: SigningEvent) -> None:
    """Every check of :func:`review_event`, for steps that show nothing (sign, publish)."""
    review_event(state, event)
