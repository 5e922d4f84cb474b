"""The README's main command: build, sign 2-of-3, publish to dist/repo, pull as a node."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_the_dev_flow_publishes_what_the_node_then_downloads(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    result = CliRunner().invoke(
        main,
        ["dev-flow", "--repo", str(REPO), "--dist", str(dist)],
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
        "1.root.json",
        "1.snapshot.json",
        "1.targets.json",
        "timestamp.json",
    ]


def test_the_dev_flow_needs_a_passphrase_variable(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["dev-flow", "--repo", str(REPO), "--dist", str(tmp_path)],
        env={"ARCHY_DEV_PASSPHRASE": ""},
    )
    assert result.exit_code == 1
    assert "ARCHY_DEV_PASSPHRASE" in result.stderr
