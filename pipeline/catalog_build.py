"""``archy build``: one git commit in, one reproducible ``app-catalog.json`` out.

The build reads ``apps/`` and ``images.lock.json`` at a commit
(:mod:`pipeline.gitsource`), validates every manifest (schema, policy,
cross-app rules), pins every image from the lock, checks what changed since
the previous catalog (:mod:`pipeline.changes`), renders the Quadlet units,
builds companions whose context changed (:mod:`pipeline.companions`), and
writes the catalog as canonical JSON.  Nothing in the output comes from the
clock or the machine, so the same commit gives the same bytes anywhere.

Every check runs before anything is written: the targets are staged in a
temporary folder inside the output folder and moved into ``targets/`` only
when the catalog is complete, then the catalog replaces the old one with one
rename.  A refused build leaves the output folder as it was.

This module reads, checks and assembles; the options and result types live in
:mod:`pipeline.build_types`, the cache in :mod:`pipeline.build_cache`, the staged
writes in :mod:`pipeline.build_staging` and companion images in
:mod:`pipeline.companion_step`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

from catalog.app_network import network_for_developer
from catalog.catalog_model import (
    CATALOG_NAME,
    CATALOG_SCHEMA_VERSION,
    AppCatalog,
    AppImage,
    CatalogApp,
    CatalogError,
    Companion,
    ImagePin,
    Platform,
    SourceInfo,
    TargetFile,
    manifest_canonical,
    seed_url_problem,
)
from catalog.loader import MAX_MANIFEST_BYTES, ManifestSource
from catalog.manifest import Manifest
from catalog.manifest_fields import parse_image_reference
from catalog.problems import ManifestError
from catalog.runtime_names import NETWORK_NAME
from pipeline.app_records import AppRecord, look_up_records, remember_records
from pipeline.build_cache import (
    BuildCache,
    CanonicalBytes,
    PolicyVerdicts,
    decode_units,
    manifest_from_cache,
    units_key,
)
from pipeline.build_staging import (
    outputs_manifest,
    publish_staged,
    stage_file,
    stage_icon,
    stage_node_binaries,
    staging_dir,
    write_file,
)
from pipeline.build_types import (
    BuildOptions,
    BuildProgress,
    BuildRefused,
    BuildResult,
    Renderer,
    SilentProgress,
)
from pipeline.catalog_parts import catalog_bytes as assembled_catalog_bytes
from pipeline.catalog_parts import read_previous
from pipeline.changes import AppState, detect_changes
from pipeline.collector_pause import collector_paused
from pipeline.companion_step import build_companions, without_companion_apps
from pipeline.companions import (
    CompanionContext,
    CompanionError,
    companion_contexts,
)
from pipeline.gitsource import (
    IMAGES_LOCK_NAME,
    Snapshot,
    SourceError,
    open_snapshot,
)
from pipeline.imagelock import ImageLock, LockFileError, lockable_reference, parse_lock
from pipeline.policy import check_all
from pipeline.render import render_app
from signing.developer import sign_catalog_apps, third_party_catalog_problems

OUTPUTS_NAME = "outputs.json"


UNPINNED_IMAGE_RULE = "P015"


def default_renderer(network: str = NETWORK_NAME) -> Renderer:
    """The renderer for a registry whose apps join ``network`` (``archy-net``: official)."""
    if network == NETWORK_NAME:
        return render_app
    return functools.partial(render_app, network=network)


def read_previous_catalog(path: Path | None, cache: BuildCache | None = None) -> AppCatalog | None:
    if path is None or not path.exists():
        return None
    try:
        return read_previous(path, cache)
    except CatalogError as error:
        raise BuildRefused([f"previous catalog {path}: {error}"]) from None


def load_manifests(
    snapshot: Snapshot, cache: BuildCache | None = None, canon: CanonicalBytes | None = None
) -> tuple[list[ManifestSource], list[str]]:
    canon = canon or CanonicalBytes()
    sources: list[ManifestSource] = []
    problems: list[str] = []
    for app_id in snapshot.app_ids():
        filename = f"apps/{app_id}/manifest.yml"
        entry = snapshot.get(filename)
        if entry is None:
            problems.append(f"{filename}: missing (every folder under apps/ is one app)")
            continue
        if entry.is_symlink:
            problems.append(f"{filename}: is a symlink; manifests must be files")
            continue
        if entry.size > MAX_MANIFEST_BYTES:
            problems.append(f"{filename}: {entry.size} bytes; the limit is 1 MiB")
            continue
        try:
            sources.append(
                manifest_from_cache(cache, entry.read, filename, app_id, canon, entry.blob_id)
            )
        except ManifestError as error:
            problems.extend(str(problem) for problem in error.problems)
    return sources, problems


def manifest_check_problems(
    sources: list[ManifestSource], verdicts: PolicyVerdicts | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the policy and cross-app checks the build runs on ``sources``.

    The signing ceremony and ``archy publish`` call this too, on the manifests
    embedded in a catalog, so they refuse exactly what the build refuses.
    ``verdicts`` (the build's cache) skips the per-app rules of a manifest that
    passed them all before.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for problem in check_all(sources, require_digests=False, verdicts=verdicts):
        if problem.rule == UNPINNED_IMAGE_RULE:
            continue  # pin_images checks digests, knowing what images.lock.json pins
        (errors if problem.severity == "error" else warnings).append(str(problem))
    return errors, warnings


def read_image_lock(snapshot: Snapshot) -> ImageLock:
    entry = snapshot.get(IMAGES_LOCK_NAME)
    if entry is None:
        return ImageLock()
    try:
        return parse_lock(entry.read(), IMAGES_LOCK_NAME)
    except LockFileError as error:
        raise BuildRefused([str(error)]) from None


def check_history(snapshot: Snapshot, previous: AppCatalog | None) -> list[str]:
    """Warnings about the previous catalog's commit; an error if this build goes back in history."""
    if previous is None or previous.source.commit == snapshot.commit:
        return []
    import git  # only a build reads history: see pipeline.gitsource

    repo = snapshot.repo
    try:
        repo.commit(previous.source.commit)
    except (ValueError, git.BadName, git.BadObject):  # a shallow or unrelated clone
        return [
            f"the previous catalog's commit {previous.source.commit[:12]} is not in this clone; "
            "changes are compared by content only"
        ]
    if not repo.is_ancestor(repo.commit(previous.source.commit), repo.commit(snapshot.commit)):
        raise BuildRefused(
            [
                f"commit {snapshot.commit[:12]} does not descend from the previous catalog's "
                f"commit {previous.source.commit[:12]}; a catalog never goes back in history"
            ]
        )
    return []


