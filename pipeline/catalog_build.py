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
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import git

from catalog.address import blake3_hex, blake3_stream
from catalog.canonical import encode_canonical_json
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
    parse_catalog,
    seed_url_problem,
)
from catalog.loader import MAX_MANIFEST_BYTES, ManifestSource, parse_manifest_source
from catalog.manifest import Manifest
from catalog.manifest_fields import parse_image_reference
from catalog.problems import ManifestError
from catalog.runtime_names import DEFAULT_DATA_ROOT
from pipeline.changes import AppState, ChangeReport, detect_changes
from pipeline.companions import (
    LOCAL_OVERRIDE_TAG,
    CompanionContext,
    CompanionError,
    PodmanRunner,
    build_companion,
    companion_contexts,
    local_override,
    reusable,
)
from pipeline.gitsource import (
    IMAGES_LOCK_NAME,
    Snapshot,
    SourceError,
    open_snapshot,
)
from pipeline.icons import MAX_ICON_BYTES, icon_problem
from pipeline.imagelock import ImageLock, LockFileError, lockable_reference, parse_lock
from pipeline.policy import check_all
from pipeline.render import render_app

NODE_BINARY_PREFIX = "archy-node-"
OUTPUTS_NAME = "outputs.json"
UNPINNED_IMAGE_RULE = "P015"
T = TypeVar("T")
CACHE_DIR_NAME = ".cache/build"
CACHE_FORMAT = 1

Renderer = Callable[[ManifestSource], dict[str, str]]


class BuildRefused(Exception):
    """The build was refused; ``problems`` holds one line per reason. Nothing was written."""

    def __init__(self, problems: list[str], warnings: list[str] | None = None) -> None:
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(problems))


class BuildProgress(Protocol):
    """How a long step reports itself (the CLI shows a rich progress bar)."""

    def start(self, step: str, total: int) -> None: ...

    def advance(self, item: str) -> None: ...


class SilentProgress:
    def start(self, step: str, total: int) -> None:
        return None

    def advance(self, item: str) -> None:
        return None


@dataclass
class BuildOptions:
    repo: Path = Path(".")
    revision: str = "HEAD"
    out_dir: Path = Path("dist")
    previous: Path | None = None
    dev: bool = False
    require_digests: bool = False
    repository_url: str | None = None
    node_binaries: list[Path] = field(default_factory=list)
    rebuild_companions: bool = False
    podman: PodmanRunner | None = None
    renderer: Renderer | None = None
    cache_dir: Path | None = None
    """Where parsed manifests and rendered units are cached (``REPO/.cache/build``); None: off."""
    companions: Literal["build", "skip"] = "build"
    """``skip`` (dev builds only): leave out the apps whose companion image must be built."""
    seeds: list[str] = field(default_factory=list)
    """Swarm seeds to record in the catalog (``seeds``)."""


@dataclass
class BuildResult:
    catalog: AppCatalog
    catalog_bytes: bytes
    catalog_path: Path
    changes: ChangeReport
    warnings: list[str]
    outputs: dict[str, TargetFile]
    companions_built: list[str] = field(default_factory=list)
    companions_reused: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    """Apps left out of a dev build with ``companions=skip``."""
    cache_hits: int = 0
    cache_misses: int = 0

    @property
    def catalog_blake3(self) -> str:
        return blake3_hex(self.catalog_bytes)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "catalog": str(self.catalog_path),
            "blake3": self.catalog_blake3,
            "length": len(self.catalog_bytes),
            "commit": self.catalog.source.commit,
            "dev_build": self.catalog.dev_build,
            "apps": len(self.catalog.apps),
            "left_out": self.left_out,
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "changes": self.changes.as_json(),
            "companions": {"built": self.companions_built, "reused": self.companions_reused},
            "warnings": self.warnings,
            "outputs": {name: target.model_dump() for name, target in self.outputs.items()},
        }


def default_renderer() -> Renderer:
    return render_app


# --- the build cache ---------------------------------------------------------------


