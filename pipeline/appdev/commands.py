"""``archy app new|run``: the app developer's commands (registered in ``archy app``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from rich.console import Console

from pipeline.appdev.scaffold import TEMPLATES, ScaffoldRefused, create_app

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

apps_dir_option = click.option(
    "--apps-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("apps"),
    show_default=True,
    help="The folder of apps.",
)


def refuse(message: str) -> None:
    stderr.print(f"error: {message}", style="red", markup=False)
    sys.exit(1)


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
@apps_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def app_new(app_id: str, template: str, companion: bool, apps_dir: Path, as_json: bool) -> None:
    """Create APPS_DIR/ID/ from a template: a commented manifest.yml and an icon.svg.

    The result passes `archy validate` as generated; nothing is written if ID is malformed
    or taken.
    """
    try:
        result = create_app(apps_dir, app_id, template, companion)
    except ScaffoldRefused as error:
        refuse(str(error))
        return
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
@apps_dir_option
@click.option(
    "--dist",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="The throwaway node lives in DIST/app-run/ID/.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
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
        for line in error.lines:
            stderr.print(line if error.problems else f"error: {line}", style="red", markup=False)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({
            "app": run.app_id, "engine": run.engine, "why": run.why, "sandbox": str(run.sandbox),
            "results": run.results, "urls": run.urls,
            "secret_files": [str(path) for path in run.secret_files], "notes": run.notes,
        }, indent=2))  # fmt: skip
        sys.exit(1 if run.failed else 0)
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
        sys.exit(1)
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
@apps_dir_option
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
        for line in error.lines:
            stderr.print(line if error.problems else f"error: {line}", style="red", markup=False)
        sys.exit(1)
    argv, env, cwd = gate_command(folder, rounds)
    stdout.print(f"lifecycle gate: {app_id} ({folder}), {rounds} round(s)", markup=False)
    gate = subprocess.run(argv, env=env, cwd=cwd, check=False)
    sys.exit(0 if gate.returncode == 0 else 1)
