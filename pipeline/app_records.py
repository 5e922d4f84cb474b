"""One cache entry per unchanged app: everything the build derives from it after the checks.

Between two builds most apps do not change, and each step of the build
(pinning images, staging the icon, rendering units, encoding the catalog entry,
summarising it for the next build) used to look up its own cache entry for
each of them.  An :class:`AppRecord` holds all of those results at once, keyed
by every input they are computed from:

* the manifest, by its cache key (file name, app id, git blob id: the bytes);
* the icon, by its path and git blob id;
* the ``images.lock.json`` entry of each member's image (or its absence);
* whether digests are required and whether this is a dev build;
* the code (every cache key holds the code fingerprint).

An app is recorded only when the build has nothing to say about it but image
warnings: no companion build context, no icon problem, no image error, the
default renderer and no developer signature.  Any other app goes through every
step as before.  The manifest is still parsed (from its own cache entry), and the
policy and cross-app rules still see every app; a record replaces only the
per-app work that follows them.  Like every entry of the build cache it is
MAC'd (:mod:`pipeline.build_cache`): an entry nobody with the secret wrote is
a miss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.catalog_model import AppCatalog, AppImage, TargetFile
from catalog.loader import ManifestSource
from catalog.problems import Problem
from pipeline.build_cache import (
    BuildCache,
    CanonicalBytes,
    PolicyVerdicts,
    cache_key,
    decode_warnings,
)
from pipeline.catalog_parts import app_summary
from pipeline.gitsource import Snapshot
from pipeline.imagelock import ImageLock, lockable_reference

RECORDS_KIND = "app-records"


@dataclass(frozen=True)
class AppRecord:
    """What the build derived from one app, ready to be used again as it is."""

    images: list[AppImage]
    icon: TargetFile
    warnings: list[str]
    units: dict[str, str]
    part: str  # the catalog entry's canonical JSON (catalog_parts.entry_part)
    summary: dict[str, Any]  # what the next build reads of the entry (catalog_parts)
    policy: list[Problem]  # the per-app rules' warnings (pipeline.policy.check_app)

    def as_json(self) -> dict[str, Any]:
        return {
            "images": [image.model_dump(mode="json") for image in self.images],
            "icon": self.icon.model_dump(mode="json"),
            "warnings": self.warnings,
            "units": self.units,
            "part": self.part,
            "summary": self.summary,
            "policy": [problem.as_json() for problem in self.policy],
        }


def _text_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and isinstance(text, str) for name, text in value.items()
    ):
        raise ValueError("not a mapping of names to texts")
    return value


def decode_record(value: Any) -> AppRecord:
    """An :class:`AppRecord` from its JSON; ValueError (a miss) for anything else."""
    warnings = value["warnings"]
    if not isinstance(warnings, list) or not all(isinstance(each, str) for each in warnings):
        raise ValueError("warnings are not texts")
    if not isinstance(value["part"], str) or not isinstance(value["summary"], dict):
        raise ValueError("not a record")
    return AppRecord(
        images=[AppImage.model_validate(image) for image in value["images"]],
        icon=TargetFile.model_validate(value["icon"]),
        warnings=warnings,
        units=_text_map(value["units"]),
        part=value["part"],
        summary=value["summary"],
        policy=decode_warnings(value["policy"]),
    )


def record_key(
    source: ManifestSource,
    canon: CanonicalBytes,
    snapshot: Snapshot,
    lock: ImageLock,
    *,
    require_digests: bool,
    dev: bool,
) -> str | None:
    """The key of the app's record, or None when the app cannot have one."""
    read_as = canon.read_key(source)
    manifest = source.manifest
    if read_as is None or any(member.build is not None for member in manifest.containers):
        return None
    icon_name = f"apps/{manifest.id}/{manifest.icon}"
    icon = snapshot.get(icon_name)
    if icon is None or icon.is_symlink or icon.blob_id is None:
        return None
    pins = []
    for member in manifest.containers:
        locked = lock.images.get(lockable_reference(member.image))
        pins.append(None if locked is None else locked.model_dump(mode="json"))
    return cache_key(
        "app-record",
        read_as.encode(),
        icon_name.encode(),
        icon.blob_id.encode(),
        json.dumps(pins, sort_keys=True).encode(),
        f"digests={require_digests} dev={dev}".encode(),
    )


def usable_record(cache: BuildCache, key: str | None, published: Path) -> AppRecord | None:
    """The record under ``key`` when its icon is already published; None otherwise."""
    if key is None:
        return None
    record = cache.get(RECORDS_KIND, key, decode_record)
    if record is None or not (published / record.icon.target).is_file():
        return None
    return record


def look_up_records(
    sources: list[ManifestSource],
    cache: BuildCache,
    verdicts: PolicyVerdicts,
    snapshot: Snapshot,
    lock: ImageLock,
    published: Path,
    *,
    require_digests: bool,
    dev: bool,
) -> dict[str, tuple[str | None, AppRecord | None]]:
    """Each app's record key and usable record (None for either when there is none).

    Runs before the checks: a record also holds its app's per-app policy verdict,
    handed to ``verdicts`` so that the checks need not look it up.
    """
    found: dict[str, tuple[str | None, AppRecord | None]] = {}
    for source in sources:
        key = record_key(
            source, verdicts.canon, snapshot, lock, require_digests=require_digests, dev=dev
        )
        record = usable_record(cache, key, published)
        read_as = verdicts.canon.read_key(source)
        if record is not None and read_as is not None:
            verdicts.given[read_as] = record.policy
        found[source.manifest.id] = (key, record)
    return found


def remember_records(
    cache: BuildCache,
    catalog: AppCatalog,
    fresh: Mapping[str, tuple[str | None, list[str]]],
    made: Mapping[str, str],
    verdicts: PolicyVerdicts,
    sources: list[ManifestSource],
) -> None:
    """Write the record of each app this build derived anew (``fresh``: its key and image
    warnings; ``made``: its entry's canonical JSON), once the whole catalog checked."""
    read_keys = {source.manifest.id: verdicts.canon.read_key(source) for source in sources}
    for app_id, (key, image_warnings) in fresh.items():
        app = catalog.apps.get(app_id)
        read_as = read_keys.get(app_id)
        policy = None if read_as is None else verdicts.reached.get(read_as)
        if key is None or app is None or app.icon is None or app.companions or policy is None:
            continue
        if app_id not in made:
            continue
        record = AppRecord(
            images=list(app.images),
            icon=app.icon,
            warnings=image_warnings,
            units=app.units,
            part=made[app_id],
            summary=app_summary(app),
            policy=policy,
        )
        cache.put(RECORDS_KIND, key, record.as_json())
