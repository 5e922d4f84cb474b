"""``archy-node apply|start|stop|restart|daemon``: the commands that run apps.

Thin: each command reads the node's state (``node_runtime.node_state``),
holds the state lock while it changes anything, calls one function of
:mod:`node_runtime.apply` and prints the result (a table, or ``--json``).
Exit 0 when every app is fine, 1 when an app failed or the input/state was
refused, 2 on a usage error.

The daemon pulls on a jittered interval (``node_runtime.pull``) and
reconciles level-triggered: every ``--reconcile-interval`` seconds (30) and
as soon as installed.json, the current catalog or the stopped list changes.
It prints one JSON line per reconcile (never a secret) and stops cleanly on
SIGTERM or SIGINT (a reconcile under way finishes first).  Under systemd
(``Type=notify``, see ``node_runtime.node_service``) it reports ``READY=1``
once its first reconcile is done, a ``STATUS=`` line after each, and
``STOPPING=1`` when it is asked to stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from node_runtime.apply import (
    ApplyReport,
    AppResult,
    PurgeRefused,
    apply,
    plan_apply,
    plan_stage,
    purge_app,
    read_stopped,
    restart_app,
    save_stopped,
)
from node_runtime.blob_store import BlobStore
from node_runtime.engines import ENGINE_NAMES
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.engines.stage_engine import StageEngine
from node_runtime.node_commands import (
    engine_unit_dir,
    json_option,
    node_engine,
    require_initialised,
    state_root_option,
)
from node_runtime.node_config import NodeConfigError, load_config
from node_runtime.node_seed import serve_node_store
from node_runtime.node_state import NodePaths, NodeState, StateError, load_current_catalog
from node_runtime.sd_notify import notify

DEFAULT_RECONCILE_SECONDS = 30.0
DEFAULT_PULL_SECONDS = 900.0
PULL_JITTER = 0.2
WATCH_SECONDS = 1.0

engine_option = click.option(
    "--engine",
    "engine_name",
    type=click.Choice(ENGINE_NAMES),
    default=None,
    envvar="ARCHY_NODE_ENGINE",
    help="[default: the engine `init --engine` remembered, else auto] auto: quadlet where a "
    "systemd user session runs, else podman; stage: write units, data dirs and secrets but "
    "start nothing (units go to the config's unit_dir, $ARCHY_NODE_QUADLET_DIR, or "
    "STATE_ROOT/staged-units).",
)
data_root_option = click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where apps keep their data (default: the node config's data_root).",
)
hook_source_option = click.option(
    "--hook-source-dir",
    "hook_sources",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    envvar="ARCHY_NODE_HOOK_SOURCES",
    help="A host dir post_install copy_from_host may read (repeatable).",
)


def _refuse(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


def _data_root(paths: NodePaths, option: Path | None) -> str:
    if option is not None:
        return str(option)
    try:
        return load_config(paths).data_root
    except NodeConfigError as error:
        _refuse(str(error))


class _Node:
    """What every command needs: the state, the current catalog, the engine."""

    def __init__(
        self,
        state_root: Path,
        engine_name: str | None,
        data_root: Path | None,
        hook_sources: Sequence[Path] = (),
    ) -> None:
        self.paths = NodePaths(state_root)
        self.state = NodeState(self.paths)
        self.data_root = _data_root(self.paths, data_root)
        require_initialised(self.paths)
        self.engine: ContainerEngine = node_engine(self.paths, engine_name)
        self.hook_sources = tuple(str(path) for path in hook_sources)

    def installed(self) -> set[str]:
        return set(self.state.installed().apps)

    def apply(self, *, only: set[str] | None = None, retry_failed: bool = True) -> ApplyReport:
        loaded = load_current_catalog(self.state, BlobStore(self.paths.blobs_dir))
        if loaded is None:
            raise StateError("no catalog yet; run `archy-node pull` first")
        return apply(
            loaded.catalog,
            self.installed(),
            state_root=self.paths.root,
            data_root=self.data_root,
            engine=self.engine,
            catalog_blake3=loaded.pointer.blake3,
            only=only,
            retry_failed=retry_failed,
            hook_sources=self.hook_sources,
        )


def _print_results(results: Sequence[AppResult], as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        document = {**extra, "apps": [result.to_document() for result in results]}
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    if extra.get("engine_slow"):
        click.echo(f"engine slow: {extra['engine_slow']}")
    if extra.get("unit_dir"):
        click.echo(f"engine {extra['engine']}: units in {extra['unit_dir']}")
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
    node = _Node(state_root, engine_name, data_root, hook_sources)
    try:
        if dry_run:
            loaded = load_current_catalog(node.state, BlobStore(node.paths.blobs_dir))
            if loaded is None:
                _refuse("no catalog yet; run `archy-node pull` first")
            if isinstance(node.engine, StageEngine):
                steps = plan_stage(loaded.catalog, node.installed(), engine=node.engine)
            else:
                steps = plan_apply(
                    loaded.catalog, node.installed(), state_root=node.paths.root,
                    data_root=node.data_root, engine=node.engine,
                ).steps  # fmt: skip
            if as_json:
                click.echo(json.dumps({"engine": node.engine.name, "steps": steps}, indent=2))
            else:
                click.echo("\n".join(steps) or "nothing to do")
            return
        with node.state.lock():
            report = node.apply()
            purged: dict[str, list[str]] = {}
            for app_id in purge:
                purged[app_id] = purge_app(
                    app_id, state_root=node.paths.root, data_root=node.data_root,
                    engine=node.engine, installed=node.installed(),
                )  # fmt: skip
    except (StateError, PurgeRefused, EngineError) as error:
        _refuse(str(error))
    units = engine_unit_dir(node.engine)
    extra: dict[str, Any] = {
        "engine": report.engine,
        "engine_slow": report.engine_slow,
        "unit_dir": None if units is None else str(units),
    }
    if purge:
        extra["purged"] = purged
    if not as_json:
        for app_id, removed in purged.items():
            click.echo(f"{app_id}: purged {', '.join(removed) or 'nothing (no data left)'}")
    _finish(list(report.results.values()), report.ok, as_json, extra)


def _one_app(node: _Node, app_id: str) -> None:
    if app_id not in node.installed():
        _refuse(f"{app_id!r} is not installed; `archy-node install {app_id}` first")


def _single(report: ApplyReport, app_id: str) -> AppResult:
    if report.engine_slow is not None:
        return AppResult(app_id, "failed", f"engine slow: {report.engine_slow}")
    return report.results.get(app_id) or AppResult(app_id, "unchanged")


@click.command("start")
@click.argument("app_id", metavar="APP")
@engine_option
@data_root_option
@json_option
@state_root_option
def start_command(
    app_id: str, engine_name: str | None, data_root: Path | None, as_json: bool, state_root: Path
) -> None:
    """Start APP's members in order, each once the one it needs is healthy."""
    _mark_stopped_and_apply(app_id, False, engine_name, data_root, as_json, state_root)


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
) -> None:
    """Record whether the owner wants APP stopped, then apply APP alone to match."""
    node = _Node(state_root, engine_name, data_root)
    try:
        with node.state.lock():
            _one_app(node, app_id)
            others = read_stopped(node.paths) - {app_id}
            save_stopped(node.paths, others | {app_id} if stopped else others)
            result = _single(node.apply(only={app_id}), app_id)
    except (StateError, EngineError) as error:
        _refuse(str(error))
    _finish([result], result.status != "failed", as_json, {})


