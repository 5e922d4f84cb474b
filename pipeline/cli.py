"""``archy``: the publisher's and app developer's command line.

Commands are thin: parse options, call one library function, print the
result (a table for people, ``--json`` for scripts).  Exit codes: 0 ok,
1 the input was refused, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table

from catalog.command_group import LazyGroup
from catalog.problems import ManifestError
from pipeline.digest_warnings import collapse_problems
from pipeline.render import render_app_folder, write_units
from pipeline.schema_export import policy_json_schema
from pipeline.tables import print_table
from pipeline.validation import ValidationReport, validate_paths

DEFAULT_APPS_DIR = Path("apps")

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


# command name -> "module:attribute", imported when the command runs (see catalog.command_group)
LAZY_COMMANDS = {
    "build": ("pipeline.build_cli:build", "Build OUT/app-catalog.json from apps/ at a commit."),
    "images": ("pipeline.build_cli:images", "Container images: pin every repo:tag to a digest."),
    "ceremony": ("pipeline.ceremony.commands:ceremony", "The maintainers' signing ceremony."),
    "publish": ("pipeline.ceremony.commands:publish", "Publish a threshold-signed event."),
    "refresh-timestamp": (
        "pipeline.ceremony.commands:refresh_timestamp_command",
        "Re-sign the timestamp (and the snapshot when due).",
    ),
    "dev-flow": ("pipeline.main_flow:dev_flow", "Build, sign, publish and pull, all local."),
    "publish-s3": (
        "pipeline.commands.publish_s3:publish_s3_command",
        "Publish a built repository to S3.",
    ),
    "seed": ("pipeline.seed_commands:seed", "Swarm seeds: serve blobs by BLAKE3 to nodes."),
    "import": ("pipeline.importer.command:import_group", "Convert Umbrel/CasaOS apps."),
    "storefront": ("pipeline.storefront.commands:storefront", "The static storefront."),
    "dev": (
        "pipeline.market.commands:dev",
        "A developer identity (did:key + Nostr), announce apps.",
    ),
}
LAZY_APP_COMMANDS = {
    "new": ("pipeline.appdev.commands:app_new", "Create APPS_DIR/ID/ from a template."),
    "run": ("pipeline.appdev.commands:app_run", "Install ID on a throwaway local node."),
    "test": ("pipeline.appdev.commands:app_test", "Put ID through the lifecycle gate."),
}


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="archipelago-registry", prog_name="archy")
def main() -> None:
    """Archipelago registry: validate, render, build, sign and publish apps."""


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


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option(
    "--require-digests",
    is_flag=True,
    help="Refuse images without an @sha256 digest (what publishing to production uses).",
)
def validate(paths: tuple[Path, ...], as_json: bool, require_digests: bool) -> None:
    """Check app manifests: schema, security policy and cross-app rules.

    PATHS are app folders, manifest files, or a folder of apps (default: apps/).
    Every problem is reported, not only the first; exit 1 on any error.
    """
    report = validate_paths(list(paths) or [DEFAULT_APPS_DIR], require_digests=require_digests)
    _print_report(report, as_json)
    sys.exit(0 if report.ok else 1)


@main.command()
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


@main.group(cls=LazyGroup, lazy=LAZY_APP_COMMANDS)
def app() -> None:
    """App developer tools: create, validate, render, run and test one app."""


@app.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_context
def app_validate(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Same as ``archy validate``: check manifests and policy."""
    ctx.invoke(validate, paths=paths, as_json=as_json, require_digests=False)


@app.command("render")
@click.argument("app_ref", metavar="APP")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the units into this directory (default: print them).",
)
@click.option(
    "--apps-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_APPS_DIR,
    show_default=True,
    help="Where APP is looked up when it is an id rather than a path.",
)
@click.option(
    "--data-root",
    default="/var/lib/archipelago",
    show_default=True,
    help="The node's data root that volumes live under.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the units (or paths) as JSON.")
def app_render(
    app_ref: str, out: Path | None, apps_dir: Path, data_root: str, as_json: bool
) -> None:
    """Render APP (an id under apps/, or an app folder) to Quadlet units.

    The manifest is validated first (schema and policy); nothing is written
    if it is refused.
    """
    folder = Path(app_ref)
    if not (folder / "manifest.yml").exists():
        folder = apps_dir / app_ref
    if not (folder / "manifest.yml").exists():
        message = f"{app_ref}: no such app (looked for {folder / 'manifest.yml'})"
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": [message]}))
        fail(message)
    try:
        units = render_app_folder(folder, data_root=data_root)
    except ManifestError as error:
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": [str(p) for p in error.problems]}))
        refuse(error)
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
    written = write_units(units, out)
    for path in written:
        click.echo(str(path))


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit 1."""
    stderr.print(f"error: {message}", style="red", markup=False)
    sys.exit(1)


def refuse(error: ManifestError) -> NoReturn:
    for problem in error.problems:
        stderr.print(str(problem), style="red", markup=False)
    sys.exit(1)


if __name__ == "__main__":
    main()
