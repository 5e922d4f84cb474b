"""``archy validate``, ``archy app validate``, ``archy schema``: check manifests, print the schema.

Exit 0 when every manifest passes (warnings allowed), 1 on any error: the report
(problems on stderr, a table on stdout, or the ``--json`` document) is printed
first, then a :class:`Reported` refusal with nothing more to say ends the command.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.table import Table

from pipeline.commands.console import stderr, stdout
from pipeline.commands.options import DEFAULT_APPS_DIR, json_option, require_digests_option
from pipeline.commands.reported import Reported
from pipeline.digest_warnings import collapse_problems
from pipeline.schema_export import policy_json_schema
from pipeline.tables import print_table
from pipeline.validation import ValidationReport, validate_paths

REPORT_JSON_HELP = "Print a machine-readable report."


def _print_report(report: ValidationReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
        return
    shown, unpinned = collapse_problems(report.problems)
    for problem in shown:
        style = "red" if problem.severity == "error" else "yellow"
        prefix = "" if problem.severity == "error" else "warning: "
        stderr.print(f"{prefix}{problem}", style=style, markup=False)
    if unpinned is not None:
        stderr.print(f"warning: {unpinned}", style="yellow", markup=False)
    failed = report.failed_files()
    table = Table(title="Apps", title_justify="left")
    for column in ("app", "version", "containers", "host ports", "status"):
        table.add_column(column)
    for app in sorted(report.apps, key=lambda each: each.app_id):
        manifest = app.source.manifest
        ports = sorted(
            {f"{port.host_port}/{port.protocol}" for m in manifest.containers for port in m.ports}
        )
        ok = app.source.filename not in failed
        table.add_row(
            manifest.id,
            f"{manifest.version}-r{manifest.revision}",
            str(len(manifest.containers)),
            ", ".join(ports) or "-",
            "[green]ok[/green]" if ok else "[red]refused[/red]",
        )
    print_table(stdout, table)
    summary = (
        f"{len(report.apps)} apps checked: {len(report.errors)} errors, "
        f"{len(report.warnings)} warnings"
    )
    stdout.print(summary, style="green" if report.ok else "red", markup=False)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option(REPORT_JSON_HELP)
@require_digests_option(
    "Refuse images without an @sha256 digest (what publishing to production uses)."
)
def validate(paths: tuple[Path, ...], as_json: bool, require_digests: bool) -> None:
    """Check app manifests: schema, security policy and cross-app rules.

    PATHS are app folders, manifest files, or a folder of apps (default: apps/).
    Every problem is reported, not only the first; exit 1 on any error.
    """
    report = validate_paths(list(paths) or [DEFAULT_APPS_DIR], require_digests=require_digests)
    _print_report(report, as_json)
    if not report.ok:
        raise Reported(f"{len(report.errors)} errors")


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option(REPORT_JSON_HELP)
@click.pass_context
def app_validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Same as ``archy validate``: check manifests and policy."""
    ctx.invoke(validate, paths=paths, as_json=as_json, require_digests=False)


@click.command()
@click.option("--out", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of manifest.yml (schema 1), for editors and linters.

    Besides the shape, it carries the policy rules a schema can express (P001,
    P002, P004, P005, P011, P012, P013); `archy validate` checks all of them.
    """
    text = json.dumps(policy_json_schema(), indent=2, sort_keys=True) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
