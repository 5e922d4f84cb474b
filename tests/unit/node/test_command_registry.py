"""The ``archy-node`` registry (node_runtime.commands): every listed command loads and is
the command it is listed as, ``--help`` and ``version`` load only what they need, and a
refusal from any command is one ``error:`` line and exit 1 with no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from catalog.command_group import load_command
from node_runtime.commands import COMMANDS, main
from tests.realparts import REPO_ROOT

PUBLISHER_ONLY = ("boto3", "botocore", "git", "jinja2", "pipeline")


def loaded_modules(*args: str) -> set[str]:
    """The modules a fresh ``archy-node ARGS`` has imported when it finishes."""
    program = (
        "import json, sys\n"
        "from node_runtime.commands import main\n"
        "try:\n"
        f"    main({list(args)!r}, prog_name='archy-node')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_every_listed_command_loads_under_its_own_name() -> None:
    for name, (target, short_help) in COMMANDS.items():
        command = load_command(target)
        assert isinstance(command, click.Command)
        assert command.name == name, target
        assert short_help.endswith(".") and len(short_help) < 60


def test_help_lists_every_command_in_table_order() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:\n")[1].splitlines()]
    assert listed == list(COMMANDS)


def test_help_and_version_import_neither_the_apply_engine_nor_the_publisher() -> None:
    for args in (["--help"], ["version"], ["--version"]):
        modules = loaded_modules(*args)
        assert "node_runtime.apply" not in modules, args
        assert "httpx" not in modules, args
        assert not {name.split(".")[0] for name in modules} & set(PUBLISHER_ONLY), args


def test_a_refused_command_prints_one_error_line_and_exits_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "node_runtime", "status", "--state-root", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"error: this node is not initialised ({tmp_path / 's'} has no config.json); run "
        f"`archy-node init --root ROOT.json --origin URL --state-root {tmp_path / 's'}` first\n"
    )
