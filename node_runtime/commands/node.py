"""``archy-node init|pull|status|list``: thin click commands over the node's state.

Each command parses its options, calls one library function
(:mod:`node_runtime.store.node_config`, :mod:`node_runtime.fetch.pull`,
:mod:`node_runtime.store.node_state`) and prints the result: lines for people, ``--json``
for machines.  Exit 0 ok, 1 refused (one line on stderr, nothing changed), 2 usage.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.commands.options import (
    json_option,
    print_json,
    require_node,
    state_root_hint,
    state_root_option,
)
from node_runtime.engines import ENGINE_NAMES, choose_engine
from node_runtime.engines.container_engine import EngineError
from node_runtime.fetch.http import DEFAULT_PULL_DEADLINE_SECONDS
from node_runtime.fetch.pull import PullError, pull
from node_runtime.local_node import LocalNode, engine_unit_dir
from node_runtime.registries.pull import pull_registries
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import DEFAULT_DATA_ROOT, NodeConfigError, initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.status import catalog_listing, registry_listing, status_report


@click.command("init")
@click.option(
    "--root",
    "root_file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The registry's root.json to trust (self-signed to its threshold).",
)
@click.option("--origin", required=True, help="Where the registry is: file://, http(s)://, s3://.")
@click.option(
    "--seed",
    "seeds",
    multiple=True,
    help="A seed or mirror of targets/: http(s)://, iroh://ID@HOST:PORT or file:// (repeatable).",
)
@click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_DATA_ROOT,
    show_default=True,
    help="Where apps keep their data.",
)
@click.option("--s3-endpoint", help="The S3 endpoint for an s3:// origin.")
@click.option(
    "--engine",
    "engine_name",
    type=click.Choice(ENGINE_NAMES),
    default="auto",
    show_default=True,
    help="The engine every later command uses unless given --engine (stage: write units, "
    "start nothing).",
)
@click.option(
    "--unit-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where units are written [default: stage: STATE_ROOT/staged-units; quadlet: "
    "~/.config/containers/systemd].",
)
@click.option("--force", is_flag=True, help="Replace the config and trusted root of a set-up node.")
@json_option
@state_root_option
def init_command(
    root_file: Path,
    origin: str,
    seeds: tuple[str, ...],
    data_root: Path,
    s3_endpoint: str | None,
    engine_name: str,
    unit_dir: Path | None,
    force: bool,
    as_json: bool,
    state_root: Path,
) -> None:
    """Set up this node: trust ROOT, remember the origin and seeds."""
    try:
        root_bytes = root_file.read_bytes()
    except OSError as error:
        raise Refused(f"{root_file}: cannot read ({error.strerror})") from None
    try:
        config = initialise_node(
            NodePaths(state_root),
            root_bytes,
            origin,
            seeds,
            data_root,
            s3_endpoint,
            force,
            root_source=str(root_file),
            engine=engine_name,
            unit_dir=unit_dir,
        )
    except NodeConfigError as error:
        if as_json:
            print_json({"ok": False, "error": str(error)})
        raise Refused(str(error)) from None
    engine = choose_engine(
        config.engine,
        quadlet_dir=None if config.unit_dir is None else Path(config.unit_dir),
        state_root=state_root,
    )
    units = engine_unit_dir(engine)
    if as_json:
        print_json(
            {
                "ok": True,
                "state_root": str(state_root),
                "config": config.model_dump(mode="json", by_alias=True),
                "unit_dir": None if units is None else str(units),
            }
        )
        return
    again = state_root_hint(state_root)
    where = "" if units is None else f", units in {units}"
    click.echo(
        f"initialised {state_root}: origin {config.origin}, engine {config.engine}{where}; "
        f"next: archy-node pull{again}"
    )


@click.command("pull")
@click.option(
    "--timeout",
    "timeout_seconds",
    type=click.FloatRange(min=1),
    default=DEFAULT_PULL_DEADLINE_SECONDS,
    show_default=True,
    help="Give up on the origin after this many seconds, retries included.",
)
@json_option
@state_root_option
def pull_command(timeout_seconds: float, as_json: bool, state_root: Path) -> None:
    """Refresh trust and fetch the signed catalog and what installed apps need.

    Every retry of the origin is reported on stderr as it happens.
    """
    paths = NodePaths(state_root)
    require_node(paths, as_json)
    try:
        aside = NodeState(paths).set_aside_unreadable_pointer()
    except StateError as error:
        raise Refused(str(error)) from None
    if aside is not None:
        click.echo(
            f"warning: {paths.catalog_pointer_file} was unreadable; moved to {aside.name}, "
            "fetching the catalog again",
            err=True,
        )
    report = lambda line: click.echo(line, err=True)  # noqa: E731
    try:
        result = pull(paths, report=report, deadline_seconds=timeout_seconds)
        official_error = None
    except PullError as error:
        result, official_error = None, error
    try:
        third_party = pull_registries(paths, report=report, deadline_seconds=timeout_seconds)
    except StateError as error:
        raise Refused(str(error)) from None
    if as_json:
        if result is None:
            assert official_error is not None
            document: dict[str, object] = {
                "ok": False, "step": official_error.step, "error": str(official_error)
            }  # fmt: skip
        else:
            document = {
                "ok": True,
                "changed": result.changed,
                "catalog": result.pointer.model_dump(mode="json"),
                "downloaded": result.downloaded,
            }
        if third_party:
            document["registries"] = [each.to_json() for each in third_party]
        print_json(document)
    elif result is not None:
        pointer = result.pointer
        what = "new catalog" if result.changed else "catalog unchanged"
        click.echo(
            f"{what}: commit {pointer.commit[:12]}, targets v{pointer.targets_version}; "
            f"downloaded {len(result.downloaded)} file(s)"
        )
    for each in third_party:
        if each.result is not None and not as_json:
            what = "new catalog" if each.result.changed else "catalog unchanged"
            click.echo(
                f"registry {each.name}: {what}, targets v{each.result.pointer.targets_version}, "
                f"downloaded {len(each.result.downloaded)} file(s)"
            )
        elif each.error is not None:
            click.echo(
                f"error: registry {each.name}: pull failed, its current catalog is kept: "
                f"{each.error}",
                err=True,
            )
    if official_error is not None:
        raise Refused(f"pull failed, the current catalog is kept: {official_error}")
    if any(each.error is not None for each in third_party):
        raise SystemExit(1)


def onion_addresses(state_root: Path) -> dict[str, str | None]:
    """The apps' .onion addresses for status (none when the engine cannot be had)."""
    try:
        return LocalNode(state_root, None, None).onion_addresses()
    except (Refused, StateError, EngineError, OSError):
        return {}


