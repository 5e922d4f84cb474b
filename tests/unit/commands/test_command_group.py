"""The shared command layer: lazily imported commands, and a refusal mapped to one line
and exit 1 in one place (catalog.command_group)."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from catalog.command_group import LazyGroup, load_command
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


def test_a_refusal_reads_as_its_message_wherever_it_is_shown() -> None:
    refusal = _NoSuchApp("demo: no such app", hint="run `archy app new demo`")
    assert str(refusal) == "demo: no such app"
    assert repr(refusal) == "_NoSuchApp('demo: no such app')"  # what a log or a crash shows
    assert refusal.lines() == ["error: demo: no such app", "hint: run `archy app new demo`"]
    assert Refused("no", hint="").lines() == ["error: no"]  # an empty hint prints no line


def test_a_table_entry_that_is_not_a_click_command_is_a_crash_naming_it() -> None:
    with pytest.raises(TypeError) as raised:
        load_command(f"{__name__}:_group")
    assert str(raised.value) == f"{__name__}:_group is not a click command"


@click.command(help="Defined in place.")
def alpha() -> None:
    click.echo("alpha ran")


@click.command(hidden=True)
def secret() -> None:
    click.echo("secret ran")


@click.command(help="A long help text that goes on well past them and the width of a row.")
def verbose() -> None:
    pass


def _mixed_group() -> LazyGroup:
    """Commands defined in place (one hidden, one also in the table) and two lazy ones."""
    table = {
        "refusing": (f"{__name__}:refusing", "Always refuses."),
        "alpha": (f"{__name__}:refusing", "The table's alpha wins."),
        "crashing": (f"{__name__}:crashing", "Always crashes."),
    }
    group = LazyGroup("demo", lazy=table, help="A demo program.")
    group.context_settings["terminal_width"] = 60
    for command in (alpha, secret, verbose):
        group.add_command(command)
    return group


def test_help_lists_commands_defined_in_place_first_then_the_table_in_its_order() -> None:
    result = CliRunner().invoke(_mixed_group(), ["--help"])
    assert result.exit_code == 0
    assert result.stdout == (
        "Usage: demo [OPTIONS] COMMAND [ARGS]...\n"
        "\n"
        "  A demo program.\n"
        "\n"
        "Options:\n"
        "  --help  Show this message and exit.\n"
        "\n"
        "Commands:\n"
        # cut to the 47 characters a 60-column row leaves after "  verbose   "
        "  verbose   A long help text that goes on well past them...\n"
        "  refusing  Always refuses.\n"
        "  alpha     The table's alpha wins.\n"
        "  crashing  Always crashes.\n"
    )


def test_a_command_defined_in_place_runs_and_a_hidden_one_too() -> None:
    group = _mixed_group()
    assert CliRunner().invoke(group, ["secret"]).stdout == "secret ran\n"
    assert CliRunner().invoke(group, ["verbose"]).exit_code == 0
    refused = CliRunner().invoke(group, ["alpha"])  # the table's entry, not the one in place
    assert (refused.exit_code, refused.stderr) == (1, "error: demo: no such app\n")


def test_an_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(_mixed_group(), ["nothing"])
    assert result.exit_code == 2
    assert "Error: No such command 'nothing'." in result.stderr
