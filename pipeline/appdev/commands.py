"""``archy app new|run``: the app developer's commands (registered in ``archy app``)."""

from __future__ import annotations

import json
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
