"""What ``archy`` loads: a command's module only when it runs, and never boto3, GitPython or httpx
for ``--help`` and ``validate``.

Each case runs ``archy`` in a fresh interpreter (as a user does) and reads ``sys.modules`` after
the command finished; nothing is inferred from the source text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realparts import REPO_ROOT

HEAVY = ("boto3", "botocore", "git", "httpx")
PROBE = """\
import json, sys
from pipeline.cli import main
report, args = sys.argv[1], sys.argv[2:]
try:
    main(args)
except SystemExit as done:
    code = done.code
else:
    code = 0
with open(report, "w") as out:
    json.dump({"code": code, "loaded": sorted(sys.modules)}, out)
"""


def loaded_by(tmp_path: Path, *args: str) -> tuple[object, set[str]]:
    """Run ``archy ARGS`` in a new interpreter: its exit code and the modules it left loaded."""
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    document = json.loads(report.read_text())
    return document["code"], set(document["loaded"])


def heavy(loaded: set[str]) -> set[str]:
    return {name.split(".")[0] for name in loaded if name.split(".")[0] in HEAVY}


def test_archy_help_loads_no_command_module_and_nothing_heavy(tmp_path: Path) -> None:
    code, loaded = loaded_by(tmp_path, "--help")

    assert code == 0
    assert heavy(loaded) == set()
    assert {name for name in loaded if name.startswith("pipeline.commands.")} == set()


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_archy_validate_of_a_real_app_loads_only_its_own_command_and_nothing_heavy(
    tmp_path: Path, extra: list[str]
) -> None:
    code, loaded = loaded_by(tmp_path, "validate", *extra, "apps/adguard-home")

    assert code == 0
    assert heavy(loaded) == set()
    assert "pipeline.commands.validate" in loaded
    assert "pipeline.commands.build" not in loaded
    assert "pipeline.commands.publish" not in loaded


def test_a_refused_validate_loads_nothing_heavy_either(tmp_path: Path) -> None:
    bad = tmp_path / "bad-app"
    bad.mkdir()
    (bad / "manifest.yml").write_text("schema: 1\nid: Bad App\n")

    code, loaded = loaded_by(tmp_path, "validate", str(bad))

    assert code == 1
    assert heavy(loaded) == set()


def test_the_probe_sees_heavy_modules_when_a_command_does_load_them(tmp_path: Path) -> None:
    """Without this, an empty set above could mean the probe sees nothing."""
    _code, loaded = loaded_by(tmp_path, "build", "--help")

    assert "httpx" in heavy(loaded)  # the image lock's registry client
    assert "git" not in heavy(loaded)  # GitPython waits until a repository is opened
    assert "pipeline.commands.build" in loaded


def test_the_app_run_path_loads_no_gitpython() -> None:
    """``archy app run`` works on a machine without git: GitPython refuses to even import
    there, so nothing on the run path may import it (only a build opens a repository)."""
    probe = "import sys\nimport pipeline.appdev.local_run\nprint('git' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={"PATH": "/nonexistent"},
        check=False,
        timeout=120,
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "False", "")
