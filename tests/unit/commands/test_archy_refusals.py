"""How ``archy`` refuses, now that every command raises ``Refused`` and one place prints it.

Each case runs ``archy`` as a process and checks what a user sees: the exact lines on stderr,
the ``--json`` document on stdout, exit code 1, no traceback, and nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.refusal import Refused
from pipeline.commands.reported import Reported
from tests.realparts import REPO_ROOT

ARCHY = [sys.executable, "-m", "pipeline.cli"]


def archy(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*ARCHY, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr  # a refusal, never a crash
    return done


@pytest.fixture
def bad_app(tmp_path: Path) -> Path:
    folder = tmp_path / "apps" / "bad"
    folder.mkdir(parents=True)
    (folder / "manifest.yml").write_text("schema: 1\nid: Bad App\nrevision: zero\n")
    return folder


def test_a_reported_refusal_prints_exactly_its_own_lines_and_a_plain_one_prints_error() -> None:
    assert Reported("2 problems", ["a.yml:1: x", "a.yml:2: y"]).lines() == [
        "a.yml:1: x",
        "a.yml:2: y",
    ]
    assert Reported("already reported").lines() == []
    assert isinstance(Reported("x"), Refused)


def test_a_refused_render_prints_one_line_per_problem_and_writes_nothing(
    tmp_path: Path, bad_app: Path
) -> None:
    done = archy(tmp_path, "app", "render", "bad", "--out", "units")
    as_json = archy(tmp_path, "app", "render", "bad", "--json")

    lines = done.stderr.splitlines()
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(lines) == 12
    assert "apps/bad/manifest.yml:3: revision: expected a whole number" in lines
    assert all(line.startswith("apps/bad/manifest.yml:") for line in lines)
    assert not (tmp_path / "units").exists()
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {"ok": False, "errors": lines}


def test_an_unknown_app_is_one_error_line_and_with_json_also_a_document(tmp_path: Path) -> None:
    done = archy(tmp_path, "app", "render", "nothere", "--json")

    message = "nothere: no such app (looked for apps/nothere/manifest.yml)"
    assert done.returncode == 1
    assert done.stderr == f"error: {message}\n"
    assert json.loads(done.stdout) == {"ok": False, "errors": [message]}


def test_a_ceremony_refusal_with_json_prints_the_document_and_the_error_line(
    tmp_path: Path,
) -> None:
    done = archy(tmp_path, "ceremony", "status", "--dir", "nope", "--json")

    message = "nope: no ceremony here (run `archy ceremony init` first)"
    assert done.returncode == 1
    assert done.stderr == f"error: {message}\n"
    assert json.loads(done.stdout) == {"ok": False, "error": message}


def test_a_refused_build_lists_its_problems_then_the_verdict_and_json_keeps_stderr_empty(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    done = archy(tmp_path, "build", "--dev")
    as_json = archy(tmp_path, "build", "--dev", "--json")

    assert done.returncode == 1
    assert done.stderr == (
        "error: . has no commits yet\nbuild refused (1 errors); nothing was written\n"
    )
    assert as_json.returncode == 1
    assert as_json.stderr == ""
    assert json.loads(as_json.stdout) == {
        "ok": False,
        "errors": [". has no commits yet"],
        "warnings": [],
    }
    assert not (tmp_path / "dist").exists()


def test_dev_flow_without_its_passphrase_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    done = archy(tmp_path, "dev-flow")
    weak = archy(tmp_path, "dev-flow", env={"ARCHY_DEV_PASSPHRASE": "short"})

    assert done.returncode == 1
    assert done.stderr == (
        "error: set ARCHY_DEV_PASSPHRASE (the passphrase for the throwaway dev keys)\n"
    )
    assert weak.returncode == 1
    assert weak.stderr.startswith("error: ARCHY_DEV_PASSPHRASE: ")
    assert len(weak.stderr.splitlines()) == 1
    assert not (tmp_path / "dist").exists()


def test_a_refused_validate_exits_1_after_its_report_with_no_extra_line(
    tmp_path: Path, bad_app: Path
) -> None:
    done = archy(tmp_path, "validate", str(bad_app))

    assert done.returncode == 1
    assert not any(line.startswith("error:") for line in done.stderr.splitlines())
    assert done.stdout.strip().endswith("0 apps checked: 12 errors, 0 warnings")
