"""How ``archy build`` and ``archy images lock`` show their work: a progress bar and a refusal.

The progress bar is drawn on stderr only for a person at a terminal.  A refusal
lists every problem (``error: …``, after the collapsed warnings) and ends with
``<what> refused (N errors); nothing was written`` and an optional hint; with
``--json`` it is one ``{"ok": false, "errors": …, "warnings": …}`` document on stdout
and nothing on stderr.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from pipeline.commands.console import stderr
from pipeline.commands.reported import Reported
from pipeline.digest_warnings import collapse_build_warnings

SUMMARY_JSON_HELP = "Print a JSON summary on stdout."


class RichProgress:
    """A progress bar per long step, on stderr; silent when ``quiet``."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[item]}"),
            console=stderr,
            transient=True,
            disable=quiet or not stderr.is_terminal,  # a bar only for a person at a terminal
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def start(self, step: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(step, total=total, item="")
        if not self.quiet:
            stderr.print(f"{step} ({total})", style="dim", markup=False)

    def advance(self, item: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=1, item=item)


def problems_refused(
    problems: list[str],
    warnings: list[str],
    as_json: bool,
    what: str = "build",
    hint: str | None = None,
) -> Reported:
    """The refusal to raise (its JSON document already printed when ``as_json``)."""
    summary = f"{what} refused ({len(problems)} errors); nothing was written"
    if as_json:
        document: dict[str, Any] = {"ok": False, "errors": problems, "warnings": warnings}
        if hint is not None:
            document["hint"] = hint
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return Reported(summary)
    shown = [f"warning: {warning}" for warning in collapse_build_warnings(warnings)]
    shown += [f"error: {problem}" for problem in problems]
    shown.append(summary)
    if hint is not None:
        shown.append(hint)
    return Reported(summary, shown)
