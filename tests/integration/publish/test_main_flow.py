"""The README's main command: build, sign 2-of-3, publish to dist/repo, pull as a node."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.catalog_model import parse_catalog
from catalog.secret_homes import secret_homes
from catalog.unit_data_root import units_for_data_root
from node_runtime.engines.stage_engine import STAGED_REASON
from pipeline.cli import main
from pipeline.main_flow import DEV_NODE_APPS, choose_dev_engine
from tests.realparts.required import require_tool

REPO = Path(__file__).resolve().parents[3]


def test_the_dev_flow_publishes_what_the_node_then_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative --dist, as scripts/main passes it
    dist = tmp_path / "dist"
    result = CliRunner().invoke(
        main,
        ["dev-flow", "--repo", str(REPO), "--dist", "dist"],
        env={"ARCHY_DEV_PASSPHRASE": "throwaway-dev-passphrase"},
    )
    assert result.exit_code == 0, result.output
    assert "throwaway-dev-passphrase" not in result.output
    assert "Apps the node received" in result.stdout
    assert "2 of 3 (needs 2)" in result.stdout
    assert "app-catalog.json blake3 " in result.stdout
    node_catalog = dist / "dev-node/targets/app-catalog.json"
    assert node_catalog.read_bytes() == (dist / "dev-build/app-catalog.json").read_bytes()
    for key_file in (dist / "dev-ceremony/keys").glob("*.key"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (dist / "repo/metadata").iterdir()) == [
        "1.app-files.json",
        "1.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "timestamp.json",
    ]
    assert_the_node_agent_staged_the_apps(dist, result.stdout)
    # the node step is not silent: each of its sub-steps is said as it starts (issue 21)
    lines = result.stdout.splitlines()
    step = lines.index("[6/7] the node agent: init, pull, install, apply (sandbox under dist/)")
    said = [line.strip().split(":")[0] for line in lines[step + 1 : step + 6]]
    assert said == ["init", "pull", "install", "pull", "apply, engine"]
    assert lines[step + 3].strip() == f"install: {', '.join(DEV_NODE_APPS)}"
    index = (dist / "repo/index.html").resolve()
    assert result.stdout.rstrip().endswith(f"storefront: open {index}")
    assert all((dist / "repo/store/apps" / f"{app_id}.html").is_file() for app_id in DEV_NODE_APPS)


def assert_the_node_agent_staged_the_apps(dist: Path, stdout: str) -> None:
    """No podman image for the real apps offline: the agent stages them and says so."""
    assert "What the node agent did (engine stage:" in stdout
    assert f"the node agent applied: {len(DEV_NODE_APPS)} staged" in stdout
    catalog = parse_catalog((dist / "dev-build/app-catalog.json").read_bytes())
    written = {p.name: p.read_bytes() for p in (dist / "dev-node-units").iterdir()}
    moved_apps = 0
    for app_id in DEV_NODE_APPS:
        assert f"\n{app_id}\tstaged\t" in stdout  # a plain row: stdout is not a terminal
        app = catalog.apps[app_id]
        # the catalog's units, moved to the dev node's data root (only Volume= and Label=)
        moved = units_for_data_root(app.manifest, app.units, str(dist / "dev-node-data"))
        for name, text in moved.items():
            assert written[name] == text.encode()
        moved_apps += moved != dict(app.units)
        for home in secret_homes(catalog.apps[app_id].manifest):
            if home.secret is None:
                continue  # an owner setting: the owner supplies it
            path = dist / "dev-node-state/secrets" / home.owner / home.name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert (dist / "dev-node-data" / app_id).is_dir()
    assert moved_apps > 0  # the apps with volumes mount the dev node's data root
    status = json.loads((dist / "dev-node-state/state/installed.json").read_text())
    assert sorted(status["apps"]) == sorted(DEV_NODE_APPS)
    assert STAGED_REASON in stdout.replace("\n", " ")


def test_without_podman_the_dev_node_stages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a fresh clone on a machine without podman
    assert choose_dev_engine(["docker.io/library/busybox:1.36"]) == (
        "stage", "podman is not installed",
    )  # fmt: skip


def test_with_podman_but_not_the_image_the_dev_node_stages_and_pulls_nothing() -> None:
    require_tool("podman")
    engine, why = choose_dev_engine(["localhost/archy-never-built:0"])
    assert engine == "stage"
    assert (
        why == "podman has no localhost/archy-never-built:0 here (offline: images are not pulled)"
    )


def test_the_dev_flow_needs_a_passphrase_variable(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["dev-flow", "--repo", str(REPO), "--dist", str(tmp_path)],
        env={"ARCHY_DEV_PASSPHRASE": ""},
    )
    assert result.exit_code == 1
    assert "ARCHY_DEV_PASSPHRASE" in result.stderr


def test_the_dev_flow_refuses_a_one_character_passphrase_and_writes_nothing(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(
        main,
        ["dev-flow", "--repo", str(REPO), "--dist", str(tmp_path / "dist")],
        env={"ARCHY_DEV_PASSPHRASE": "a"},
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "error: ARCHY_DEV_PASSPHRASE: the passphrase has 1 character; a new key's "
        "passphrase needs at least 12\n"
    )
    assert not (tmp_path / "dist").exists()
