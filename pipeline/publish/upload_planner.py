"""Planning the upload of a built repository to an origin: every check, no write.

A publish of a repository tree (``archy publish-s3``, :func:`read_repository_dir`)
is planned first — every refusal happens here, before the first write — and
then executed by :mod:`pipeline.publish.upload_executor` in the plan's order,
which is the publish order of :mod:`pipeline.publish.layout`:

    marker → targets → targets metadata → snapshot → roots → timestamp → storefront

The plan, against any :class:`pipeline.publish.origin.Origin` (a directory or an
S3 prefix):

- claims an empty origin with the marker first, and refuses one that is not ours;
- skips every file the origin already holds with the same length and BLAKE3
  (or, when the origin records no BLAKE3, the same bytes);
- refuses an immutable file the origin holds with other bytes
  (``PublishConflictError``: published files are never overwritten);
- refuses a timestamp whose version is not above the origin's (versions never go
  backwards), and skips one identical to the origin's.

Public API: ``read_repository_dir(directory)``, ``plan_publish(origin, files) ->
PublishPlan``, ``PublishPlan``, ``PlannedUpload``; ``same_content`` and
``already_published`` (shared with the executor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog.address import blake3_hex
from pipeline.publish.layout import (
    MARKER_BYTES,
    MARKER_PATH,
    TIMESTAMP_PATH,
    is_mutable,
    is_plain_relative,
    publish_order,
)
from pipeline.publish.origin import (
    MAX_TIMESTAMP_BYTES,
    Origin,
    PublishConflictError,
    PublishError,
    StoredObject,
)
from signing.errors import TufError
from signing.metadata import Metadata, Timestamp


@dataclass(frozen=True)
class PlannedUpload:
    path: str
    data: bytes
    reason: str  # "new" or "changed"

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class PublishPlan:
    destination: str
    uploads: list[PlannedUpload] = field(default_factory=list)  # in publish order
    skipped: list[str] = field(default_factory=list)
    origin_timestamp_version: int | None = None
    new_timestamp_version: int = 0

    @property
    def upload_bytes(self) -> int:
        return sum(upload.size for upload in self.uploads)


def read_repository_dir(directory: Path) -> dict[str, bytes]:
    """The files of a repository tree on disk, by relative path (what a publish uploads)."""
    if not (directory / TIMESTAMP_PATH).is_file():
        raise PublishError(f"{directory}: no {TIMESTAMP_PATH}: not a built repository")
    files = {}
    try:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.name.startswith(".tmp-"):
                relative = path.relative_to(directory).as_posix()
                if relative != MARKER_PATH:
                    files[relative] = path.read_bytes()
    except OSError as error:
        raise PublishError(str(error)) from None
    return files


def _check_relative_path(path: str) -> None:
    if not is_plain_relative(path):
        raise PublishError(f"{path!r}: repository paths must be relative, without '.' or '..'")
    if path == MARKER_PATH:
        raise PublishError(f"{path!r}: reserved for the origin's ownership marker")


def _timestamp_version(data: bytes, where: str) -> int:
    try:
        return Metadata.from_bytes(data, Timestamp).signed.version
    except TufError as error:
        raise PublishError(f"{where}: not valid timestamp metadata ({error})") from None


def same_content(origin: Origin, path: str, data: bytes, stored: StoredObject) -> bool:
    """Whether the origin's ``path`` (as ``stored`` describes it) holds exactly ``data``."""
    if stored.length != len(data):
        return False
    if stored.blake3 is not None:
        return stored.blake3 == blake3_hex(data)
    current = origin.read_with_etag(path, len(data))  # no recorded BLAKE3: compare bytes
    return current is not None and current[0] == data


def already_published(path: str, origin: Origin) -> PublishConflictError:
    return PublishConflictError(
        f"{origin.describe(path)} already exists with other content (another publisher wrote "
        "this version?): published files are never overwritten; rebuild with higher versions "
        "and retry"
    )


def plan_publish(origin: Origin, files: Mapping[str, bytes]) -> PublishPlan:
    """Every check of a publish, with no write: what to upload, in order, and why."""
    if TIMESTAMP_PATH not in files:
        raise PublishError(f"nothing to publish: the repository has no {TIMESTAMP_PATH}")
    for path in files:
        _check_relative_path(path)
    new_version = _timestamp_version(files[TIMESTAMP_PATH], f"the repository's {TIMESTAMP_PATH}")
    plan = PublishPlan(origin.describe(), new_timestamp_version=new_version)
    if not origin.ensure_ours():
        plan.uploads.append(PlannedUpload(MARKER_PATH, MARKER_BYTES, "new"))
    current_timestamp = origin.read_with_etag(TIMESTAMP_PATH, MAX_TIMESTAMP_BYTES)
    timestamp_unchanged = False
    if current_timestamp is not None:
        current_data = current_timestamp[0]
        plan.origin_timestamp_version = _timestamp_version(
            current_data, origin.describe(TIMESTAMP_PATH)
        )
        timestamp_unchanged = current_data == files[TIMESTAMP_PATH]
        if not timestamp_unchanged and new_version <= plan.origin_timestamp_version:
            raise PublishConflictError(
                f"{origin.describe(TIMESTAMP_PATH)} is at version "
                f"{plan.origin_timestamp_version}; this publish has version {new_version}, and "
                "the timestamp version never goes backwards: rebuild on top of the origin and retry"
            )
    for path in publish_order(files):
        data = files[path]
        if path == TIMESTAMP_PATH:
            if timestamp_unchanged:
                plan.skipped.append(path)
            else:
                reason = "new" if current_timestamp is None else "changed"
                plan.uploads.append(PlannedUpload(path, data, reason))
            continue
        stored = origin.stat(path)
        if stored is None:
            plan.uploads.append(PlannedUpload(path, data, "new"))
        elif same_content(origin, path, data, stored):
            plan.skipped.append(path)
        elif is_mutable(path):
            plan.uploads.append(PlannedUpload(path, data, "changed"))
        else:
            raise already_published(path, origin)
    return plan
