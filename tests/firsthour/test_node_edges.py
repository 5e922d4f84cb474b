"""Issue 21, the node's side: each row run as the newcomer ran it (``archy-node`` in a child
process, stdout a pipe), now one clear line and the right exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def archy_node(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node_runtime", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command", [["status"], ["list"], ["pull"], ["install", "demo"], ["uninstall", "demo"]]
)
def test_every_command_before_init_says_run_init_and_exits_1(
    tmp_path: Path, command: list[str]
) -> None:
    state_root = tmp_path / "node"

    result = archy_node(*command, "--state-root", str(state_root))
    as_json = archy_node(*command, "--json", "--state-root", str(state_root))

    assert result.returncode == 1
    assert result.stderr == (
        f"error: this node is not initialised ({state_root} has no config.json); run "
        f"`archy-node init --root ROOT.json --origin URL --state-root {state_root}` first\n"
    )
    assert result.stdout == ""
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["ok"] is False
    assert not state_root.exists()  # nothing written