@cache
def code_fingerprint() -> str:
    """BLAKE3 over the code that turns manifest bytes into models and units.

    Part of every cache key, so a cache entry written by other code (or other
    pydantic, ruamel.yaml or jinja2 versions) is never read.
    """
    roots = [Path(__file__).resolve().parents[1] / name for name in ("catalog", "pipeline")]
    parts = [f"format {CACHE_FORMAT}".encode()]
    for package in ("pydantic", "pydantic-core", "ruamel.yaml", "jinja2"):
        try:
            parts.append(f"{package} {metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            parts.append(f"{package} none".encode())
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix != ".pyc":
                parts.append(str(path.relative_to(root.parent)).encode())
                parts.append(blake3_hex(path.read_bytes()).encode())
    return blake3_hex(b"\0".join(parts))


def cache_key(kind: str, *parts: bytes) -> str:
    """The key of an entry: BLAKE3 of the code fingerprint, the kind and the input bytes."""
    framed = [code_fingerprint().encode(), kind.encode()]
    for part in parts:
        framed.append(str(len(part)).encode())
        framed.append(part)
    return blake3_hex(b"\0".join(framed))


@dataclass
class BuildCache:
    """Per-app results that depend only on bytes, as ``<dir>/<kind>/<key>.json``.

    An entry is a pure function of its key (see :func:`cache_key`): written
    atomically, read back only when it names its own key, and anything that
    does not read back cleanly is ignored and rebuilt.  Errors are never cached.
    """

    directory: Path
    hits: int = 0
    misses: int = 0

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / f"{key}.json"

    def get(self, kind: str, key: str, decode: Callable[[Any], T]) -> T | None:
        """The entry's value as ``decode`` returns it; None (a miss) if anything is off."""
        try:
            entry = json.loads(self._path(kind, key).read_bytes())
            if entry.get("key") != key:
                raise ValueError("the entry names another key")
            value = decode(entry["value"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        with suppress(OSError):  # a cache that cannot be written only slows the next build
            write_file(self._path(kind, key), json.dumps({"key": key, "value": value}).encode())


@dataclass
class CanonicalBytes:
    """Each manifest's canonical JSON, computed once per build (pure Python, not cheap)."""

    _bytes: dict[int, tuple[Manifest, bytes, str]] = field(default_factory=dict)
    _round_tripped: set[int] = field(default_factory=set)

    def remember(self, manifest: Manifest, canonical: bytes, *, round_tripped: bool) -> None:
        self._bytes[id(manifest)] = (manifest, canonical, blake3_hex(canonical))
        if round_tripped:
            self._round_tripped.add(id(manifest))

    def of(self, manifest: Manifest) -> bytes:
        if id(manifest) not in self._bytes:
            self.remember(manifest, manifest_canonical(manifest), round_tripped=False)
        return self._bytes[id(manifest)][1]

    def blake3(self, manifest: Manifest) -> str:
        self.of(manifest)
        return self._bytes[id(manifest)][2]

    def round_tripped(self, manifest: Manifest) -> bool:
        """True when the manifest was itself parsed from its canonical bytes (a cache hit)."""
        return id(manifest) in self._round_tripped


def manifest_from_cache(
    cache: BuildCache | None, data: bytes, filename: str, app_id: str, canon: CanonicalBytes
) -> ManifestSource:
    """``parse_manifest_source`` (ruamel, the slow part), cached on the manifest's bytes."""
    if cache is None:
        return parse_manifest_source(data, filename, app_id)
    key = cache_key("manifest", filename.encode(), app_id.encode(), data)

    def decode(value: Any) -> ManifestSource:
        manifest = Manifest.model_validate(json.loads(value["manifest"]))
        canonical = manifest_canonical(manifest)
        if canonical.decode() != value["manifest"]:
            raise ValueError("the cached manifest does not round-trip")
        lines = {tuple(location): int(line) for location, line in value["lines"]}
        canon.remember(manifest, canonical, round_tripped=True)  # parsed from its own bytes
        return ManifestSource(manifest, filename, lines)

    cached = cache.get("manifests", key, decode)
    if cached is not None:
        return cached
    source = parse_manifest_source(data, filename, app_id)
    cache.put(
        "manifests",
        key,
        {
            "manifest": canon.of(source.manifest).decode(),
            "lines": [[list(location), line] for location, line in source.lines.items()],
        },
    )
    return source


def _decode_units(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and isinstance(text, str) for name, text in value.items()
    ):
        raise ValueError("cached units are not a mapping of file names to texts")
    return value


def units_key(canon: CanonicalBytes, source: ManifestSource, images: list[AppImage]) -> str:
    """Rendered units depend on the manifest, the data root and the pinned images only."""
    pins = json.dumps(sorted((image.member, image.pinned_reference) for image in images))
    return cache_key("units", canon.of(source.manifest), DEFAULT_DATA_ROOT.encode(), pins.encode())


# --- reading -----------------------------------------------------------------------


def read_previous_catalog(path: Path | None) -> AppCatalog | None:
    if path is None or not path.exists():
        return None
    try:
        return parse_catalog(path.read_bytes())
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
            sources.append(manifest_from_cache(cache, entry.read(), filename, app_id, canon))
        except ManifestError as error:
            problems.extend(str(problem) for problem in error.problems)
    return sources, problems


def manifest_check_problems(sources: list[ManifestSource]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the policy and cross-app checks the build runs on ``sources``.

    The signing ceremony and ``archy publish`` call this too, on the manifests
    embedded in a catalog, so they refuse exactly what the build refuses.
    """
    errors: list[str] = []
    warnings: list[str] = []
    for problem in check_all(sources, require_digests=False):
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


# --- per-app pieces ---------------------------------------------------------------


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


def stage_icon(
    snapshot: Snapshot, manifest: Manifest, staging: Path, published: Path | None = None
) -> tuple[TargetFile | None, str | None]:
    """Copy the icon to ``staging/icons/<blake3>.<id>.svg``; (target, problem).

    An icon already in ``published`` (the output's ``targets/``) under its
    content-addressed name is not staged again: :func:`publish_staged` would
    keep the published one anyway.
    """
    filename = f"apps/{manifest.id}/{manifest.icon}"
    entry = snapshot.get(filename)
    readable = entry is not None and not entry.is_symlink and entry.size <= MAX_ICON_BYTES
    data = entry.read() if readable and entry is not None else b""
    problem = icon_problem(
        filename,
        exists=entry is not None,
        is_symlink=entry is not None and entry.is_symlink,
        size=0 if entry is None else entry.size,
        head=data,
    )
    if problem is not None:
        return None, problem
    digest = blake3_hex(data)
    target = TargetFile(target=f"icons/{digest}.{manifest.id}.svg", blake3=digest, length=len(data))
    if published is None or not (published / target.target).is_file():
        write_file(staging / target.target, data)
    return target, None


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


def stage_node_binaries(
    paths: list[Path], staging: Path
) -> tuple[dict[Platform, TargetFile] | None, list[str]]:
    if not paths:
        return None, []
    targets: dict[Platform, TargetFile] = {}
    problems: list[str] = []
    for path in paths:
        platform = path.name.removeprefix(NODE_BINARY_PREFIX)
        if not path.name.startswith(NODE_BINARY_PREFIX) or platform not in (
            "linux-amd64",
            "linux-arm64",
        ):
            problems.append(f"{path}: node binaries are named archy-node-linux-amd64 or -arm64")
            continue
        if not path.is_file():
            problems.append(f"{path}: not a file")
            continue
        with open(path, "rb") as stream:
            digest = blake3_stream(stream)
        target = f"node/{digest}.{path.name}"
        destination = staging / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        targets[platform] = TargetFile(  # type: ignore[index]
            target=target, blake3=digest, length=path.stat().st_size
        )
    return dict(sorted(targets.items())), problems


# --- writing ---------------------------------------------------------------------


def write_file(path: Path, data: bytes) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_bytes(data)
    temporary.replace(path)


@contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish_staged(staging: Path, targets_dir: Path) -> None:
    """Move staged targets into place; content-addressed names never need replacing."""
    for root, _dirs, files in os.walk(staging):
        for name in sorted(files):
            source = Path(root) / name
            destination = targets_dir / source.relative_to(staging)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if not destination.exists():
                source.replace(destination)


def outputs_manifest(catalog: AppCatalog, catalog_bytes: bytes) -> dict[str, TargetFile]:
    """TUF target name -> file: what the publisher uploads and the targets role lists."""
    digest = blake3_hex(catalog_bytes)
    outputs = {
        CATALOG_NAME: TargetFile(
            target=f"{digest}.{CATALOG_NAME}", blake3=digest, length=len(catalog_bytes)
        )
    }
    for target in catalog.targets():
        outputs[target.name] = target
    return dict(sorted(outputs.items()))


# --- the build ---------------------------------------------------------------------


def build_catalog(options: BuildOptions, progress: BuildProgress | None = None) -> BuildResult:
    """Build ``out_dir/app-catalog.json`` from the commit; raise BuildRefused on any problem."""
    progress = progress or SilentProgress()
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
    previous = read_previous_catalog(options.previous)
    warnings = check_history(snapshot, previous)
    lock = read_image_lock(snapshot)

    progress.start("Reading and validating manifests", len(snapshot.app_ids()))
    cache = None if options.cache_dir is None else BuildCache(options.cache_dir)
    canon = CanonicalBytes()
    sources, problems = load_manifests(snapshot, cache, canon)
    left_out: list[str] = []
    if options.companions == "skip":
        sources, left_out, skip_warnings = without_companion_apps(sources)
        warnings.extend(skip_warnings)
    check_errors, check_warnings = manifest_check_problems(sources)
    problems.extend(check_errors)
    warnings.extend(check_warnings)
    progress.advance("validated")

    with staging_dir(options.out_dir) as staging:
        apps, contexts, states = {}, {}, {}
        for source in sources:
            manifest = source.manifest
            images, image_errors, image_warnings = pin_images(source, lock, options.require_digests)
            problems.extend(image_errors)
            warnings.extend(image_warnings)
            icon, icon_problem = stage_icon(
                snapshot, manifest, staging, options.out_dir / "targets"
            )
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

        renderer = options.renderer or default_renderer()
        units = render_all(
            apps, renderer, progress, cache if options.renderer is None else None, canon
        )
        companions, built, reused = build_companions(
            contexts, previous, options, snapshot, staging, progress
        )
        node, node_problems = stage_node_binaries(options.node_binaries, staging)
        if node_problems:
            raise BuildRefused(node_problems, warnings)

        catalog = assemble_catalog(snapshot, options, apps, units, companions, node, canon)
        catalog_bytes = catalog.to_canonical()
        if not parses_back(catalog_bytes, cache):
            raise BuildRefused(["the catalog does not parse back to the same bytes"], warnings)

        outputs = outputs_manifest(catalog, catalog_bytes)
        write_file(staging / outputs[CATALOG_NAME].target, catalog_bytes)
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


def _verdict(value: Any) -> bool:
    if value is not True:
        raise ValueError("not a parses-back verdict")
    return True


def _entry_parses_back(app_id: str, entry: Any) -> bool:
    try:
        app = CatalogApp.model_validate(entry)
    except ValueError:
        return False
    dumped = app.model_dump(mode="json", by_alias=True)
    return app.manifest.id == app_id and encode_canonical_json(dumped) == encode_canonical_json(
        entry
    )


def parses_back(catalog_bytes: bytes, cache: BuildCache | None = None) -> bool:
    """True when the catalog parses (every model check) and encodes back to the same bytes.

    The same as ``parse_catalog(catalog_bytes).to_canonical() == catalog_bytes``
    for bytes this build encoded, one app entry at a time: an entry's verdict
    is cached under the entry's JSON (``json.dumps``, a cheap injective
    fingerprint of the parsed value) and the code fingerprint, so an unchanged
    app is not validated and re-encoded again.
    """
    try:
        document = json.loads(catalog_bytes)
    except ValueError:
        return False
    if not isinstance(document, dict) or not isinstance(document.get("apps"), dict):
        return False
    apps: dict[str, Any] = document["apps"]
    skeleton = {**document, "apps": {}}
    try:
        top = AppCatalog.model_validate(skeleton).to_document()
    except ValueError:
        return False
    if encode_canonical_json(top) != encode_canonical_json(skeleton):
        return False
    for app_id, entry in apps.items():
        fingerprint = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        key = cache_key("parses-back", app_id.encode(), fingerprint.encode())
        if cache is not None and cache.get("parses-back", key, _verdict):
            continue
        if not _entry_parses_back(app_id, entry):
            return False
        if cache is not None:
            cache.put("parses-back", key, True)
    return True


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
) -> dict[str, dict[str, str]]:
    """Every app's units, rendered with the pinned image references (cached when given one)."""
    canon = canon or CanonicalBytes()
    progress.start("Rendering Quadlet units", len(apps))
    units: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for app_id, (source, images, _icon) in sorted(apps.items()):
        key = None if cache is None else units_key(canon, source, images)
        cached = None if cache is None or key is None else cache.get("units", key, _decode_units)
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
