"""What a build writes and how: staged in the output folder, moved into place only when complete.

Targets (icons, node binaries, the catalog) are written to a temporary staging folder
inside the output folder under content-addressed names, then moved into ``targets/``;
a name already published is never replaced.  ``write_file`` writes atomically
(temporary file in the same folder, then rename) and durably; what is staged is written
without an fsync each (``stage_file``; node binaries are copied) into the staging folder,
which nothing reads until it is moved, and ``publish_staged`` makes it durable at once
before moving it: one journal commit for a thousand icons instead of two per icon.
``outputs_manifest`` lists the targets the publisher uploads.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog.address import blake3_hex, blake3_stream
from catalog.catalog_model import (
    CATALOG_NAME,
    AppCatalog,
    Platform,
    TargetFile,
)
from catalog.manifest import Manifest
from catalog.node_bundle import BUNDLE_SUFFIX, BundleError, bundle_platform
from pipeline.atomic_file import fsync_directory, make_durable, write_file_atomically
from pipeline.build_cache import BuildCache, cache_key
from pipeline.gitsource import (
    Snapshot,
)
from pipeline.icons import MAX_ICON_BYTES, icon_problem
from pipeline.node_bundle_pack import check_bundle

PUBLIC_FILE_MODE = 0o644


def _icon_target(value: Any) -> TargetFile:
    return TargetFile.model_validate(value)


def stage_icon(
    snapshot: Snapshot,
    manifest: Manifest,
    staging: Path,
    published: Path | None = None,
    cache: BuildCache | None = None,
) -> tuple[TargetFile | None, str | None]:
    """Copy the icon to ``staging/icons/<blake3>.<id>.svg``; (target, problem).

    An icon already in ``published`` (the output's ``targets/``) under its
    content-addressed name is not staged again: :func:`publish_staged` would
    keep the published one anyway.  With a ``cache``, an icon file read from a
    commit is known by its git blob id: an accepted icon already published is
    not read again.
    """
    filename = f"apps/{manifest.id}/{manifest.icon}"
    entry = snapshot.get(filename)
    blob_id = None if entry is None or entry.is_symlink else entry.blob_id
    key = (
        None
        if cache is None or blob_id is None
        else cache_key("icon", filename.encode(), manifest.id.encode(), blob_id.encode())
    )
    if cache is not None and key is not None and published is not None:
        known = cache.get("icons", key, _icon_target)
        if known is not None and (published / known.target).is_file():
            return known, None
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
        stage_file(staging / target.target, data)
    if cache is not None and key is not None:
        cache.put("icons", key, target.model_dump(mode="json"))
    return target, None


def stage_node_binaries(
    paths: list[Path], staging: Path
) -> tuple[dict[Platform, TargetFile] | None, list[str]]:
    if not paths:
        return None, []
    targets: dict[Platform, TargetFile] = {}
    problems: list[str] = []
    for path in paths:
        platform = bundle_platform(path.name)
        if platform is None:
            problems.append(
                f"{path}: node bundles are named archy-node-linux-amd64{BUNDLE_SUFFIX} or "
                f"archy-node-linux-arm64{BUNDLE_SUFFIX} (scripts/build-node-binary writes them)"
            )
            continue
        if not path.is_file():
            problems.append(f"{path}: not a file")
            continue
        try:
            check_bundle(path)  # what every node checks before it unpacks
        except BundleError as error:
            problems.append(f"{path}: a node would refuse this bundle: {error}")
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


def write_file(path: Path, data: bytes) -> None:
    """Write a public build output atomically (fsynced, readable by all: it is published)."""
    write_file_atomically(path, data, mode=PUBLIC_FILE_MODE)


def stage_file(path: Path, data: bytes) -> None:
    """Write a build output into the staging folder: not fsynced until :func:`publish_staged`."""
    write_file_atomically(path, data, mode=PUBLIC_FILE_MODE, durable=False)


@contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish_staged(staging: Path, targets_dir: Path) -> None:
    """Move staged targets into place; content-addressed names never need replacing.

    The staged files are made durable first (all at once), then moved; every folder that
    received one is fsynced, so a published target survives a power cut with its name.
    """
    moves: list[tuple[Path, Path]] = []
    for root, _dirs, files in os.walk(staging):
        for name in sorted(files):
            source = Path(root) / name
            destination = targets_dir / source.relative_to(staging)
            if not destination.exists():
                moves.append((source, destination))
    if not moves:
        return
    make_durable([source for source, _ in moves])
    touched: set[Path] = set()
    for source, destination in moves:
        folder = destination.parent
        if folder not in touched and not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            touched.update(folder.parents)
        touched.add(folder)
        source.replace(destination)
    for folder in sorted(touched):
        if folder == targets_dir or targets_dir in folder.parents:
            fsync_directory(folder)
    fsync_directory(targets_dir.parent)


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
