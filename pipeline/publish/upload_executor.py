"""Executing an upload plan (:mod:`pipeline.publish.upload_planner`) against an origin.

Uploads go in the plan's order (the publish order), one at a time, and the
executor stops at the first failure: everything before it is whole and
immutable, the origin's timestamp still names the old complete repository,
and running the same publish again skips what is there and finishes.

- immutable files are created, never overwritten; one that appeared since the
  plan is fine when it holds the same bytes, else ``PublishConflictError``;
- the timestamp is replaced (on S3: ``If-Match`` on the ETag the plan read, so
  a publisher that lost a race stops instead of overwriting);
- storefront files are overwritten unconditionally (no trust decision depends
  on them).

Public API: ``execute_plan(origin, plan, on_progress) -> PublishResult``,
``PublishResult``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.publish.layout import TIMESTAMP_PATH, is_mutable
from pipeline.publish.origin import Origin, no_progress
from pipeline.publish.upload_planner import PublishPlan, already_published, same_content


@dataclass(frozen=True)
class PublishResult:
    destination: str
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    bytes_uploaded: int
    timestamp_version: int


def execute_plan(
    origin: Origin,
    plan: PublishPlan,
    on_progress: Callable[[int], None] = no_progress,
) -> PublishResult:
    """Upload the plan in order; stop at the first failure (a re-run completes the job)."""
    uploaded: list[str] = []
    for upload in plan.uploads:
        if upload.path == TIMESTAMP_PATH:
            origin.replace(upload.path, upload.data)  # S3: If-Match on the ETag the plan read
            on_progress(upload.size)
        elif is_mutable(upload.path):
            origin.overwrite(upload.path, upload.data)
            on_progress(upload.size)
        elif not origin.create(upload.path, upload.data, on_progress):
            # Someone created it since the plan: fine if it holds the same bytes.
            stored = origin.stat(upload.path)
            if stored is None or not same_content(origin, upload.path, upload.data, stored):
                raise already_published(upload.path, origin)
        uploaded.append(upload.path)
    return PublishResult(
        plan.destination,
        tuple(uploaded),
        tuple(plan.skipped),
        plan.upload_bytes,
        plan.new_timestamp_version,
    )
