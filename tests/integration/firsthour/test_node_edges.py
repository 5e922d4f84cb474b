"""Issue 21, the node's side: each row run as the newcomer ran it (``archy-node`` in a child
process, stdout a pipe), now one clear line and the right exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repos import make_repository, manifest_yaml

REPO = Path(__file__).resolve().parents[3]


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


def test_pull_with_a_corrupted_catalog_pointer_fetches_the_catalog_again(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"plain": manifest_yaml("plain")})
    state_root = tmp_path / "node"
    where = ("--state-root", str(state_root))
    init = archy_node(
        "init", "--root", str(repository.root_path), "--origin", repository.origin,
        "--data-root", str(tmp_path / "data"), *where,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert archy_node("pull", *where).returncode == 0
    pointer = state_root / "state/catalog.json"
    pointer.write_text('{"current": {"blake3": "trunc')  # a torn write, a bad disk

    refused_before = archy_node("list", *where)
    pulled = archy_node("pull", *where)
    listed = archy_node("list", *where)

    assert refused_before.returncode == 1  # reading it is refused, in one line
    assert "Traceback" not in refused_before.stderr
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stderr == (
        f"warning: {pointer} was unreadable; moved to catalog.json.unreadable, fetching the "
        "catalog again\n"
    )
    assert pulled.stdout.startswith("new catalog: ")
    assert (state_root / "state/catalog.json.unreadable").read_text().startswith('{"current"')
    assert listed.returncode == 0, listed.stderr
    assert "plain" in listed.stdout