@click.command("restart")
@click.argument("app_id", metavar="APP")
@engine_option
@data_root_option
@json_option
@state_root_option
def restart_command(
    app_id: str, engine_name: str | None, data_root: Path | None, as_json: bool, state_root: Path
) -> None:
    """Restart APP's members in start order, waiting for each one's health."""
    node = _Node(state_root, engine_name, data_root)
    try:
        with node.state.lock():
            _one_app(node, app_id)
            if app_id in read_stopped(node.paths):
                _refuse(f"{app_id} is stopped; `archy-node start {app_id}` starts it")
            result = restart_app(app_id, state_root=node.paths.root, engine=node.engine)
    except (StateError, EngineError) as error:
        _refuse(str(error))
    _finish([result], result.status != "failed", as_json, {})


# -- the daemon --------------------------------------------------------------------------------


def _watched_files(paths: NodePaths) -> tuple[tuple[str, int, int], ...]:
    watched = []
    for path in (
        paths.installed_file,
        paths.catalog_pointer_file,
        paths.state_dir / "stopped.json",
    ):
        try:
            info = os.stat(path)
            watched.append((str(path), info.st_mtime_ns, info.st_size))
        except FileNotFoundError:
            watched.append((str(path), 0, -1))
    return tuple(watched)


def _emit(event: str, **fields: Any) -> None:
    click.echo(json.dumps({"event": event, **fields}, sort_keys=True), nl=True)


def _jittered(seconds: float) -> float:
    return seconds * (1 + random.uniform(-PULL_JITTER, PULL_JITTER))  # noqa: S311 (not secret)


