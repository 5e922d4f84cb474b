"""``archy import umbrel|casaos``: thin click commands over ``run_import`` (pipeline.importer.run).

People get one line per problem on stderr and a summary table; ``--json``
prints the run as one object.  Exit 0 when every app was imported (with or
without warnings), 1 when any was refused or the target apps/ does not
validate afterwards, 2 for usage errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from pipeline.commands.console import stderr, stdout
from pipeline.commands.options import apps_dir_option, json_option
from pipeline.commands.reported import Reported
from pipeline.importer.run import ImportRun, Store, find_sources, run_import
from pipeline.tables import print_table

STATUS_STYLE = {"imported": "green", "warnings": "yellow", "refused": "red"}


def _print(run: ImportRun, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(run.as_json(), indent=2, sort_keys=False))
        return
    for result in run.results:
        for reason in result.reasons:
            style = "red" if reason.severity == "refusal" else "yellow"
            label = "refused" if reason.severity == "refusal" else "warning"
            stderr.print(f"{result.app_id}: {label}: {reason}", style=style, markup=False)
    table = Table(title="Imported apps", title_justify="left")
    for column in ("app", "source", "status", "reasons"):
        table.add_column(column)
    for result in run.results:
        codes = sorted({reason.code for reason in result.reasons})
        table.add_row(
            result.app_id,
            result.source,
            f"[{STATUS_STYLE[result.status]}]{result.status}[/]",
            ", ".join(codes) or "-",
        )
    print_table(stdout, table)
    counts = run.reason_counts()
    if counts:
        by_code = Table(title="Reasons by code", title_justify="left")
        for column in ("code", "apps", "refused", "meaning"):
            by_code.add_column(column)
        for code, count in counts.items():
            by_code.add_row(code, str(count["apps"]), str(count["refused_apps"]), count["meaning"])
        print_table(stdout, by_code)
    totals = run.as_json()["counts"]
    stdout.print(
        f"{len(run.results)} apps: {totals['imported']} imported, {totals['warnings']} imported "
        f"with warnings, {totals['refused']} refused",
        markup=False,
    )
    if run.final_validation is not None and not run.final_validation.ok:
        for problem in run.final_validation.errors:
            stderr.print(f"apps dir: {problem}", style="red", markup=False)


def _command(store: Store) -> click.Command:
    @click.command(
        store,
        help=f"Convert {'Umbrel' if store == 'umbrel' else 'CasaOS'} apps into "
        "manifests under --apps-dir.\n\nDIR is one app's folder; --all PARENT imports "
        "every app folder of a store checkout. Nothing is overwritten without --force; "
        "an app that cannot be imported is refused with its reasons and nothing of it "
        "is written.",
    )
    @click.argument(
        "folder",
        metavar="DIR",
        required=False,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
    )
    @click.option(
        "--all",
        "parent",
        metavar="PARENT",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="Import every app folder under PARENT (a store checkout).",
    )
    @apps_dir_option("Where manifests are written.")
    @click.option("--force", is_flag=True, help="Replace apps that already exist in --apps-dir.")
    @json_option("Print a machine-readable summary.")
    def command(
        folder: Path | None, parent: Path | None, apps_dir: Path, force: bool, as_json: bool
    ) -> None:
        if (folder is None) == (parent is None):
            raise click.UsageError("give one app folder DIR, or --all PARENT")
        folders = [folder] if folder is not None else find_sources(store, parent)  # type: ignore[arg-type]
        if not folders:
            raise click.UsageError(f"no {store} app folders under {parent}")
        run = run_import(store, folders, apps_dir, force, validate_all=parent is not None)
        _print(run, as_json)
        if not run.ok:  # the reasons are printed above (or in the JSON document)
            raise Reported(f"{store} import refused")

    return command


@click.group("import")
def import_group() -> None:
    """Convert apps of other stores (Umbrel, CasaOS) into manifests, saying what did not convert."""


import_group.add_command(_command("umbrel"))
import_group.add_command(_command("casaos"))
