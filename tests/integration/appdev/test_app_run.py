"""``archy app run``: one app on a throwaway node through the real agent (stage engine here).

The stage engine is forced by a PATH without podman (a machine without it); the
agent itself is the real ``archy-node`` command, run as a subprocess.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.runtime_names import member_unit_name
from pipeline.cli import main
from pipeline.render import render_app_folder


def archy(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")  # no podman: the stage engine, said aloud
    assert archy("app", "new", "demo-notes", "--template", "web+db")[0] == 0
    return tmp_path


def test_run_stages_the_app_and_says_what_the_owner_gets(workspace: Path) -> None:
    code, stdout, stderr = archy("app", "run", "demo-notes")
    assert (code, stderr) == (0, "")
    sandbox = workspace / "dist/app-run/demo-notes"
    assert stdout.splitlines() == [
        "engine: stage (podman is not installed)",
        f"demo-notes: staged (units written to {sandbox / 'units'}, not started (the stage "
        "engine starts nothing))",
        "open: http://127.0.0.1:18000/ (web UI)",
        f"credential: db-password in {sandbox / 'state/secrets/demo-notes/db-password'} "
        "(0600; not printed)",
        "remove it with: archy app run demo-notes --down",
    ]
    secret = sandbox / "state/secrets/demo-notes/db-password"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text() not in stdout
    expected = render_app_folder(workspace / "apps/demo-notes", str(sandbox / "data"))
    for name, text in expected.items():
        assert (sandbox / "units" / name).read_text() == text
    assert (sandbox / "data/demo-notes").is_dir()


def test_uncommitted_edits_are_what_runs(workspace: Path) -> None:
    manifest = workspace / "apps/demo-notes/manifest.yml"
    manifest.write_text(manifest.read_text().replace("TZ: UTC", "TZ: Europe/Berlin"))
    assert archy("app", "run", "demo-notes")[0] == 0
    unit = workspace / "dist/app-run/demo-notes/units/archy-demo-notes_demo-notes.container"
    assert 'Environment="TZ=Europe/Berlin"' in unit.read_text()


def test_a_second_run_replaces_the_first_and_down_removes_it(workspace: Path) -> None:
    assert archy("app", "run", "demo-notes")[0] == 0
    code, stdout, _ = archy("app", "run", "demo-notes")
    assert code == 0
    assert stdout.startswith("replacing the previous throwaway node in ")
    code, stdout, stderr = archy("app", "run", "demo-notes", "--down")
    assert (code, stdout, stderr) == (0, "demo-notes: removed with its data (engine stage)\n", "")
    assert not (workspace / "dist/app-run/demo-notes").exists()


def test_an_invalid_manifest_is_refused_with_its_line_and_nothing_runs(workspace: Path) -> None:
    manifest = workspace / "apps/demo-notes/manifest.yml"
    text = manifest.read_text()
    line = text.splitlines().index("      memory: 256m") + 1
    manifest.write_text(text.replace("memory: 256m", "memory: lots"))
    code, stdout, stderr = archy("app", "run", "demo-notes")
    assert code == 1 and stdout == ""
    assert stderr.startswith(f"apps/demo-notes/manifest.yml:{line}: containers[0].resources.memory")
    assert "Traceback" not in stderr
    assert not (workspace / "dist/app-run").exists()


def test_an_unknown_app_is_refused(workspace: Path) -> None:
    code, _, stderr = archy("app", "run", "no-such-app")
    assert (code, stderr) == (
        1, "error: no-such-app: no such app (looked for apps/no-such-app/manifest.yml)\n"
    )  # fmt: skip


def test_down_when_nothing_runs_is_refused(workspace: Path) -> None:
    code, _, stderr = archy("app", "run", "demo-notes", "--down")
    sandbox = (workspace / "dist/app-run/demo-notes").resolve()
    assert (code, stderr) == (1, f"error: demo-notes: not running here (no {sandbox})\n")


def test_follow_on_the_stage_engine_says_there_is_nothing_to_follow(workspace: Path) -> None:
    code, stdout, _ = archy("app", "run", "demo-notes", "--follow")
    assert code == 0
    assert stdout.splitlines()[-1] == "nothing to follow: the stage engine started no container"


def test_a_bitcoin_app_runs_with_its_providers_in_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node refuses an app whose capability no installed app provides: the providers go
    into the throwaway catalog (checked like the app) and the first one is installed too."""
    import shutil

    from catalog.catalog_model import parse_catalog

    shutil.copytree(Path(__file__).resolve().parents[3] / "apps", tmp_path / "apps")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert archy("app", "new", "demo-btc", "--template", "bitcoin")[0] == 0
    code, stdout, stderr = archy("app", "run", "demo-btc")
    assert (code, stderr) == (0, "")
    assert "demo-btc: staged (units written to " in stdout
    assert "not started (the stage engine starts nothing))" in stdout
    assert (
        "note: requires bitcoin: installed bitcoin-core to provide it "
        "(bitcoin-knots also provide it)"
    ) in stdout
    repo = tmp_path / "dist/app-run/demo-btc/repo/targets"
    [catalog_file] = repo.glob("*.app-catalog.json")
    assert sorted(parse_catalog(catalog_file.read_bytes()).apps) == [
        "bitcoin-core", "bitcoin-knots", "demo-btc",
    ]  # fmt: skip
    units = sorted(p.name for p in (tmp_path / "dist/app-run/demo-btc/units").iterdir())
    assert units == sorted(
        [
            "archy-demo-btc_demo-btc.container",
            *(f"{member_unit_name('bitcoin-core', m)}.container" for m in ("bitcoind",)),
            "archy-net.network",
        ]
    )
