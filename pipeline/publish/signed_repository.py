"""Publish threshold-signed targets: sign snapshot and timestamp online, write in order.

``publish_targets`` checks everything before its first write — the targets
metadata meets its threshold under the newest trusted root and has not
expired, the online key is the root's snapshot and timestamp key, every
artifact matches the signed hashes, the origin holds no newer targets — then
signs a new snapshot and timestamp with the online key and writes the
repository in the publish order (``pipeline.publish.layout``).  Immutable
files already present with the same bytes are skipped; one with other bytes
stops the publish.  An interrupted publish leaves the old timestamp in place
(nodes keep seeing the old complete repository); running it again reuses what
was written, including the snapshot it had signed, and finishes.

``refresh_timestamp`` is the scheduled job: a new timestamp (and a new
snapshot when the current one would expire first) for what is published.

Public API: ``publish_targets(...) -> PublishReport``,
``refresh_timestamp(...) -> PublishReport``, ``read_origin_roots(origin)``,
``read_published_role(origin, role_name)``.  Refusals raise
:class:`pipeline.publish.origin.PublishError` (re-exported here for callers that
still import it from this module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.publish.layout import (
    TIMESTAMP_PATH,
    is_mutable,
    publish_order,
    root_path,
    snapshot_path,
    targets_metadata_path,
)
from pipeline.publish.origin import Origin, PublishError
from signing.errors import TufError
from signing.hashing import verify_length_and_hashes
from signing.keys import SigningKey
from signing.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
    is_expired,
)
from signing.metadata_fields import format_expires
from signing.repository import consistent_snapshot_files, sign, snapshot_for, timestamp_for
from signing.threshold import verify_delegate
from signing.trusted_set import TrustedSet


@dataclass
class PublishReport:
    destination: str
    targets_version: int
    snapshot_version: int
    timestamp_version: int
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    up_to_date: bool = False


@dataclass(frozen=True)
class OriginState:
    """What the origin serves now (versions are 0 when it is empty)."""

    timestamp_version: int
    snapshot_version: int
    targets_version: int
    snapshot: Metadata[Snapshot] | None


def _parse(data: bytes, role_type: type, where: str) -> Metadata:  # type: ignore[type-arg]
    try:
        return Metadata.from_bytes(data, role_type)
    except TufError as error:
        raise PublishError(f"{where}: not valid metadata ({error})") from None


def read_origin_state(origin: Origin) -> OriginState:
    data = origin.read(TIMESTAMP_PATH)
    if data is None:
        return OriginState(0, 0, 0, None)
    timestamp = _parse(data, Timestamp, origin.describe(TIMESTAMP_PATH)).signed
    snapshot_version = timestamp.snapshot_meta.version
    where = origin.describe(snapshot_path(snapshot_version))
    snapshot_data = origin.read(snapshot_path(snapshot_version))
    if snapshot_data is None:
        raise PublishError(f"{where}: missing, but the origin's timestamp names it")
    snapshot: Metadata[Snapshot] = _parse(snapshot_data, Snapshot, where)
    targets_meta = snapshot.signed.meta.get("targets.json")
    return OriginState(
        timestamp.version,
        snapshot_version,
        0 if targets_meta is None else targets_meta.version,
        snapshot,
    )


def read_published_role(origin: Origin, role_name: str) -> Metadata[Targets] | None:
    """The version of a targets role the origin's current snapshot names (None if none)."""
    state = read_origin_state(origin)
    meta = None if state.snapshot is None else state.snapshot.signed.meta.get(f"{role_name}.json")
    if meta is None:
        return None
    path = f"metadata/{meta.version}.{role_name}.json"
    data = origin.read(path)
    if data is None:
        raise PublishError(f"{origin.describe(path)}: missing, but the origin's snapshot names it")
    role: Metadata[Targets] = _parse(data, Targets, origin.describe(path))
    return role


