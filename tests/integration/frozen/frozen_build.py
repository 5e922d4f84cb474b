"""Build the frozen archy-node once, cached by a hash of everything that goes into it.

The key covers the sources of node_runtime, catalog and signing, the spec,
the build script and the dependency lock; a rerun with the same sources
reuses ``.cache/frozen-node/<key>/archy-node`` instead of running
PyInstaller again (about 40 s on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import blake3

REPOSITORY = Path(__file__).resolve().parents[3]
CACHE = REPOSITORY / ".cache" / "frozen-node"
BUILD_INPUTS = ("node_runtime", "catalog", "signing")
BUILD_FILES = ("requirements.lock", "scripts/build-node-binary", "pyproject.toml")


def sources_key(root: Path = REPOSITORY) -> str:
    """What the binary is built from, in the checkout at ``root``."""
    hasher = blake3.blake3()
    files = [
        path
        for package in BUILD_INPUTS
        for path in sorted((root / package).rglob("*"))
        if path.is_file() and (path.suffix in (".py", ".spec"))
    ]
    files += [root / name for name in BUILD_FILES]
    for path in files:
        hasher.update(str(path.relative_to(root)).encode() + b"\0")
        hasher.update(path.read_bytes() + b"\0")
    return hasher.hexdigest()[:32]


def frozen_binary() -> Path:
    """The built binary for the current sources (building it if it is not cached)."""
    key = sources_key()
    cached = CACHE / key / "archy-node"
    if cached.is_file():
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".building-"))
    try:
        subprocess.run(
            [str(REPOSITORY / "scripts" / "build-node-binary"), "--dist", str(staging)],
            cwd=REPOSITORY,
            check=True,
            timeout=900,
        )
        try:
            os.rename(staging, CACHE / key)  # another session may have won the race
        except OSError:
            if not cached.is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in CACHE.iterdir():
        if stale.name != key and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return cached
