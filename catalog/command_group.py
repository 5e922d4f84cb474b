"""The command layer both programs share: a lazily imported click group that turns a
``Refused`` into one printed line and exit code 1.

``archy --help`` must not import boto3 or GitPython and ``archy-node tuf refresh``
must not load the apply engine, so each program lists its commands as
``name -> ("module:attribute", short help)`` and a command's module is imported only
when it runs (``--help`` shows the short help without importing it).

Refusals are mapped here, once: any ``catalog.refusal.Refused`` that escapes a
command prints ``error: …`` (and ``hint: …``) to stderr and exits 1.  Anything else
is a crash and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

import click

from catalog.refusal import Refused

# command name -> ("module:attribute" of its click command, one-line help)
CommandTable = Mapping[str, tuple[str, str]]


def load_command(target: str) -> click.Command:
    """Import ``module:attribute`` and check that it is a click command."""
    module_name, attribute = target.split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


def print_refusal(refusal: Refused) -> None:
    for line in refusal.lines():
        click.echo(line, err=True)


class LazyGroup(click.Group):
    """A group whose ``lazy`` commands are imported on first use, listed in table order
    after any commands defined in place, and whose refusals exit 1 with one line."""

    def __init__(self, *args: Any, lazy: CommandTable | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, tuple[str, str]] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        defined = [name for name in super().list_commands(ctx) if name not in self.lazy]
        return [*defined, *self.lazy]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return load_command(self.lazy[cmd_name][0])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as refusal:
            print_refusal(refusal)
            sys.exit(1)
