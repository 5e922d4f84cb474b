"""``archy app render``: one app's Quadlet units, printed or written to a folder.

The manifest is validated first; a refused one prints one line per problem (or an
``{"ok": false, "errors": […]}`` document with ``--json``) and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from catalog.problems import ManifestError
from catalog.refusal import Refused
from pipeline.commands.options import apps_dir_option, json_option
from pipeline.commands.reported import Reported
from pipeline.render import render_app_folder, write_units


def _app_folder(app_ref: str, apps_dir: Path, as_json: bool) -> Path:
    """APP as a folder: a path holding manifest.yml, else ``apps_dir/APP``."""
    folder = Path(app_ref)
    if not (folder / "manifest.yml").exists():
        folder = apps_dir / app_ref
    if not (folder / "manifest.yml").exists():
        message = f"{app_ref}: no such app (looked for {folder / 'manifest.yml'})"
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": [message]}))
        raise Refused(message)
    return folder


@click.command("render")
@click.argument("app_ref", metavar="APP")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the units into this directory (default: print them).",
)
@apps_dir_option("Where APP is looked up when it is an id rather than a path.")
@click.option(
    "--data-root",
    default="/var/lib/archipelago",
    show_default=True,
    help="The node's data root that volumes live under.",
)
@json_option("Print the units (or paths) as JSON.")
def app_render(
    app_ref: str, out: Path | None, apps_dir: Path, data_root: str, as_json: bool
) -> None:
    """Render APP (an id under apps/, or an app folder) to Quadlet units.

    The manifest is validated first (schema and policy); nothing is written
    if it is refused.
    """
    folder = _app_folder(app_ref, apps_dir, as_json)
    try:
        units = render_app_folder(folder, data_root=data_root)
    except ManifestError as error:
        problems = [str(problem) for problem in error.problems]
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": problems}))
        raise Reported(f"{folder}: refused", problems) from None
    if as_json:
        document: dict[str, object] = {"ok": True, "app": folder.name}
        if out is None:
            document["units"] = units
        else:
            document["written"] = [str(path) for path in write_units(units, out)]
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    if out is None:
        for name, text in units.items():
            click.echo(f"# --- {name} ---")
            click.echo(text, nl=False)
        return
    for path in write_units(units, out):
        click.echo(str(path))
