"""A real small filesystem for disk-full tests: a tmpfs of a few MiB mounted for one test.

Mounting needs root (these machines run the tests as root); elsewhere the test is skipped
with the reason on a developer machine, and fails in CI (CI=true).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.realparts.required import require_or_skip


@contextlib.contextmanager
def small_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """``mount -t tmpfs -o size=SIZE`` on ``mount_point`` for the ``with`` block."""
    if os.geteuid() != 0:
        require_or_skip(False, "mounting a small tmpfs (a real full disk) needs root")
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        require_or_skip(False, f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)
