"""A real part a test needs: present, or the test fails saying so (never a silent skip).

A skip reads as green in CI, so a runner that lost podman or ``unshare`` would pass every
test that needs them. ``require_tool`` fails instead. ``require_or_skip`` is for a part only
some machines can have (root to mount a tmpfs, say): it skips on a developer's machine and
fails when ``CI`` is set, because the CI runner is set up to have every part.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.realparts import SETUP_HINT


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_tool(name: str, *alternatives: str) -> str:
    """The path of the first of ``name``/``alternatives`` on PATH; a test failure if none is."""
    for candidate in (name, *alternatives):
        found = shutil.which(candidate)
        if found:
            return found
    pytest.fail(f"real part missing: {name} is not installed; {SETUP_HINT}", pytrace=False)


def require_or_skip(present: bool, reason: str) -> None:
    """Skip when ``present`` is false on a developer's machine; fail in CI."""
    if present:
        return
    if in_ci():
        pytest.fail(f"real part missing in CI: {reason}", pytrace=False)
    pytest.skip(reason)
