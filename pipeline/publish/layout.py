"""The origin's layout and the order a publish writes it in (DESIGN §6).

    targets/…                      content-addressed artifacts (immutable)
    metadata/N.targets.json        (immutable)
    metadata/N.snapshot.json       (immutable)
    metadata/N.root.json           every root, kept forever (immutable)
    metadata/timestamp.json        the only mutable metadata, written after the above
    store/…, index.html            the storefront (mutable, no trust decision depends on
                                   it), written after the timestamp, index.html last

A node that refreshes at any moment sees the old complete repository or the
new one: nothing it can reach names a file that is not there yet.  Roots go
just before the timestamp, the shortest window in which a new root is
visible beside the old timestamp (the S3 publisher uses the same order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TIMESTAMP_PATH = "metadata/timestamp.json"
STOREFRONT_INDEX = "index.html"
STOREFRONT_DIR = "store/"
_VERSIONED_METADATA = re.compile(r"^metadata/(\d+)\.([^/]+)\.json$")


def root_path(version: int) -> str:
    return f"metadata/{version}.root.json"


def snapshot_path(version: int) -> str:
    return f"metadata/{version}.snapshot.json"


def targets_metadata_path(version: int) -> str:
    return f"metadata/{version}.targets.json"


def is_storefront(path: str) -> bool:
    """The storefront's files: ``index.html`` and everything under ``store/``."""
    return path == STOREFRONT_INDEX or path.startswith(STOREFRONT_DIR)


def _rank(path: str) -> tuple[int, int, str]:
    if is_storefront(path):
        return (6, int(path == STOREFRONT_INDEX), path)
    if path == TIMESTAMP_PATH:
        return (5, 0, path)
    versioned = _VERSIONED_METADATA.fullmatch(path)
    if versioned is None:
        return (1, 0, path)  # targets/…: content-addressed artifacts first
    version, role = int(versioned.group(1)), versioned.group(2)
    return ({"snapshot": 3, "root": 4}.get(role, 2), version, path)


def publish_order(paths: Iterable[str]) -> list[str]:
    """targets → targets metadata → snapshot → roots → timestamp → storefront (index last)."""
    return sorted(paths, key=_rank)


def is_mutable(path: str) -> bool:
    return path == TIMESTAMP_PATH or is_storefront(path)
