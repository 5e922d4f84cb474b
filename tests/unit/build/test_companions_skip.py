"""``companions="skip"``: a dev build leaves out apps whose companion must be built, says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.build_types import BuildOptions, BuildRefused
from pipeline.catalog_build import build_catalog
from pipeline.cli import main
from tests.support.apprepo import AppRepo


def repo_with_a_companion_app(path: Path) -> AppRepo:
    source = AppRepo(path)
    source.add_app("demo-plain")
    source.add_app("demo-built", port=18081, image="127.0.0.1:5000/demo/built:1.0", build=True)
    source.write("apps/demo-built/build/Containerfile", "FROM scratch\n")
    source.add_app("demo-local", port=18082, image="127.0.0.1:5000/demo/own:local", build=True)
    source.write("apps/demo-local/build/Containerfile", "FROM scratch\n")
    source.commit("apps")
    return source


def test_skip_leaves_out_companion_apps_with_a_warning_each(tmp_path: Path) -> None:
    source = repo_with_a_companion_app(tmp_path / "repo")

    result = build_catalog(
        BuildOptions(repo=source.path, out_dir=tmp_path / "dist", dev=True, companions="skip")
    )

    assert sorted(result.catalog.apps) == ["demo-local", "demo-plain"]  # :local is never built
    assert result.left_out == ["demo-built"]
    assert result.catalog.dev_build is True
    (warning,) = [w for w in result.warnings if "left out" in w]
    assert warning.startswith("apps/demo-built: left out of this dev build")
    summary = result.as_json()
    assert summary["dev_build"] is True
    assert summary["left_out"] == ["demo-built"]
    assert warning in summary["warnings"]


def test_a_publishing_build_refuses_to_skip_companions(tmp_path: Path) -> None:
    source = repo_with_a_companion_app(tmp_path / "repo")

    with pytest.raises(BuildRefused) as refused:
        build_catalog(BuildOptions(repo=source.path, out_dir=tmp_path / "dist", companions="skip"))

    assert "dev builds only" in refused.value.problems[0]
    assert not (tmp_path / "dist" / "app-catalog.json").exists()


def test_the_build_command_reports_what_it_left_out(tmp_path: Path) -> None:
    source = repo_with_a_companion_app(tmp_path / "repo")
    out = tmp_path / "dist"
    common = ["build", "--repo", str(source.path), "--out", str(out), "--companions", "skip"]

    refused = CliRunner().invoke(main, [*common, "--json"])
    as_json = CliRunner().invoke(main, [*common, "--dev", "--json"])
    text = CliRunner().invoke(main, [*common, "--dev", "--no-cache"])

    assert refused.exit_code == 1
    assert as_json.exit_code == 0, as_json.output
    summary = json.loads(as_json.stdout)
    assert (summary["dev_build"], summary["left_out"], summary["apps"]) == (
        True,
        ["demo-built"],
        2,
    )
    assert text.exit_code == 0, text.output
    assert "left out of this dev build (companions: skip): demo-built" in text.stdout
