"""``--engine stage``: a node without a container engine writes the catalog's units, creates
data dirs and secrets once, starts nothing and says ``staged`` — never ``ok``."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from click.testing import CliRunner, Result

from node_runtime.commands import main
from node_runtime.engines.stage_engine import staged_reason
from node_runtime.store.node_config import STATE_ROOT_ENV
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import make_repository, manifest_yaml

VAULT = (
    Path(__file__).resolve().parents[2] / "integration/lifecycle/apps/gate-vault/manifest.yml"
).read_text()


def run(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_stage_writes_the_catalogs_units_and_secrets_once_and_keeps_data(tmp_path: Path) -> None:
    repository = make_repository(
        tmp_path / "origin", {"gate-vault": VAULT, "plain": manifest_yaml("plain")}
    )
    data = tmp_path / "data"
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(data)).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0
    installed = run(tmp_path, "install", "gate-vault", "--json")
    assert installed.exit_code == 0, installed.output
    [result] = json.loads(installed.stdout)["apps"]
    assert (result["status"], result["reason"]) == ("staged", staged_reason(tmp_path / "units"))

    assert repository.catalog is not None
    units = repository.catalog.apps["gate-vault"].units
    unit_files = {p.name: p.read_text() for p in (tmp_path / "units").iterdir() if p.is_file()}
    # the catalog's bytes, but for this node's data root (--data-root), not the default one
    vault_unit = "archy-gate-vault_gate-vault.container"
    assert f"Volume={data}/gate-vault/vault:/data:Z" in unit_files[vault_unit].splitlines()
    assert "/var/lib/archipelago" not in unit_files[vault_unit]
    assert unit_files.keys() == units.keys()
    # its post_install hook: the node's own drop-in runs it at every start of the unit
    dropin = tmp_path / "units/archy-gate-vault_gate-vault.container.d/archy-hooks.conf"
    assert "ExecStartPost=-" in dropin.read_text() and '"run-hooks"' in dropin.read_text()
    secrets = sorted((tmp_path / "state/secrets/gate-vault").iterdir())
    assert [p.name for p in secrets] == ["key", "token"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets)
    values = [p.read_bytes() for p in secrets]
    (data / "gate-vault/vault/notes.txt").write_bytes(b"kept")
    assert NodeState(NodePaths(tmp_path / "state")).applied().apps == {}  # staged, not applied

    again = run(tmp_path, "apply", "--json")
    assert again.exit_code == 0, again.output
    assert [(a["app"], a["status"]) for a in json.loads(again.stdout)["apps"]] == [
        ("gate-vault", "staged")
    ]
    assert [p.read_bytes() for p in secrets] == values  # never regenerated
    assert (data / "gate-vault/vault/notes.txt").read_bytes() == b"kept"

    removed = run(tmp_path, "uninstall", "gate-vault", "--json")
    assert json.loads(removed.stdout)["apps"][0]["status"] == "removed"
    assert [p.name for p in (tmp_path / "units").iterdir()] == ["archy-net.network"]
    assert (data / "gate-vault/vault/notes.txt").read_bytes() == b"kept"
    assert [p.read_bytes() for p in secrets] == values


def test_stage_refuses_to_start_or_restart_anything(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"plain": manifest_yaml("plain")})
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0
    assert run(tmp_path, "install", "plain").exit_code == 0
    started = run(tmp_path, "start", "plain", "--json")
    assert json.loads(started.stdout)["apps"][0]["status"] == "staged"
    restarted = run(tmp_path, "restart", "plain", "--json")
    assert restarted.exit_code == 1
    assert "is not applied" in json.loads(restarted.stdout)["apps"][0]["reason"]
