"""Catalog deltas to sign and publish beside a new catalog.

When a new ``app-catalog.json`` is signed, the targets metadata also names
one delta from each of the last ``keep`` catalogs the origin published
(``catalog-deltas/<base blake3>.patch``, :mod:`catalog.catalog_delta`).  A
node holding one of those catalogs fetches a few kilobytes instead of the
whole catalog; any other node fetches the catalog whole.  Deltas are
ordinary targets: signed by the targets role by BLAKE3 and length, uploaded
content-addressed before the metadata, served by seeds like any blob.

The bases are read back from the origin — the catalogs its targets metadata
named, from the current version backwards — so the publisher keeps no state
of its own.

Public API: ``DEFAULT_KEEP``, ``previous_catalogs(origin, keep) -> list[bytes]``,
``delta_artifacts(previous, catalog) -> dict[str, bytes]``.
"""

from __future__ import annotations

from collections.abc import Sequence

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name, make_delta
from catalog.catalog_model import CATALOG_NAME
from pipeline.publish.layout import TIMESTAMP_PATH, snapshot_path, targets_metadata_path
from pipeline.publish.origin import Origin
from signing.errors import TufError
from signing.metadata import Metadata, Snapshot, Targets, Timestamp

DEFAULT_KEEP = 8


def _consistent_path(name: str, blake3: str) -> str:
    directory, separator, file_name = name.rpartition("/")
    return f"targets/{directory}{separator}{blake3}.{file_name}"


def _published_targets_version(origin: Origin) -> int:
    try:
        timestamp_data = origin.read(TIMESTAMP_PATH)
        if timestamp_data is None:
            return 0
        timestamp = Metadata.from_bytes(timestamp_data, Timestamp).signed
        snapshot_data = origin.read(snapshot_path(timestamp.snapshot_meta.version))
        if snapshot_data is None:
            return 0
        meta = Metadata.from_bytes(snapshot_data, Snapshot).signed.meta.get("targets.json")
        return 0 if meta is None else meta.version
    except TufError:
        return 0


def _catalog_of(origin: Origin, targets_version: int) -> str | None:
    try:
        data = origin.read(targets_metadata_path(targets_version))
        if data is None:
            return None
        info = Metadata.from_bytes(data, Targets).signed.targets.get(CATALOG_NAME)
    except TufError:
        return None
    return None if info is None else info.hashes.get("blake3")


def previous_catalogs(origin: Origin, keep: int = DEFAULT_KEEP) -> list[bytes]:
    """Up to ``keep`` distinct catalogs the origin published, newest first.

    Walks the origin's targets metadata back from the current version (every
    version stays published under consistent snapshots).  A base whose bytes
    are missing or do not match their name is skipped: a delta is an
    optimisation, never a reason to stop a publish.
    """
    catalogs: list[bytes] = []
    seen: set[str] = set()
    version = _published_targets_version(origin)
    while version > 0 and len(catalogs) < keep:
        base = _catalog_of(origin, version)
        version -= 1
        if base is None or base in seen:
            continue
        seen.add(base)
        data = origin.read(_consistent_path(CATALOG_NAME, base))
        if data is not None and blake3_hex(data) == base:
            catalogs.append(data)
    return catalogs


def delta_artifacts(previous: Sequence[bytes], catalog: bytes) -> dict[str, bytes]:
    """``{target name: delta}`` from each previous catalog to ``catalog``."""
    target = blake3_hex(catalog)
    deltas: dict[str, bytes] = {}
    for base in previous:
        base_blake3 = blake3_hex(base)
        if base_blake3 != target:
            deltas[delta_target_name(base_blake3)] = make_delta(base, catalog)
    return deltas