@click.command("status")
@json_option
@state_root_option
def status_command(as_json: bool, state_root: Path) -> None:
    """Installed apps (catalog vs applied version), the catalog and the last pull."""
    paths = NodePaths(state_root)
    require_node(paths, as_json)
    try:
        report = status_report(NodeState(paths), BlobStore(paths.blobs_dir))
    except StateError as error:
        raise Refused(str(error)) from None
    onion = onion_addresses(state_root) if report["apps"] else {}
    for app in report["apps"]:
        if app["id"] in onion:
            app["onion"] = onion[app["id"]]
    if as_json:
        print_json(report)
        return
    catalog = report["catalog"]
    if catalog is None:
        click.echo(f"catalog: none ({report['catalog_error'] or 'run archy-node pull'})")
    else:
        click.echo(
            f"catalog: commit {catalog['commit'][:12]}, targets v{catalog['targets_version']}, "
            f"{catalog['apps']} apps, pulled {catalog['pulled_at']}"
        )
    last = report["last_pull"]
    if last is not None:
        outcome = "ok" if last["ok"] else f"failed: {last['error']}"
        click.echo(f"last pull: {last['at']} {outcome}")
    if not report["apps"]:
        click.echo("no apps installed")
    for app in report["apps"]:
        shown = f"{app['registry']}/{app['id']}" if "registry" in app else app["id"]
        click.echo(
            f"{shown:<24} catalog {app['catalog_version'] or '-':<16} "
            f"applied {app['applied_version'] or '-':<16} {app['state']}"
        )
        if "onion" in app:
            click.echo(f"{'':<24} onion {app['onion'] or '(tor has not made it yet)'}")


@click.command("list")
@click.option("--registry", "registry_name", help="List a third-party registry's apps.")
@json_option
@state_root_option
def list_command(registry_name: str | None, as_json: bool, state_root: Path) -> None:
    """Every app in the current catalog, installed or not (or in registry NAME's)."""
    paths = NodePaths(state_root)
    require_node(paths, as_json)
    try:
        if registry_name is None:
            apps = catalog_listing(NodeState(paths), BlobStore(paths.blobs_dir))
        else:
            from node_runtime.registries.manage import require_registry

            require_registry(paths, registry_name)
            apps = registry_listing(NodeState(paths), BlobStore(paths.blobs_dir), registry_name)
    except StateError as error:
        raise Refused(str(error)) from None
    if as_json:
        print_json(apps)
        return
    for app in apps:
        mark = "*" if app["installed"] else " "
        shown = (
            f"{app['registry']}/{app['id']}"
            if "registry" in app and registry_name is None
            else app["id"]
        )
        click.echo(f"{mark} {shown:<24} {app['version']:<16} {app['summary']}")
