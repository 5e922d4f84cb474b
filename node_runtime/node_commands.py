"""``archy-node init|pull|status|list|install|uninstall``: thin click commands.

Each command parses its options, calls one library function
(:mod:`node_runtime.node_config`, :mod:`node_runtime.pull`,
:mod:`node_runtime.node_state`) and prints the result: lines for people,
``--json`` for machines.  Exit 0 ok, 1 refused (one line on stderr, nothing
changed), 2 usage.

``install`` and ``uninstall`` change the desired state (``installed.json``,
under the state lock, in :mod:`node_runtime.node_state`) and then apply that
one app (:func:`node_runtime.apply.apply` with ``only={APP}``, under the
lock again, as ``archy-node apply`` holds it); ``--no-apply`` leaves the
apply to a later ``archy-node apply`` or the daemon.

Every command takes ``--state-root`` (default ``$ARCHY_NODE_STATE_ROOT``,
else ``/var/lib/archy-node``); :data:`state_root_option` is that option, for
other commands to reuse.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from node_runtime.apply import (
    ApplyReport,
    AppResult,
    PurgeRefused,
    apply,
    purge_app,
    read_stopped,
    save_stopped,
)
from node_runtime.blob_store import BlobStore
from node_runtime.engines import ENGINE_NAMES, choose_engine
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.node_config import (
    DEFAULT_DATA_ROOT,
    DEFAULT_STATE_ROOT,
    STATE_ROOT_ENV,
    NodeConfigError,
    initialise_node,
    load_config,
)
from node_runtime.node_state import (
    DesiredChange,
    InstallRefused,
    NodePaths,
    NodeState,
    StateError,
    catalog_listing,
    install_app,
    load_current_catalog,
    status_report,
    uninstall_app,
)
from node_runtime.origin_fetcher import DEFAULT_PULL_DEADLINE_SECONDS
from node_runtime.pull import PullError, pull

Command = TypeVar("Command", bound=Callable[..., Any])

state_root_option: Callable[[Command], Command] = click.option(
    "--state-root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_ROOT_ENV,
    default=DEFAULT_STATE_ROOT,
    show_default=True,
    callback=lambda _ctx, _param, value: Path(os.path.abspath(value)),
    help=f"The node's state directory (or ${STATE_ROOT_ENV}).",
)
json_option: Callable[[Command], Command] = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for machines."
)


def _refuse(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def _print_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True))


def state_root_hint(state_root: Path) -> str:
    """`` --state-root X`` when the user gave one (hints repeat the user's options), else ''."""
    return "" if state_root == DEFAULT_STATE_ROOT else f" --state-root {state_root}"


def node_engine(paths: NodePaths, engine_name: str | None) -> ContainerEngine:
    """The engine a command uses: the one asked for, else the one ``init --engine``
    remembered, else auto; its unit dir from the config (stage: under the state root)."""
    config = load_config(paths)
    name = engine_name or config.engine
    unit_dir = None if config.unit_dir is None else Path(config.unit_dir)
    return choose_engine(name, quadlet_dir=unit_dir, state_root=paths.root)


def engine_unit_dir(engine: ContainerEngine) -> Path | None:
    """Where this engine writes units (stage and Quadlet), else None."""
    unit_dir = getattr(engine, "unit_dir", None)
    return unit_dir if isinstance(unit_dir, Path) else None


def require_initialised(paths: NodePaths, as_json: bool = False) -> None:
    """Refuse, with the same one line for every command, on a node that was never set up."""
    if paths.config_file.exists() or paths.config_file.is_symlink():
        return
    message = (
        f"this node is not initialised ({paths.root} has no {paths.config_file.name}); run "
        f"`archy-node init --root ROOT.json --origin URL{state_root_hint(paths.root)}` first"
    )
    if as_json:
        _print_json({"ok": False, "error": message})
    _refuse(message)


# --- init ---


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
        _refuse(f"{root_file}: cannot read ({error.strerror})")
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
            _print_json({"ok": False, "error": str(error)})
        _refuse(str(error))
    engine = choose_engine(
        config.engine,
        quadlet_dir=None if config.unit_dir is None else Path(config.unit_dir),
        state_root=state_root,
    )
    units = engine_unit_dir(engine)
    if as_json:
        _print_json(
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


# --- pull ---


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
    require_initialised(paths, as_json)
    try:
        aside = NodeState(paths).set_aside_unreadable_pointer()
    except StateError as error:
        _refuse(str(error))
    if aside is not None:
        click.echo(
            f"warning: {paths.catalog_pointer_file} was unreadable; moved to {aside.name}, "
            "fetching the catalog again",
            err=True,
        )
    try:
        result = pull(
            paths,
            report=lambda line: click.echo(line, err=True),
            deadline_seconds=timeout_seconds,
        )
    except PullError as error:
        if as_json:
            _print_json({"ok": False, "step": error.step, "error": str(error)})
        _refuse(f"pull failed, the current catalog is kept: {error}")
    pointer = result.pointer
    if as_json:
        _print_json(
            {
                "ok": True,
                "changed": result.changed,
                "catalog": pointer.model_dump(mode="json"),
                "downloaded": result.downloaded,
            }
        )
        return
    what = "new catalog" if result.changed else "catalog unchanged"
    click.echo(
        f"{what}: commit {pointer.commit[:12]}, targets v{pointer.targets_version}; "
        f"downloaded {len(result.downloaded)} file(s)"
    )


# --- status and list ---


@click.command("status")
@json_option
@state_root_option
def status_command(as_json: bool, state_root: Path) -> None:
    """Installed apps (catalog vs applied version), the catalog and the last pull."""
    paths = NodePaths(state_root)
    require_initialised(paths, as_json)
    try:
        report = status_report(NodeState(paths), BlobStore(paths.blobs_dir))
    except StateError as error:
        _refuse(str(error))
    if as_json:
        _print_json(report)
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
        click.echo(
            f"{app['id']:<24} catalog {app['catalog_version'] or '-':<16} "
            f"applied {app['applied_version'] or '-':<16} {app['state']}"
        )


@click.command("list")
@json_option
@state_root_option
def list_command(as_json: bool, state_root: Path) -> None:
    """Every app in the current catalog, installed or not."""
    paths = NodePaths(state_root)
    require_initialised(paths, as_json)
    try:
        apps = catalog_listing(NodeState(paths), BlobStore(paths.blobs_dir))
    except StateError as error:
        _refuse(str(error))
    if as_json:
        _print_json(apps)
        return
    for app in apps:
        mark = "*" if app["installed"] else " "
        click.echo(f"{mark} {app['id']:<24} {app['version']:<16} {app['summary']}")


# --- install and uninstall ---

install_engine_option: Callable[[Command], Command] = click.option(
    "--engine",
    "engine_name",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    envvar="ARCHY_NODE_ENGINE",
    help="The engine that applies the change [default: the one init remembered, else auto].",
)
no_apply_option: Callable[[Command], Command] = click.option(
    "--no-apply", is_flag=True, help="Only change the desired state; apply later."
)
install_hook_source_option: Callable[[Command], Command] = click.option(
    "--hook-source-dir",
    "hook_sources",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    envvar="ARCHY_NODE_HOOK_SOURCES",
    help="A host dir post_install copy_from_host may read (repeatable).",
)


def _apply_one_app(
    paths: NodePaths,
    app_id: str,
    engine_name: str | None,
    hook_sources: tuple[Path, ...] = (),
    purge: bool = False,
    also: tuple[str, ...] = (),
) -> tuple[ApplyReport, list[str] | None]:
    """Apply ``app_id`` alone under the state lock (and purge it if asked): the same call
    ``archy-node apply`` makes, limited to that app."""
    state = NodeState(paths)
    store = BlobStore(paths.blobs_dir)
    try:
        data_root = load_config(paths).data_root
        engine = node_engine(paths, engine_name)
        with state.lock():
            loaded = load_current_catalog(state, store)
            if loaded is None:
                _refuse("no catalog yet; run `archy-node pull` first")
            installed = set(state.installed().apps)
            report = apply(
                loaded.catalog, installed, state_root=paths.root, data_root=data_root,
                engine=engine, catalog_blake3=loaded.pointer.blake3, only={app_id, *also},
                hook_sources=tuple(str(path) for path in hook_sources),
            )  # fmt: skip
            purged = None
            if purge and report.ok:
                purged = purge_app(
                    app_id, state_root=paths.root, data_root=data_root, engine=engine,
                    installed=installed,
                )  # fmt: skip
    except (NodeConfigError, StateError, PurgeRefused, EngineError) as error:
        _refuse(f"the desired state is changed, but applying it failed: {error}")
    return report, purged


def _app_result(report: ApplyReport, app_id: str) -> AppResult:
    if report.engine_slow is not None:
        return AppResult(app_id, "failed", f"engine slow: {report.engine_slow}")
    return report.results.get(app_id) or AppResult(app_id, "unchanged")


def _finish_change(
    change: DesiredChange,
    verb: str,
    applied: tuple[ApplyReport, list[str] | None] | None,
    as_json: bool,
    next_step: str,
) -> None:
    result = None if applied is None else _app_result(applied[0], change.app_id)
    purged = None if applied is None else applied[1]
    if result is not None and result.reason and purged is not None:
        # the purge deleted what the engine's removal kept: say so once, not both
        reason = result.reason.replace("data and secrets kept", "data and secrets purged")
        result = dataclasses.replace(result, reason=reason)
    if as_json:
        document: dict[str, Any] = {
            "app": change.app_id,
            "changed": change.changed,
            "notes": change.notes,
            "applied": applied is not None,
        }
        if applied is not None and result is not None:
            document["engine"] = applied[0].engine
            document["apps"] = [result.to_document()]
        if purged is not None:
            document["purged"] = purged
        _print_json(document)
    else:
        _report_change(change, verb)
        if result is None:
            click.echo(f"next: {next_step}")
        else:
            detail = f": {result.reason}" if result.reason else ""
            click.echo(f"applied: {result.status}{detail}")
            for warning in result.warnings:
                click.echo(f"warning: {warning}")
        if purged is not None:
            click.echo(f"purged: {', '.join(purged) or 'nothing (no data left)'}")
    if result is not None and result.status == "failed":
        raise SystemExit(1)


def _report_change(change: DesiredChange, verb: str) -> None:
    if change.changed:
        click.echo(f"{change.app_id}: {verb}")
    else:
        click.echo(f"{change.app_id}: already {verb}")
    for note in change.notes:
        click.echo(f"note: {note}")


@click.command("install")
@click.argument("app_id", metavar="APP")
@no_apply_option
@install_engine_option
@install_hook_source_option
@json_option
@state_root_option
def install_command(
    app_id: str,
    no_apply: bool,
    engine_name: str | None,
    hook_sources: tuple[Path, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Add APP to the apps this node should run, then apply it (unless --no-apply)."""
    paths = NodePaths(state_root)
    require_initialised(paths, as_json)
    try:
        change = install_app(NodeState(paths), BlobStore(paths.blobs_dir), app_id)
    except (InstallRefused, StateError) as error:
        _refuse(str(error))
    missing = _archives_not_pulled(paths, app_id)
    if no_apply or missing:
        again = state_root_hint(state_root)
        next_step = f"archy-node apply{again}"
        if missing:
            next_step = (
                f"archy-node pull{again} (fetches {', '.join(missing)}), "
                f"then archy-node apply{again}"
            )
        _finish_change(change, "installed (desired state)", None, as_json, next_step)
        return
    applied = _apply_one_app(paths, app_id, engine_name, hook_sources)
    _finish_change(change, "installed (desired state)", applied, as_json, "archy-node apply")


def _archives_not_pulled(paths: NodePaths, app_id: str) -> list[str]:
    """The app's companion image archives the blob store does not hold yet (a pull
    fetches them; applying before would ask a registry for an image only the archive has)."""
    store = BlobStore(paths.blobs_dir)
    try:
        loaded = load_current_catalog(NodeState(paths), store)
    except StateError:
        return []
    app = None if loaded is None else loaded.catalog.apps.get(app_id)
    if app is None:
        return []
    return [
        companion.archive.name
        for companion in app.companions
        if companion.archive is not None and not store.contains(companion.archive.blake3)
    ]


@click.command("uninstall")
@click.argument("app_id", metavar="APP")
@click.option("--purge", is_flag=True, help="Also delete the app's data and secrets.")
@click.option(
    "--force",
    is_flag=True,
    help="Uninstall a provider that installed apps depend on; they stop (data kept) until "
    "another provider is installed.",
)
@no_apply_option
@install_engine_option
@json_option
@state_root_option
def uninstall_command(
    app_id: str,
    purge: bool,
    force: bool,
    no_apply: bool,
    engine_name: str | None,
    as_json: bool,
    state_root: Path,
) -> None:
    """Remove APP from the apps this node should run and apply that (its data is kept unless
    --purge)."""
    paths = NodePaths(state_root)
    require_initialised(paths, as_json)
    try:
        change = uninstall_app(
            NodeState(paths), app_id, store=BlobStore(paths.blobs_dir), force=force
        )
    except (InstallRefused, StateError) as error:
        _refuse(str(error))
    if change.dependents:  # --force: they stop until another provider is installed (P028)
        save_stopped(paths, read_stopped(paths) | set(change.dependents))
    applied = (
        None
        if no_apply
        else _apply_one_app(paths, app_id, engine_name, purge=purge, also=change.dependents)
    )
    next_step = (
        f"archy-node apply{' --purge ' + app_id if purge else ''}{state_root_hint(state_root)}"
    )
    _finish_change(change, "uninstalled (desired state)", applied, as_json, next_step)


NODE_COMMANDS = (
    init_command,
    pull_command,
    status_command,
    list_command,
    install_command,
    uninstall_command,
)
