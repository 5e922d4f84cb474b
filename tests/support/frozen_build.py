"""Build the frozen archy-node once, cached by a hash of everything that goes into it.

The key covers the sources of node_runtime, catalog and signing, the spec,
the build script and the dependency lock; a rerun with the same sources
reuses ``.cache/frozen-node/<key>/`` (the one-dir bundle ``archy-node-linux-amd64/``
and its archive ``archy-node-linux-amd64.tar.xz``, the catalog's node target) instead
of running PyInstaller and xz again (about 1.5 min on 2 cores).  The frozen tests, the systemd
tests and the workflow test all take the binary from here, so a test run builds
it once; a lock file makes a second process (``scripts/test`` runs the systemd
tests beside the rest) wait for the first one's build instead of racing it in
PyInstaller's shared work directory.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import blake3

REPOSITORY = Path(__file__).resolve().parents[2]
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
        if path.is_file() and "__pycache__" not in path.parts  # data files are bundled too
    ]
    files += [root / name for name in BUILD_FILES]
    for path in files:
        hasher.update(str(path.relative_to(root)).encode() + b"\0")
        hasher.update(path.read_bytes() + b"\0")
    return hasher.hexdigest()[:32]


BUNDLE = "archy-node-linux-amd64"


def frozen_binary() -> Path:
    """The built bundle's executable for the current sources (building it if not cached)."""
    return frozen_build() / BUNDLE / "archy-node"


def frozen_bundle_archive() -> Path:
    """The built bundle packed as the catalog's node target (``….tar.xz``)."""
    return frozen_build() / f"{BUNDLE}.tar.xz"


def frozen_build() -> Path:
    """The cache directory holding the build for the current sources (built if missing)."""
    key = sources_key()
    cached = CACHE / key
    if (cached / f"{BUNDLE}.tar.xz").is_file():
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (cached / f"{BUNDLE}.tar.xz").is_file():  # built by another process meanwhile?
            _build_into(CACHE / key)
    for stale in CACHE.iterdir():
        if stale.name != key and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return cached


def _build_into(destination: Path) -> None:
    staging = Path(tempfile.mkdtemp(dir=CACHE, prefix=".building-"))
    try:
        subprocess.run(
            [str(REPOSITORY / "scripts" / "build-node-binary"), "--dist", str(staging)],
            cwd=REPOSITORY,
            check=True,
            timeout=900,
        )
        os.rename(staging, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