def _pull_once(paths: NodePaths) -> None:
    from node_runtime.pull import PullError, pull

    try:
        aside = NodeState(paths).set_aside_unreadable_pointer()
        if aside is not None:
            _emit("pointer-set-aside", path=str(aside), note="fetching the catalog again")
        result = pull(paths)
    except StateError as error:
        _emit("pull", ok=False, error=str(error))
        return
    except PullError as error:
        _emit("pull", ok=False, error=str(error))
        return
    _emit("pull", ok=True, changed=result.changed, catalog=result.pointer.blake3)


@click.command("daemon")
@click.option(
    "--reconcile-interval",
    type=click.FloatRange(min=0.5),
    default=DEFAULT_RECONCILE_SECONDS,
    show_default=True,
    help="Seconds between level-triggered reconciles.",
)
@click.option(
    "--pull-interval",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_PULL_SECONDS,
    show_default=True,
    help="Mean seconds between pulls (jittered by ±20%).",
)
@click.option("--no-pull", is_flag=True, help="Only reconcile; never pull.")
@click.option("--seed", is_flag=True, help="Also serve this node's verified blobs to other nodes.")
@click.option(
    "--seed-http",
    default="0.0.0.0:8470",
    show_default=True,
    help="HOST:PORT of the HTTP seed (GET /blobs/<blake3>), or 'off'.",
)
@click.option(
    "--seed-iroh",
    default="0.0.0.0:0",
    show_default=True,
    help="HOST:PORT of the iroh seed (archy/blobs/1, relays off), or 'off'.",
)
@engine_option
@data_root_option
@hook_source_option
@state_root_option
def daemon_command(
    reconcile_interval: float,
    pull_interval: float,
    no_pull: bool,
    seed: bool,
    seed_http: str,
    seed_iroh: str,
    engine_name: str | None,
    data_root: Path | None,
    hook_sources: tuple[Path, ...],
    state_root: Path,
) -> None:
    """Pull on a jittered interval and keep the installed apps converged (--seed: and seed)."""
    node = _Node(state_root, engine_name, data_root, hook_sources)
    with contextlib.ExitStack() as seeding:
        if seed:
            try:
                node_seed = seeding.enter_context(
                    serve_node_store(
                        node.paths,
                        None if seed_http == "off" else seed_http,
                        None if seed_iroh == "off" else seed_iroh,
                    )
                )
            except (ValueError, OSError) as error:
                click.echo(f"error: --seed: {error}", err=True)
                raise SystemExit(1) from None
            _emit("seeding", urls=node_seed.urls())
        _daemon_loop(node, reconcile_interval, pull_interval, no_pull)


def _daemon_loop(
    node: _Node, reconcile_interval: float, pull_interval: float, no_pull: bool
) -> None:
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        notify("STOPPING=1")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _emit("started", engine=node.engine.name, pid=os.getpid())
    next_pull = time.monotonic() if not no_pull else float("inf")
    next_reconcile = time.monotonic()
    seen = None
    ready = False
    while not stopping.is_set():
        now = time.monotonic()
        if now >= next_pull:
            _pull_once(node.paths)
            next_pull = time.monotonic() + _jittered(pull_interval)
        watched = _watched_files(node.paths)
        if now >= next_reconcile or watched != seen:
            seen = watched
            status = _reconcile_once(node)
            notify(*(() if ready else ("READY=1",)), f"STATUS={status}")
            ready = True
            next_reconcile = time.monotonic() + reconcile_interval
        stopping.wait(min(WATCH_SECONDS, max(0.0, next_reconcile - time.monotonic())))
    _emit("stopped")


def _reconcile_once(node: _Node) -> str:
    """Reconcile and print the event line; returns a one-line status for systemd."""
    try:
        with node.state.lock():
            report = node.apply(retry_failed=False)
    except (StateError, EngineError) as error:
        _emit("reconciled", ok=False, error=str(error))
        return f"reconcile refused: {error}"
    changed = {
        app_id: result.status
        for app_id, result in report.results.items()
        if result.status != "unchanged"
    }
    failed = {app_id: r.reason for app_id, r in report.results.items() if r.status == "failed"}
    _emit(
        "reconciled", ok=report.ok, engine_slow=report.engine_slow, changed=changed,
        failed=failed, steps=len(report.steps),
    )  # fmt: skip
    apps = len(report.results)
    return f"reconciled {apps} app(s): {len(changed)} changed, {len(failed)} failed"


APPLY_COMMANDS = (apply_command, start_command, stop_command, restart_command, daemon_command)