def pin_images(
    source: ManifestSource, lock: ImageLock, require_digests: bool
) -> tuple[list[AppImage], list[str], list[str]]:
    """Each member's image with the digest from the manifest or the lock."""
    images: list[AppImage] = []
    errors: list[str] = []
    warnings: list[str] = []
    for index, member in enumerate(source.manifest.containers):
        where = f"{source.filename}:{source.line_of('containers', index, 'image') or 1}"
        repository, tag, pinned = parse_image_reference(member.image)
        reference = f"{repository}:{tag}"
        if member.build is not None:
            images.append(AppImage(member=member.name, reference=reference, digest=None,
                                   platforms={}, companion=True))  # fmt: skip
            continue
        locked = lock.images.get(lockable_reference(member.image))
        if pinned is not None and locked is not None and locked.digest != pinned:
            errors.append(
                f"{where}: containers[{index}].image pins {pinned} but {IMAGES_LOCK_NAME} "
                f"has {locked.digest} for {reference}; re-run `archy images lock`"
            )
            continue
        digest = pinned or (None if locked is None else locked.digest)
        platforms = dict(locked.platforms) if locked is not None and locked.digest == digest else {}
        if digest is None:
            message = (
                f"{where}: containers[{index}].image {reference} has no digest; "
                "run `archy images lock` and commit images.lock.json"
            )
            (errors if require_digests else warnings).append(message)
        images.append(AppImage(member=member.name, reference=reference, digest=digest,
                               platforms=platforms))  # fmt: skip
    return images, errors, warnings


def round_trip_problem(manifest: Manifest, canon: CanonicalBytes | None = None) -> str | None:
    """Re-parse the embedded manifest; it must give back exactly the same canonical bytes."""
    canon = canon or CanonicalBytes()
    if canon.round_tripped(manifest):
        return None  # it was parsed from its canonical bytes and gave them back
    embedded = canon.of(manifest)
    try:
        again = Manifest.model_validate(json.loads(embedded))
    except ValueError as error:
        return f"apps/{manifest.id}: the embedded manifest does not parse back: {error}"
    if manifest_canonical(again) != embedded:
        return f"apps/{manifest.id}: the embedded manifest does not round-trip to the same bytes"
    return None


def build_catalog(options: BuildOptions, progress: BuildProgress | None = None) -> BuildResult:
    """Build ``out_dir/app-catalog.json`` from the commit; raise BuildRefused on any problem."""
    with collector_paused():
        return _build_catalog(options, progress or SilentProgress())


