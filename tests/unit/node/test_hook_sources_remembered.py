"""``--hook-source-dir`` is remembered in the node config: a later apply, the daemon's
reconcile and the Quadlet hooks drop-in use the same dirs without the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from node_runtime.commands import main
from node_runtime.local_node import LocalNode
from node_runtime.store.node_config import STATE_ROOT_ENV, hook_sources_for, load_config
from node_runtime.store.paths import NodePaths
from tests.support.repos import make_repository

VAULT = (
    Path(__file__).resolve().parents[2] / "integration/lifecycle/apps/gate-vault/manifest.yml"
).read_text()
DROPIN = "units/archy-gate-vault_gate-vault.container.d/archy-hooks.conf"


def run(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
        "ARCHY_NODE_HOOK_SOURCES": None,
    }
    return CliRunner().invoke(main, list(args), env=env)


def set_up_node(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"gate-vault": VAULT})
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0


def test_a_later_apply_and_the_daemon_use_the_remembered_hook_source_dirs(
    tmp_path: Path,
) -> None:
    set_up_node(tmp_path)
    first, second = tmp_path / "hook sources", tmp_path / "other"
    installed = run(tmp_path, "install", "gate-vault", "--hook-source-dir", str(first), "--json")
    assert installed.exit_code == 0, installed.output
    dropin = tmp_path / DROPIN
    assert f"--hook-source-dir={first}" in dropin.read_text()
    paths = NodePaths(tmp_path / "state")
    assert load_config(paths).hook_sources == [str(first)]

    # an apply without the option keeps the drop-in as it was (not even rewritten)
    written = dropin.stat().st_mtime_ns, dropin.read_bytes()
    config_bytes = paths.config_file.read_bytes()
    again = run(tmp_path, "apply", "--json")
    assert again.exit_code == 0, again.output
    assert (dropin.stat().st_mtime_ns, dropin.read_bytes()) == written
    assert paths.config_file.read_bytes() == config_bytes  # nothing given: nothing written
    # the daemon builds its node the same way, with no option given
    assert LocalNode(paths.root, None, None).hook_sources == (str(first),)

    # a new value replaces the remembered one, everywhere
    changed = run(tmp_path, "apply", "--hook-source-dir", str(second), "--json")
    assert changed.exit_code == 0, changed.output
    assert f"--hook-source-dir={second}" in dropin.read_text()
    assert f"--hook-source-dir={first}" not in dropin.read_text()
    config = json.loads(paths.config_file.read_text())
    assert config["hook_sources"] == [str(second)]
    assert config["data_root"] == str(tmp_path / "data")  # the rest of the config kept


def test_hook_source_dirs_are_kept_absolute_and_run_hooks_never_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up_node(tmp_path)
    paths = NodePaths(tmp_path / "state")
    monkeypatch.chdir(tmp_path)
    assert hook_sources_for(paths, [Path("relative")]) == (str(tmp_path / "relative"),)
    assert load_config(paths).hook_sources == [str(tmp_path / "relative")]
    before = paths.config_file.read_bytes()
    assert hook_sources_for(paths, [Path("else")], remember=False) == (str(tmp_path / "else"),)
    assert hook_sources_for(paths, ()) == (str(tmp_path / "relative"),)
    assert paths.config_file.read_bytes() == before
