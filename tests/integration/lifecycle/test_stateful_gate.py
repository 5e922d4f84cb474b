"""CI runs the stateful gate app (gate-db: PostgreSQL, Redis, a migrating web member) for 2
rounds: its rows survive every step, the migrating update and the rolled-back one."""

from __future__ import annotations

import subprocess

import pytest

from tests.realparts import REPO_ROOT
from tests.realparts.podman_user import RootlessPodman

pytestmark = [pytest.mark.integration, pytest.mark.podman]


def test_the_stateful_stack_passes_two_rounds_of_the_gate(
    rootless_podman: RootlessPodman,
) -> None:
    gate = subprocess.run(
        [str(REPO_ROOT / "tests/integration/lifecycle/run-gate"), "--rounds", "2",
         "--app", "gate-db"],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    print(gate.stdout)
    assert gate.returncode == 0, gate.stdout[-4000:] + gate.stderr[-4000:]
    assert "gate PASSED" in gate.stdout
    rows = [line.split() for line in gate.stdout.splitlines() if line.startswith("  gate-db ")]
    assert len(rows) == 2 and all(len(row) == 13 and "-" not in row for row in rows), rows