def read_origin_roots(origin: Origin) -> list[Metadata[Root]]:
    """Every root the origin holds (1.root.json, 2.root.json, …), chain-verified."""
    roots: list[Metadata[Root]] = []
    trusted: TrustedSet | None = None
    while (data := origin.read(root_path(len(roots) + 1))) is not None:
        try:
            if trusted is None:
                trusted = TrustedSet(data)
            else:
                trusted.update_root(data)
        except TufError as error:
            raise PublishError(f"{origin.describe(root_path(len(roots) + 1))}: {error}") from None
        roots.append(Metadata.from_bytes(data, Root))
    if not roots:
        raise PublishError(f"{origin.describe()}: no metadata/1.root.json: nothing published yet")
    return roots


def _check_online_key(root: Root, online_key: SigningKey) -> None:
    for role_name in ("snapshot", "timestamp"):
        if online_key.keyid not in root.roles[role_name].keyids:
            raise PublishError(
                f"the online key {online_key.keyid[:16]}… is not the {role_name} key of "
                f"root v{root.version}"
            )


def _check_artifacts(
    targets: Targets, artifacts: Mapping[str, bytes]
) -> list[tuple[TargetFile, bytes]]:
    matched = []
    for name, info in sorted(targets.targets.items()):
        data = artifacts.get(name)
        if data is None:
            raise PublishError(f"target {name}: the build outputs do not have it")
        try:
            verify_length_and_hashes(data, info.length, info.hashes)
        except TufError:
            raise PublishError(
                f"target {name}: the build output differs from what was signed "
                "(rebuild the commit the signing event was opened for)"
            ) from None
        matched.append((info, data))
    return matched


def _reusable_snapshot(
    origin: Origin, version: int, root: Root, wanted: Mapping[str, MetaFile], now: datetime
) -> Metadata[Snapshot] | None:
    """A snapshot an interrupted publish left at ``version``, if it is the one we need."""
    data = origin.read(snapshot_path(version))
    if data is None:
        return None
    where = origin.describe(snapshot_path(version))
    snapshot: Metadata[Snapshot] = _parse(data, Snapshot, where)
    try:
        verify_delegate(root, "snapshot", snapshot)
    except TufError:
        snapshot = None  # type: ignore[assignment]
    if (
        snapshot is None
        or dict(snapshot.signed.meta) != dict(wanted)
        or is_expired(snapshot.signed, now)
    ):
        raise PublishError(
            f"{where} already exists with other content (another publisher?); published files "
            "are never overwritten"
        )
    return snapshot


def _write_in_order(
    origin: Origin,
    files: Mapping[str, bytes],
    report: PublishReport,
    on_file: Callable[[str], None],
) -> None:
    for path in publish_order(files):
        data = files[path]
        if is_mutable(path):
            if origin.read(path) == data:
                report.skipped.append(path)
                continue
            origin.replace(path, data)
            report.written.append(path)
        elif origin.create(path, data):
            report.written.append(path)
        elif origin.read(path) == data:
            report.skipped.append(path)
        else:
            raise PublishError(
                f"{origin.describe(path)} already exists with other content; published files "
                "are never overwritten"
            )
        on_file(path)


