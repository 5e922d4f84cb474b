"""The origin's layout and the one order a publish writes it in (DESIGN §6).

    .archy-repository              the ownership marker: written first, by the first
                                   publish to an empty prefix or directory
    targets/…                      content-addressed artifacts (immutable)
    metadata/N.targets.json        (immutable; delegated roles N.<role>.json too)
    metadata/N.snapshot.json       (immutable)
    metadata/N.root.json           every root, kept forever (immutable)
    metadata/timestamp.json        the only mutable metadata, written after the above
    store/…, index.html            the storefront (mutable, no trust decision depends on
                                   it), written after the timestamp, index.html last

A node that refreshes at any moment sees the old complete repository or the
new one: nothing it can reach names a file that is not there yet.  Roots go
just before the timestamp, the shortest window in which a new root is
visible beside the old timestamp.  Every publisher (the ceremony's
``signed_repository``, the upload planner, the seed push, the storefront step)
sorts with :func:`publish_order`; nothing else codes the order.

Pure: paths in, paths out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MARKER_PATH = ".archy-repository"
MARKER_BYTES = b'{"archipelago-repository":1}\n'
TIMESTAMP_PATH = "metadata/timestamp.json"
STOREFRONT_INDEX = "index.html"
STOREFRONT_DIR = "store/"
_VERSIONED_METADATA = re.compile(r"metadata/(\d+)\.([^/]+)\.json")

# The publish order, step by step (the first element of every sort key).
_MARKER, _TARGETS, _TARGETS_METADATA, _SNAPSHOT, _ROOT, _TIMESTAMP, _STOREFRONT = range(7)


def root_path(version: int) -> str:
    return f"metadata/{version}.root.json"


def snapshot_path(version: int) -> str:
    return f"metadata/{version}.snapshot.json"


def targets_metadata_path(version: int) -> str:
    return f"metadata/{version}.targets.json"


def is_plain_relative(path: str) -> bool:
    """``a/b/c``: relative, with no empty, ``.`` or ``..`` segment (what every origin path
    and S3 prefix must be, so no path can leave the repository)."""
    return not any(part in ("", ".", "..") for part in path.split("/"))


def is_storefront(path: str) -> bool:
    """The storefront's files: ``index.html`` and everything under ``store/``."""
    return path == STOREFRONT_INDEX or path.startswith(STOREFRONT_DIR)


def publish_rank(path: str) -> tuple[int, int, str]:
    """The sort key of ``path`` in the publish order (step, version, path)."""
    if path == MARKER_PATH:
        return (_MARKER, 0, path)
    if is_storefront(path):
        return (_STOREFRONT, int(path == STOREFRONT_INDEX), path)  # the index after its pages
    if path == TIMESTAMP_PATH:
        return (_TIMESTAMP, 0, path)
    versioned = _VERSIONED_METADATA.fullmatch(path)
    if versioned is None:
        return (_TARGETS, 0, path)  # targets/… and any other content-addressed file
    version, role = int(versioned.group(1)), versioned.group(2)
    step = {"snapshot": _SNAPSHOT, "root": _ROOT}.get(role, _TARGETS_METADATA)
    return (step, version, path)


def publish_order(paths: Iterable[str]) -> list[str]:
    """marker → targets → targets metadata → snapshot → roots → timestamp → storefront
    (its index last)."""
    return sorted(paths, key=publish_rank)


def is_mutable(path: str) -> bool:
    """The timestamp and the storefront; every other published file is immutable."""
    return path == TIMESTAMP_PATH or is_storefront(path)
