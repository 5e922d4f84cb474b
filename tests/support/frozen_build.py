"""Build the frozen archy-node once, cached by a hash of everything that goes into it.

The key covers the sources of node_runtime, catalog and signing, the spec,
the build script and the dependency lock; a rerun with the same sources
reuses ``.cache/frozen-node/<key>/archy-node`` instead of running
PyInstaller again (about 40 s on 2 cores).  The frozen tests, the systemd
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


def frozen_binary() -> Path:
    """The built binary for the current sources (building it if it is not cached)."""
    key = sources_key()
    cached = CACHE / key / "archy-node"
    if cached.is_file():
        return cached
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not cached.is_file():  # another process may have built it while we waited
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
