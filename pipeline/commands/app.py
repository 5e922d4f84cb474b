"""``archy app new|run|test``: create an app from a template, run it on a throwaway node, gate it.

The library is ``pipeline.appdev``; its refusals (``ScaffoldRefused``,
``LocalRunRefused``) are raised again here as ``Refused`` with the same lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.refusal import Refused
from pipeline.appdev.scaffold import TEMPLATES, ScaffoldRefused, create_app
from pipeline.commands.console import stdout
from pipeline.commands.options import apps_dir_option, dist_option, json_option
from pipeline.commands.reported import Reported

if TYPE_CHECKING:  # the local run's modules load only when `app run` or `app test` runs
    from pipeline.appdev.local_repository import LocalRunRefused

APPS_DIR_HELP = "The folder of apps."


def _local_run_refused(error: LocalRunRefused) -> Reported:
    """``LocalRunRefused``'s lines: manifest problems as they are, anything else as ``error:``."""
    shown = [line if error.problems else f"error: {line}" for line in error.lines]
    return Reported(str(error), shown)


@click.command("new")
@click.argument("app_id", metavar="ID")
@click.option(
    "--template",
    type=click.Choice(TEMPLATES),
    default="web",
    show_default=True,
    help="web: one container; web+db: the app and a PostgreSQL member; bitcoin: an app that "
    "needs the bitcoin capability.",
)
@click.option("--companion", is_flag=True, help="Add a build/ context for a companion image.")
@apps_dir_option(APPS_DIR_HELP)
@json_option("Print what was written as JSON.")
def app_new(app_id: str, template: str, companion: bool, apps_dir: Path, as_json: bool) -> None:
    """Create APPS_DIR/ID/ from a template: a commented manifest.yml and an icon.svg.

    The result passes `archy validate` as generated; nothing is written if ID is malformed
    or taken.
    """
    try:
        result = create_app(apps_dir, app_id, template, companion)
    except ScaffoldRefused as error:
        raise Refused(str(error)) from None
    if as_json:
        click.echo(json.dumps({
            "app": app_id, "template": template, "host_port": result.host_port,
            "files": [str(path) for path in result.files],
        }, indent=2))  # fmt: skip
        return
    for path in result.files:
        stdout.print(f"wrote {path}", markup=False)
    target = apps_dir / app_id if template != "bitcoin" else apps_dir
    stdout.print(
        f"next: edit {result.folder / 'manifest.yml'}, then `archy validate {target}` and "
        f"`archy app run {app_id}`",
        markup=False,
    )


@click.command("run")
@click.argument("app_id", metavar="ID")
@click.option("--down", is_flag=True, help="Remove the app and its throwaway node (data too).")
@click.option("--follow", is_flag=True, help="Then follow the members' logs (podman engine).")
@apps_dir_option(APPS_DIR_HELP)
@dist_option("The throwaway node lives in DIST/app-run/ID/.")
@json_option("Print the result as JSON.")
def app_run(
    app_id: str, down: bool, follow: bool, apps_dir: Path, dist: Path, as_json: bool
) -> None:
    """Install ID (as it is in APPS_DIR, uncommitted edits included) on a throwaway local node.

    The manifest goes through the production checks and renderer, a one-app catalog is
    signed with throwaway keys, and the real `archy-node` pulls, installs and applies it.
    The engine is podman when it has every image here, else stage (nothing started).
    """
    from pipeline.appdev.local_repository import LocalRunRefused, find_app_folder
    from pipeline.appdev.local_run import member_names, run_app, stop_app

    try:
        if down:
            engine = stop_app(dist, app_id)
            stdout.print(f"{app_id}: removed with its data (engine {engine})", markup=False)
            return
        folder = find_app_folder(apps_dir, app_id)
        say = (lambda line: None) if as_json else (lambda line: stdout.print(line, markup=False))
        run = run_app(folder, dist, say)
    except LocalRunRefused as error:
        raise _local_run_refused(error) from None
    if as_json:
        click.echo(json.dumps({
            "app": run.app_id, "engine": run.engine, "why": run.why, "sandbox": str(run.sandbox),
            "results": run.results, "urls": run.urls,
            "secret_files": [str(path) for path in run.secret_files], "notes": run.notes,
        }, indent=2))  # fmt: skip
        if run.failed:
            raise Reported(f"{app_id}: failed")
        return
    for entry in run.results:
        reason = f" ({entry['reason']})" if entry.get("reason") else ""
        stdout.print(f"{run.app_id}: {entry['status']}{reason}", markup=False)
    for note in run.notes:
        stdout.print(f"note: {note}", markup=False)
    for url in run.urls:
        stdout.print(f"open: {url}", markup=False)
    for path in run.secret_files:
        stdout.print(f"credential: {path.name} in {path} (0600; not printed)", markup=False)
    stdout.print(f"remove it with: archy app run {app_id} --down", markup=False)
    if run.failed:
        raise Reported(f"{app_id}: failed")
    if follow:
        if run.engine != "podman":
            stdout.print("nothing to follow: the stage engine started no container", markup=False)
            return
        names = member_names(folder)
        followed = subprocess.run(["podman", "logs", "--follow", "--names", *names], check=False)
        sys.exit(followed.returncode)


@click.command("test")
@click.argument("app_id", metavar="ID")
@click.option("--rounds", type=click.IntRange(min=1), default=1, show_default=True)
@apps_dir_option(APPS_DIR_HELP)
def app_test(app_id: str, rounds: int, apps_dir: Path) -> None:
    """Put ID through the lifecycle gate (rootless Podman, the real agent) and print the matrix.

    Steps: install, ui, stop, start, restart, reinstall, reboot, agent-restart, uninstall,
    purge; exit 1 on any failed cell, with the step's reason and the members' last log
    lines. ID is looked up in APPS_DIR, then among the gate's own test apps. As root, the
    containers run as the rootless test user ($ARCHY_TEST_USER, default archytest, made by
    scripts/setup-test-env), whose podman must already hold the app's images.
    """
    from pipeline.appdev.lifecycle_gate import find_gate_app, gate_command
    from pipeline.appdev.local_repository import LocalRunRefused

    try:
        folder = find_gate_app(apps_dir, app_id)
    except LocalRunRefused as error:
        raise _local_run_refused(error) from None
    argv, env, cwd = gate_command(folder, rounds)
    stdout.print(f"lifecycle gate: {app_id} ({folder}), {rounds} round(s)", markup=False)
    gate = subprocess.run(argv, env=env, cwd=cwd, check=False)
    if gate.returncode != 0:
        raise Reported(f"{app_id}: the lifecycle gate failed")
