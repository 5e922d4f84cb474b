"""``archy-node apply|start|stop|restart``: the commands that run apps.

Thin: each command calls one method of :class:`node_runtime.local_node.LocalNode`
(which holds the state lock while it changes anything and runs
:mod:`node_runtime.apply`) and prints the result (a table, or ``--json``).  Exit 0
when every app is fine, 1 when an app failed or the input/state was refused, 2 on a
usage error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from catalog.refusal import Refused
from node_runtime.apply.outcome import AppResult
from node_runtime.apply.purge import PurgeRefused
from node_runtime.commands.options import (
    data_root_option,
    engine_option,
    hook_source_option,
    json_option,
    state_root_option,
)
from node_runtime.engines.container_engine import EngineError
from node_runtime.local_node import LocalNode, engine_unit_dir
from node_runtime.store.paths import StateError


def _print_results(results: Sequence[AppResult], as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        document = {**extra, "apps": [result.to_document() for result in results]}
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    if extra.get("engine_slow"):
        click.echo(f"engine slow: {extra['engine_slow']}")
    if extra.get("unit_dir"):
        click.echo(f"engine {extra['engine']}: units in {extra['unit_dir']}")
    for moved in extra.get("migrated") or []:
        click.echo(f"renamed {moved}")
    if not results:
        click.echo("nothing to do")
    for result in results:
        detail = f": {result.reason}" if result.reason else ""
        version = result.version or "-"
        click.echo(f"{result.app_id:<24} {version:<14} {result.status}{detail}")
        for warning in result.warnings:
            click.echo(f"{'':<24} warning: {warning}")


def _finish(results: Sequence[AppResult], ok: bool, as_json: bool, extra: dict[str, Any]) -> None:
    _print_results(results, as_json, extra)
    raise SystemExit(0 if ok else 1)


def _print_plan(node: LocalNode, as_json: bool) -> None:
    steps = node.plan()
    if as_json:
        click.echo(json.dumps({"engine": node.engine.name, "steps": steps}, indent=2))
    else:
        click.echo("\n".join(steps) or "nothing to do")


@click.command("apply")
@click.option(
    "--purge",
    "purge",
    multiple=True,
    metavar="APP",
    help="Also delete the data and secrets of this uninstalled app (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print the steps apply would run, change nothing.")
@engine_option
@data_root_option
@hook_source_option
@json_option
@state_root_option
def apply_command(
    purge: tuple[str, ...],
    dry_run: bool,
    engine_name: str | None,
    data_root: Path | None,
    hook_sources: tuple[Path, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Bring the installed apps to the current catalog (and purge uninstalled ones if asked)."""
    node = LocalNode(state_root, engine_name, data_root, hook_sources)
    try:
        if dry_run:
            _print_plan(node, as_json)
            return
        report, purged = node.apply_and_purge(purge)
    except (StateError, PurgeRefused, EngineError) as error:
        raise Refused(str(error)) from None
    units = engine_unit_dir(node.engine)
    extra: dict[str, Any] = {
        "engine": report.engine,
        "engine_slow": report.engine_slow,
        "unit_dir": None if units is None else str(units),
        "migrated": report.migrated,
    }
    if purge:
        extra["purged"] = purged
    if not as_json:
        for app_id, removed in purged.items():
            click.echo(f"{app_id}: purged {', '.join(removed) or 'nothing (no data left)'}")
    _finish(list(report.results.values()), report.ok, as_json, extra)


@click.command("start")
@click.argument("app_id", metavar="APP")
@engine_option
@data_root_option
@hook_source_option
@json_option
@state_root_option
def start_command(
    app_id: str,
    engine_name: str | None,
    data_root: Path | None,
    hook_sources: tuple[Path, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Start APP's members in order, each once the one it needs is healthy."""
    _mark_stopped_and_apply(
        app_id, False, engine_name, data_root, as_json, state_root, hook_sources
    )


@click.command("stop")
@click.argument("app_id", metavar="APP")
@engine_option
@data_root_option
@json_option
@state_root_option
def stop_command(
    app_id: str, engine_name: str | None, data_root: Path | None, as_json: bool, state_root: Path
) -> None:
    """Stop APP (it stays stopped, also across reboots, until `archy-node start`)."""
    _mark_stopped_and_apply(app_id, True, engine_name, data_root, as_json, state_root)


def _mark_stopped_and_apply(
    app_id: str,
    stopped: bool,
    engine_name: str | None,
    data_root: Path | None,
    as_json: bool,
    state_root: Path,
    hook_sources: tuple[Path, ...] = (),
) -> None:
    node = LocalNode(state_root, engine_name, data_root, hook_sources)
    try:
        result = node.set_stopped(app_id, stopped)
    except (StateError, EngineError) as error:
        raise Refused(str(error)) from None
    _finish([result], result.status != "failed", as_json, {})


@click.command("restart")
@click.argument("app_id", metavar="APP")
@engine_option
@data_root_option
@hook_source_option
@json_option
@state_root_option
def restart_command(
    app_id: str,
    engine_name: str | None,
    data_root: Path | None,
    hook_sources: tuple[Path, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Restart APP's members in start order, waiting for each one's health."""
    node = LocalNode(state_root, engine_name, data_root, hook_sources)
    try:
        result = node.restart(app_id)
    except (StateError, EngineError) as error:
        raise Refused(str(error)) from None
    _finish([result], result.status != "failed", as_json, {})