def publish_targets(
    origin: Origin,
    roots: Sequence[Metadata[Root]],
    targets: Metadata[Targets],
    artifacts: Mapping[str, bytes],
    online_key: SigningKey,
    now: datetime,
    snapshot_expiry: timedelta,
    timestamp_expiry: timedelta,
    on_file: Callable[[str], None] = lambda path: None,
    delegated: Mapping[str, Metadata[Targets]] | None = None,
) -> PublishReport:
    """Publish ``targets`` (already threshold-signed) with every root, in the safe order.

    ``delegated`` holds the roles ``targets`` delegates to (already signed,
    e.g. ``app-files`` of :mod:`pipeline.publish.targets_layout`); each must
    meet its delegation's threshold, and the artifacts they list are checked
    and published like the top-level ones.
    """
    root = roots[-1].signed
    version = targets.signed.version
    delegated = dict(delegated or {})
    try:
        verify_delegate(root, "targets", targets)
    except TufError as error:
        raise PublishError(
            f"targets v{version} has not met its threshold under root v{root.version} ({error}); "
            "collect more signatures with `archy ceremony sign`"
        ) from None
    if is_expired(targets.signed, now):
        raise PublishError(
            f"targets v{version} expired at {format_expires(targets.signed.expires)}; "
            "open and sign a new event"
        )
    _check_online_key(root, online_key)
    matched = _check_artifacts(targets.signed, artifacts)
    for role_name, role in sorted(delegated.items()):
        try:
            verify_delegate(targets.signed, role_name, role)
        except TufError as error:
            raise PublishError(
                f"{role_name} v{role.signed.version} is not signed as targets v{version} "
                f"delegates it ({error})"
            ) from None
        if is_expired(role.signed, now):
            raise PublishError(f"{role_name} v{role.signed.version} has expired")
        matched += _check_artifacts(role.signed, artifacts)
    state = read_origin_state(origin)
    if state.targets_version > version:
        raise PublishError(
            f"{origin.describe()} already serves targets v{state.targets_version}, newer than "
            f"v{version}: a publish never goes backwards"
        )
    published_targets = origin.read(targets_metadata_path(version))
    if published_targets is not None and published_targets != targets.to_bytes():
        raise PublishError(
            f"{origin.describe(targets_metadata_path(version))} already exists with other "
            "content; open a new signing event (it gets the next version)"
        )
    roots_present = all(origin.read(root_path(r.signed.version)) is not None for r in roots)
    now = now.replace(microsecond=0)
    if state.targets_version == version and roots_present:
        return PublishReport(
            origin.describe(),
            version,
            state.snapshot_version,
            state.timestamp_version,
            up_to_date=True,
        )
    roles = {"targets": targets, **delegated}
    wanted = {f"{name}.json": MetaFile(role.signed.version) for name, role in roles.items()}
    snapshot_version = state.snapshot_version + 1
    snapshot = _reusable_snapshot(origin, snapshot_version, root, wanted, now)
    if snapshot is None:
        snapshot = sign(
            snapshot_for(snapshot_version, now + snapshot_expiry, roles),
            [online_key],
        )
    timestamp = sign(
        timestamp_for(state.timestamp_version + 1, now + timestamp_expiry, snapshot), [online_key]
    )
    files = consistent_snapshot_files(roots, roles, snapshot, timestamp, matched)
    report = PublishReport(origin.describe(), version, snapshot_version, timestamp.signed.version)
    _write_in_order(origin, files, report, on_file)
    return report


def refresh_timestamp(
    origin: Origin,
    online_key: SigningKey,
    now: datetime,
    snapshot_expiry: timedelta,
    timestamp_expiry: timedelta,
) -> PublishReport:
    """Re-sign the timestamp (and the snapshot if it would expire before the new timestamp)."""
    roots = read_origin_roots(origin)
    root = roots[-1].signed
    _check_online_key(root, online_key)
    state = read_origin_state(origin)
    if state.snapshot is None:
        raise PublishError(f"{origin.describe()}: nothing published yet (no timestamp.json)")
    now = now.replace(microsecond=0)
    snapshot = state.snapshot
    snapshot_version = state.snapshot_version
    files: dict[str, bytes] = {}
    if snapshot.signed.expires <= now + timestamp_expiry:
        snapshot_version += 1
        snapshot = sign(
            Snapshot(snapshot_version, now + snapshot_expiry, dict(snapshot.signed.meta)),
            [online_key],
        )
        files[snapshot_path(snapshot_version)] = snapshot.to_bytes()
    timestamp = sign(
        timestamp_for(state.timestamp_version + 1, now + timestamp_expiry, snapshot), [online_key]
    )
    files[TIMESTAMP_PATH] = timestamp.to_bytes()
    report = PublishReport(
        origin.describe(), state.targets_version, snapshot_version, timestamp.signed.version
    )
    _write_in_order(origin, files, report, lambda path: None)
    return report
