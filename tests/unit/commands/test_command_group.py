"""The shared command layer: lazily imported commands, and a refusal mapped to one line
and exit 1 in one place (catalog.command_group)."""

from __future__ import annotations

import sys

import click
from click.testing import CliRunner

from catalog.command_group import LazyGroup
from catalog.refusal import Refused


class _NoSuchApp(Refused):
    pass


@click.command()
@click.option("--hint", is_flag=True)
def refusing(hint: bool) -> None:
    raise _NoSuchApp("demo: no such app", hint="run `archy app new demo`" if hint else None)


@click.command()
def crashing() -> None:
    raise RuntimeError("a bug")


def _group() -> click.Group:
    table = {
        "refusing": (f"{__name__}:refusing", "Always refuses."),
        "crashing": (f"{__name__}:crashing", "Always crashes."),
    }
    return LazyGroup(name="demo", lazy=table)


def test_a_refusal_prints_one_error_line_and_exits_1() -> None:
    result = CliRunner().invoke(_group(), ["refusing"])
    assert result.exit_code == 1
    assert result.stderr == "error: demo: no such app\n"
    assert result.stdout == ""


def test_a_refusal_with_a_hint_prints_the_hint_on_a_second_line() -> None:
    result = CliRunner().invoke(_group(), ["refusing", "--hint"])
    assert result.exit_code == 1
    assert result.stderr == "error: demo: no such app\nhint: run `archy app new demo`\n"


def test_a_crash_is_not_mapped_to_a_refusal() -> None:
    result = CliRunner().invoke(_group(), ["crashing"])
    assert isinstance(result.exception, RuntimeError)
    assert "error:" not in result.stderr


def test_help_lists_lazy_commands_without_importing_them() -> None:
    table = {"later": ("tests_not_a_module_anywhere:command", "Imported on use.")}
    result = CliRunner().invoke(LazyGroup(name="demo", lazy=table), ["--help"])
    assert result.exit_code == 0
    assert "  later  Imported on use." in result.stdout
    assert "tests_not_a_module_anywhere" not in sys.modules
