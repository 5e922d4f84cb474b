"""Running ``archy import`` on the fixture apps the way a user does, and reading what it left."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.cli import main

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURES = HERE / "fixtures"
EXPECTED = FIXTURES / "expected"
TARGET = FIXTURES / "target"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    apps_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.stdout)
        return document


def fresh_target(tmp_path: Path) -> Path:
    """A copy of the small target catalog (bitcoin-core, lnd, electrs, tor, thunderhub)."""
    apps = tmp_path / "apps"
    shutil.copytree(TARGET, apps)
    return apps


def archy(*args: str) -> tuple[int, str, str]:
    """Run the real CLI in-process from the repository root; (exit code, stdout, stderr)."""
    cwd = Path.cwd()
    os.chdir(REPO)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    finally:
        os.chdir(cwd)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"archy crashed: {result.exception!r}\n{result.stderr}")
    return result.exit_code, result.stdout, result.stderr


def import_app(store: str, name: str, apps: Path, *extra: str) -> Outcome:
    source = f"tests/unit/importer/fixtures/{store}/{name}"
    code, out, err = archy("import", store, source, "--apps-dir", str(apps), "--json", *extra)
    return Outcome(code, out, err, apps)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show nothing changed)."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def without_tmp(text: str, apps: Path) -> str:
    return text.replace(str(apps), "<apps>")
