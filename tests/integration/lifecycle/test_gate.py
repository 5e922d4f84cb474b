"""CI runs the lifecycle gate for 2 rounds: every busybox test app through every step, green
(the stateful app has its own test: test_stateful_gate.py)."""

from __future__ import annotations

import subprocess

import pytest

from tests.realparts import REPO_ROOT
from tests.realparts.podman_user import RootlessPodman

pytestmark = [pytest.mark.integration, pytest.mark.podman]


def test_the_lifecycle_gate_passes_two_rounds(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    gate = subprocess.run(
        [str(REPO_ROOT / "tests/integration/lifecycle/run-gate"), "--rounds", "2",
         "--app", "gate-web", "--app", "gate-stack", "--app", "gate-vault"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    print(gate.stdout)
    assert gate.returncode == 0, gate.stdout[-4000:] + gate.stderr[-4000:]
    assert "gate PASSED" in gate.stdout