def _build_catalog(options: BuildOptions, progress: BuildProgress) -> BuildResult:
    seed_problems = [p for p in map(seed_url_problem, options.seeds) if p is not None]
    if seed_problems:
        raise BuildRefused(seed_problems)
    if options.companions == "skip" and not options.dev:
        raise BuildRefused(
            ["companions=skip is for dev builds only; a publishing build builds every companion"]
        )
    try:
        snapshot = open_snapshot(options.repo, options.revision, dev=options.dev)
    except SourceError as error:
        raise BuildRefused([str(error)]) from None
    cache = None if options.cache_dir is None else BuildCache(options.cache_dir)
    previous = read_previous_catalog(options.previous, cache)
    warnings = check_history(snapshot, previous)
    lock = read_image_lock(snapshot)

    progress.start("Reading and validating manifests", len(snapshot.app_ids()))
    canon = CanonicalBytes()
    sources, problems = load_manifests(snapshot, cache, canon)
    left_out: list[str] = []
    if options.companions == "skip":
        sources, left_out, skip_warnings = without_companion_apps(sources)
        warnings.extend(skip_warnings)
    verdicts = None if cache is None else PolicyVerdicts(cache, canon)
    published = options.out_dir / "targets"
    records: dict[str, tuple[str | None, AppRecord | None]] = {}
    if verdicts is not None and options.renderer is None and options.developer is None:
        records = look_up_records(
            sources, verdicts.cache, verdicts, snapshot, lock, published,
            require_digests=options.require_digests, dev=options.dev,
        )  # fmt: skip
    check_errors, check_warnings = manifest_check_problems(sources, verdicts)
    problems.extend(check_errors)
    warnings.extend(check_warnings)
    progress.advance("validated")

    with staging_dir(options.out_dir) as staging:
        apps: dict[str, tuple[ManifestSource, list[AppImage], TargetFile | None]] = {}
        contexts: dict[str, list[CompanionContext]] = {}
        states: dict[str, AppState] = {}
        hits: dict[str, AppRecord] = {}
        fresh: dict[str, tuple[str | None, list[str]]] = {}  # record key, image warnings
        for source in sources:
            manifest = source.manifest
            icon: TargetFile | None
            key, record = records.get(manifest.id, (None, None))
            if record is not None:
                hits[manifest.id] = record
                images, icon, contexts[manifest.id] = record.images, record.icon, []
                warnings.extend(record.warnings)
            else:
                images, image_errors, image_warnings = pin_images(
                    source, lock, options.require_digests
                )
                problems.extend(image_errors)
                warnings.extend(image_warnings)
                fresh[manifest.id] = (key, image_warnings)
                icon, icon_problem = stage_icon(snapshot, manifest, staging, published, cache)
                if icon_problem is not None:
                    (warnings if options.dev else problems).append(icon_problem)
                try:
                    contexts[manifest.id] = companion_contexts(snapshot, manifest)
                except CompanionError as error:
                    problems.append(str(error))
                    contexts[manifest.id] = []
            guard = round_trip_problem(manifest, canon)
            if guard is not None:
                problems.append(guard)
            apps[manifest.id] = (source, images, icon)
            states[manifest.id] = AppState(
                version=manifest.version,
                revision=manifest.revision,
                manifest_blake3=canon.blake3(manifest),
                icon_blake3=None if icon is None else icon.blake3,
                companion_contexts=tuple(
                    sorted((each.member, each.blake3) for each in contexts[manifest.id])
                ),
                images=tuple(image.pinned_reference for image in images),
            )
        changes = detect_changes(previous, states)
        problems.extend(changes.errors)
        if problems:
            raise BuildRefused(problems, warnings)

        network = network_for_developer(
            None if options.developer is None else options.developer.did
        )
        renderer = options.renderer or default_renderer(network)
        # records are looked up only for the official registry's build (archy-net)
        known_units = {app_id: record.units for app_id, record in hits.items()}
        units = render_all(
            apps, renderer, progress, cache if options.renderer is None else None, canon,
            network, known_units,
        )  # fmt: skip
        companions, built, reused = build_companions(
            contexts, previous, options, snapshot, staging, progress
        )
        node, node_problems = stage_node_binaries(options.node_binaries, staging)
        if node_problems:
            raise BuildRefused(node_problems, warnings)

        catalog = assemble_catalog(snapshot, options, apps, units, companions, node, canon)
        if options.developer is not None:
            catalog = sign_catalog_apps(catalog, options.developer)
            signature_problems = third_party_catalog_problems(catalog, options.developer.did)
            if signature_problems:
                raise BuildRefused(signature_problems, warnings)
        made: dict[str, str] = {}
        known = {app_id: (record.part, record.summary) for app_id, record in hits.items()}
        catalog_bytes = assembled_catalog_bytes(catalog, cache, canon, known, made)
        if catalog_bytes is None:
            raise BuildRefused(["the catalog does not parse back to the same bytes"], warnings)
        if verdicts is not None:
            remember_records(verdicts.cache, catalog, fresh, made, verdicts, sources)

        outputs = outputs_manifest(catalog, catalog_bytes)
        stage_file(staging / outputs[CATALOG_NAME].target, catalog_bytes)
        publish_staged(staging, options.out_dir / "targets")
    outputs_document = {name: target.model_dump() for name, target in outputs.items()}
    write_file(options.out_dir / OUTPUTS_NAME, json.dumps(outputs_document, indent=2).encode())
    catalog_path = options.out_dir / CATALOG_NAME
    write_file(catalog_path, catalog_bytes)
    return BuildResult(
        catalog=catalog,
        catalog_bytes=catalog_bytes,
        catalog_path=catalog_path,
        changes=changes,
        warnings=warnings,
        outputs=outputs,
        companions_built=built,
        companions_reused=reused,
        left_out=left_out,
        cache_hits=0 if cache is None else cache.hits,
        cache_misses=0 if cache is None else cache.misses,
    )


