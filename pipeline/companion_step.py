"""The build's companion step: build the companion images whose context changed, reuse the rest.

A ``:local`` override is never built; an unchanged context reuses the previous
catalog's entry unless a rebuild is asked for; images are built with the commit's
time as their timestamp, so the same commit gives the same image.  A dev build may
leave out the apps whose companion would have to be built (``companions=skip``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from catalog.catalog_model import (
    AppCatalog,
    Companion,
)
from catalog.loader import ManifestSource
from catalog.manifest import Manifest
from pipeline.build_types import BuildOptions, BuildProgress, BuildRefused
from pipeline.companions import (
    LOCAL_OVERRIDE_TAG,
    CompanionContext,
    CompanionError,
    build_companion,
    local_override,
    reusable,
)
from pipeline.gitsource import (
    Snapshot,
)


def companion_members_to_build(manifest: Manifest) -> list[str]:
    """The members whose image the build must build (a ``:local`` override is never built)."""
    return [
        member.name
        for member in manifest.containers
        if member.build is not None and member.image_tag != LOCAL_OVERRIDE_TAG
    ]


def without_companion_apps(
    sources: list[ManifestSource],
) -> tuple[list[ManifestSource], list[str], list[str]]:
    """(kept sources, left-out app ids, one warning per left-out app) for ``companions=skip``."""
    kept: list[ManifestSource] = []
    left_out: list[str] = []
    warnings: list[str] = []
    for source in sources:
        members = companion_members_to_build(source.manifest)
        if not members:
            kept.append(source)
            continue
        left_out.append(source.manifest.id)
        warnings.append(
            f"apps/{source.manifest.id}: left out of this dev build: companion image "
            f"{', '.join(members)} is not built (companions: skip)"
        )
    return kept, left_out, warnings


def build_companions(
    contexts: dict[str, list[CompanionContext]],
    previous: AppCatalog | None,
    options: BuildOptions,
    snapshot: Snapshot,
    staging: Path,
    progress: BuildProgress,
) -> tuple[dict[str, list[Companion]], list[str], list[str]]:
    """Build the companions whose context changed; reuse the others; never build :local."""
    result: dict[str, list[Companion]] = {}
    built: list[str] = []
    reused: list[str] = []
    total = sum(len(each) for each in contexts.values())
    if total:
        progress.start("Companion images", total)
    timestamp = _epoch(snapshot.committed_at)
    for app_id, app_contexts in sorted(contexts.items()):
        entries: list[Companion] = []
        old_entries = {}
        if previous is not None and app_id in previous.apps:
            old_entries = {each.member: each for each in previous.apps[app_id].companions}
        for context in app_contexts:
            old = old_entries.get(context.member)
            if context.local_override:
                entries.append(local_override(context))
            elif reusable(context, old) and not options.rebuild_companions and old is not None:
                entries.append(old)
                reused.append(context.member)
            else:
                if options.podman is None:
                    raise BuildRefused([f"{app_id}: companion {context.member} needs podman"])
                try:
                    entries.append(
                        build_companion(
                            context, options.podman, timestamp=timestamp, targets_dir=staging
                        )
                    )
                except CompanionError as error:
                    raise BuildRefused([str(error)]) from None
                built.append(context.member)
            progress.advance(context.member)
        result[app_id] = entries
    return result, built, reused


def _epoch(timestamp: str) -> int:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(moment.timestamp())
