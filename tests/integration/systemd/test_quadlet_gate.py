"""CI runs the lifecycle gate with the Quadlet engine for 2 rounds under a real systemd."""

from __future__ import annotations

import subprocess

import pytest

from tests.realparts import REPO_ROOT

pytestmark = [pytest.mark.systemd, pytest.mark.integration]


@pytest.mark.timeout(2400)  # ~6 min here; 6 real reboots, on 2 shared cores
def test_the_quadlet_lifecycle_gate_passes_two_rounds() -> None:
    gate = subprocess.run(
        [str(REPO_ROOT / "tests/integration/lifecycle/run-gate"), "--engine", "quadlet",
         "--rounds", "2"],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    print(gate.stdout)
    assert gate.returncode == 0, gate.stdout[-4000:] + gate.stderr[-4000:]
    assert "gate PASSED" in gate.stdout