def with_pinned_images(source: ManifestSource, images: list[AppImage]) -> ManifestSource:
    """The manifest as the node must run it: every image at the digest the build pinned."""
    pinned = {image.member: image.pinned_reference for image in images}
    members = [
        member.model_copy(update={"image": pinned.get(member.name, member.image)})
        for member in source.manifest.containers
    ]
    return dataclasses.replace(
        source, manifest=source.manifest.model_copy(update={"containers": members})
    )


def render_all(
    apps: dict[str, tuple[ManifestSource, list[AppImage], TargetFile | None]],
    renderer: Renderer,
    progress: BuildProgress,
    cache: BuildCache | None = None,
    canon: CanonicalBytes | None = None,
    network: str = NETWORK_NAME,
    known: dict[str, dict[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    """Every app's units, rendered with the pinned image references (cached when given one;
    ``network`` is the one ``renderer`` puts the apps on, part of the cache key).

    ``known`` holds the units of apps whose record (``pipeline.app_records``) had them.
    """
    canon = canon or CanonicalBytes()
    progress.start("Rendering Quadlet units", len(apps))
    units: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for app_id, (source, images, _icon) in sorted(apps.items()):
        if known is not None and app_id in known:
            units[app_id] = known[app_id]
            progress.advance(app_id)
            continue
        key = None if cache is None else units_key(canon, source, images, network)
        cached = None if cache is None or key is None else cache.get("units", key, decode_units)
        if cached is not None:
            units[app_id] = dict(sorted(cached.items()))
            progress.advance(app_id)
            continue
        try:
            units[app_id] = dict(sorted(renderer(with_pinned_images(source, images)).items()))
            if cache is not None and key is not None:
                cache.put("units", key, units[app_id])
        except ManifestError as error:
            problems.extend(str(problem) for problem in error.problems)
        except ValueError as error:
            problems.append(f"apps/{app_id}: rendering failed: {error}")
        progress.advance(app_id)
    if problems:
        raise BuildRefused(problems)
    return units


def assemble_catalog(
    snapshot: Snapshot,
    options: BuildOptions,
    apps: dict[str, tuple[ManifestSource, list[AppImage], TargetFile | None]],
    units: dict[str, dict[str, str]],
    companions: dict[str, list[Companion]],
    node: dict[Platform, TargetFile] | None,
    canon: CanonicalBytes | None = None,
) -> AppCatalog:
    canon = canon or CanonicalBytes()
    entries: dict[str, CatalogApp] = {}
    pins: dict[str, ImagePin] = {}
    for app_id, (source, images, icon) in sorted(apps.items()):
        manifest = source.manifest
        # Built from models this build validated, with manifest_blake3 computed from
        # this very manifest: the per-field validation is ``parses_back``'s job.
        entries[app_id] = CatalogApp.model_construct(
            version=manifest.version,
            revision=manifest.revision,
            manifest=manifest,
            manifest_blake3=canon.blake3(manifest),
            units=units[app_id],
            images=images,
            icon=icon,
            companions=companions.get(app_id, []),
        )
        for image in images:
            if not image.companion:
                pins[image.reference] = ImagePin(digest=image.digest, platforms=image.platforms)
    skeleton = AppCatalog(
        schema=CATALOG_SCHEMA_VERSION,
        source=SourceInfo(
            repository=options.repository_url or snapshot.repository_url,
            commit=snapshot.commit,
            committed_at=snapshot.committed_at,
            dirty=snapshot.dirty,
        ),
        dev_build=options.dev,
        apps={},
        images=dict(sorted(pins.items())),
        node=node,
        seeds=list(options.seeds),
    )
    # The top level is validated above; the entries are not validated a second
    # time here (``parses_back`` checks the whole catalog before it is written).
    return skeleton.model_copy(update={"apps": entries})
