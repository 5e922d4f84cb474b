"""Issue 21, stage mode made explicit: ``init --engine stage`` is remembered, units go under
the node's state root and every command that writes them says where, the reason printed is
the true one, ``apply --dry-run`` lists staging (not podman) steps and ``uninstall --purge``
does not contradict itself.  ``archy-node`` runs in a child process, stdout a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

REPO = Path(__file__).resolve().parents[3]
VAULT = (REPO / "tests/integration/lifecycle/apps/gate-vault/manifest.yml").read_text()


def archy_node(state_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """No ARCHY_NODE_ENGINE, no ARCHY_NODE_QUADLET_DIR: what init remembered decides."""
    return subprocess.run(
        [sys.executable, "-m", "node_runtime", *args, "--state-root", str(state_root)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(state_root.parent)},
        check=False,
        timeout=120,
    )


def staged_node(tmp_path: Path) -> tuple[Path, RepositoryHandle]:
    repository = make_repository(
        tmp_path / "origin", {"gate-vault": VAULT, "plain": manifest_yaml("plain")}
    )
    state_root = tmp_path / "node"
    init = archy_node(
        state_root, "init", "--root", str(repository.root_path), "--origin",
        repository.origin, "--data-root", str(tmp_path / "data"), "--engine", "stage",
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert init.stdout == (
        f"initialised {state_root}: origin {repository.origin}, engine stage, units in "
        f"{state_root / 'staged-units'}; next: archy-node pull --state-root {state_root}\n"
    )
    assert archy_node(state_root, "pull").returncode == 0
    return state_root, repository


def test_init_engine_stage_is_remembered_and_units_go_under_the_state_root(
    tmp_path: Path,
) -> None:
    state_root, _repository = staged_node(tmp_path)
    units = state_root / "staged-units"

    installed = archy_node(state_root, "install", "gate-vault")
    started = archy_node(state_root, "start", "gate-vault")

    assert installed.returncode == 0, installed.stderr
    assert (
        f"applied: staged: units written to {units}, not started (the stage engine starts "
        "nothing)" in installed.stdout
    )
    assert "no container engine" not in installed.stdout  # podman may well be installed
    assert started.returncode == 0, started.stderr  # stage again, podman never asked
    assert f"staged: units written to {units}" in started.stdout
    assert any(p.name.endswith(".container") for p in units.iterdir())
    assert not (tmp_path / ".config/containers/systemd").exists()
    config = json.loads((state_root / "config.json").read_text())
    assert config["engine"] == "stage"


def test_apply_dry_run_with_stage_lists_staging_not_podman_steps(tmp_path: Path) -> None:
    state_root, _repository = staged_node(tmp_path)
    installed = archy_node(state_root, "install", "plain", "--no-apply")
    assert installed.returncode == 0, installed.stderr
    assert f"next: archy-node apply --state-root {state_root}" in installed.stdout  # repeated

    dry = archy_node(state_root, "apply", "--dry-run")
    as_json = archy_node(state_root, "apply", "--dry-run", "--json", "--engine", "stage")

    assert dry.returncode == 0, dry.stderr
    units = state_root / "staged-units"
    assert dry.stdout.splitlines()[0].startswith("stage:plain (write ")
    assert f"units to {units}, its data dirs and secrets; start nothing)" in dry.stdout
    for podman_step in ("ensure-image", "create-member", "wait-healthy"):
        assert podman_step not in dry.stdout
    assert json.loads(as_json.stdout)["engine"] == "stage"
    assert not units.exists()  # a dry run writes nothing


def test_apply_prints_where_the_units_went(tmp_path: Path) -> None:
    state_root, _repository = staged_node(tmp_path)
    assert archy_node(state_root, "install", "plain", "--no-apply").returncode == 0

    applied = archy_node(state_root, "apply")

    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.splitlines()[0] == (
        f"engine stage: units in {state_root / 'staged-units'}"
    )


def test_uninstall_purge_says_purged_not_kept(tmp_path: Path) -> None:
    state_root, _repository = staged_node(tmp_path)
    assert archy_node(state_root, "install", "gate-vault").returncode == 0
    secrets = state_root / "secrets/gate-vault"
    assert secrets.is_dir()

    removed = archy_node(state_root, "uninstall", "gate-vault", "--purge")

    assert removed.returncode == 0, removed.stderr
    assert "kept" not in removed.stdout
    assert "applied: removed: staged units removed; data and secrets purged" in removed.stdout
    assert "purged: " in removed.stdout
    assert not secrets.exists()
