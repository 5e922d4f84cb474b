"""``archy-node daemon`` (with pulls) against a file:// repository: a catalog published while
it runs is pulled and applied, and SIGTERM stops it cleanly.

The apply runs through the stage engine (units into a directory): what is
under test is the daemon's pull → reconcile path; containers through
podman are the lifecycle gate's business.  Waits are on the daemon's JSON
events and the state files, never on a fixed sleep.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from node_runtime.commands import main
from node_runtime.store.node_config import STATE_ROOT_ENV
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.integration.lifecycle.node_agent import DaemonProcess
from tests.realparts import REPO_ROOT
from tests.support.repos import make_repository, manifest_yaml


def node_env(tmp_path: Path) -> dict[str, str]:
    return {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }


def run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=node_env(tmp_path))


def units_on_disk(tmp_path: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (tmp_path / "units").iterdir()}


def test_the_daemon_pulls_a_new_catalog_and_applies_it(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"plain": manifest_yaml("plain")})
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0
    assert run(tmp_path, "install", "plain").exit_code == 0
    first = units_on_disk(tmp_path)

    argv = ["daemon", "--pull-interval", "1", "--reconcile-interval", "3600"]
    process = subprocess.Popen(
        [sys.executable, "-m", "node_runtime", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **node_env(tmp_path)},
    )
    daemon = DaemonProcess(process)
    try:
        assert daemon.wait_for("pull", timeout=30)["changed"] is False
        assert daemon.wait_for("reconciled", timeout=30)["ok"] is True
        newer = repository.publish(
            {"plain": manifest_yaml("plain", version="1.1.0", host_port=18931)}
        )
        while not daemon.wait_for("pull", timeout=30)["changed"]:
            pass  # each pull is one event: the next one after the publish sees it
        reconciled = daemon.wait_for("reconciled", timeout=30)
        assert reconciled["ok"] is True and reconciled["changed"] == {"plain": "staged"}
    finally:
        status = daemon.stop()
    assert status == 0
    assert daemon.wait_for("stopped", timeout=5)["event"] == "stopped"
    current = NodeState(NodePaths(tmp_path / "state")).current_catalog()
    assert current is not None and current.current.targets_version == 2
    assert units_on_disk(tmp_path) == {n: t.encode() for n, t in newer.apps["plain"].units.items()}
    assert units_on_disk(tmp_path) != first
