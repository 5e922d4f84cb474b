"""The same commit gives the same catalog bytes, in any clone, on any day."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import git
from click.testing import CliRunner

from catalog.address import blake3_hex
from catalog.catalog_model import manifest_canonical, parse_catalog
from catalog.loader import parse_manifest
from pipeline.build_types import BuildOptions
from pipeline.catalog_build import build_catalog
from pipeline.cli import main
from tests.support.apprepo import AppRepo

ARCHY = Path(sys.executable).parent / "archy"
COMMIT_DATE = "2023-11-14T22:13:20+00:00"


def two_app_repo(path: Path) -> AppRepo:
    source = AppRepo(path)
    source.add_app("demo-one")
    source.add_app("demo-two", port=18081, version="2.5")
    source.commit("two apps", date=COMMIT_DATE)
    return source


def test_two_clones_build_byte_identical_catalogs(tmp_path: Path) -> None:
    source = two_app_repo(tmp_path / "origin")
    first = git.Repo.clone_from(source.path, tmp_path / "clone-a")
    second = git.Repo.clone_from(source.path, tmp_path / "clone-b", no_checkout=False)
    # The second clone's files are younger and were touched; the build must not care.
    for root, _dirs, files in os.walk(tmp_path / "clone-b" / "apps"):
        for name in files:
            os.utime(Path(root) / name, (2_000_000_000, 2_000_000_000))

    outputs = []
    out = Path(first.working_dir) / "dist"
    result = CliRunner().invoke(main, ["build", "--repo", first.working_dir, "--out", str(out)])
    assert result.exit_code == 0, result.output
    outputs.append((out / "app-catalog.json").read_bytes())
    # The second build runs as a separate process whose local calendar day differs
    # (UTC+14 vs UTC-12), from another working directory.
    out = Path(second.working_dir) / "dist"
    environment = {**os.environ, "TZ": "Pacific/Kiritimati", "LC_ALL": "C.UTF-8"}
    subprocess.run(
        [str(ARCHY), "build", "--repo", ".", "--out", "dist", "--json"],
        cwd=second.working_dir, env=environment, check=True, capture_output=True,
    )  # fmt: skip
    outputs.append((out / "app-catalog.json").read_bytes())

    assert outputs[0] == outputs[1]
    catalog = parse_catalog(outputs[0])
    assert catalog.source.commit == source.repo.head.commit.hexsha
    assert catalog.source.committed_at == "2023-11-14T22:13:20Z"  # the commit's time, not today
    assert catalog.source.repository == str(source.path)  # both clones name the same origin
    assert catalog.dev_build is False


def test_catalog_embeds_each_manifest_with_its_blake3_and_units(tmp_path: Path) -> None:
    source = two_app_repo(tmp_path / "repo")
    result = build_catalog(BuildOptions(repo=source.path, out_dir=tmp_path / "dist"))

    app = result.catalog.apps["demo-two"]
    from_git = parse_manifest((source.path / "apps/demo-two/manifest.yml").read_bytes(), "m")
    assert app.manifest == from_git
    assert app.manifest_blake3 == blake3_hex(manifest_canonical(from_git))
    assert (app.version, app.revision) == ("2.5", 1)
    assert "archy-net.network" in app.units
    assert any(name.endswith(".container") for name in app.units)
    assert app.icon is not None
    icon_file = tmp_path / "dist" / "targets" / app.icon.target
    assert blake3_hex(icon_file.read_bytes()) == app.icon.blake3
    outputs = json.loads((tmp_path / "dist" / "outputs.json").read_text())
    assert outputs["icons/demo-two.svg"]["target"] == app.icon.target
    catalog_target = tmp_path / "dist" / "targets" / outputs["app-catalog.json"]["target"]
    assert catalog_target.read_bytes() == result.catalog_bytes


def test_an_older_commit_builds_from_its_own_tree_not_the_work_tree(tmp_path: Path) -> None:
    source = two_app_repo(tmp_path / "repo")
    first = source.repo.head.commit.hexsha
    source.add_app("demo-three", port=18082)
    source.commit("a third app", date="2024-01-01T00:00:00+00:00")

    result = build_catalog(
        BuildOptions(repo=source.path, revision=first, out_dir=tmp_path / "dist")
    )
    assert sorted(result.catalog.apps) == ["demo-one", "demo-two"]
    assert result.catalog.source.commit == first
