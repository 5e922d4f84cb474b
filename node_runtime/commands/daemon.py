"""``archy-node daemon``: keep the installed apps converged, pulling on an interval.

Thin: parses the intervals and seeding options, starts the node's seed servers when
``--seed`` asks (:func:`node_runtime.seed.node_seed.serve_node_store`), and runs
:func:`node_runtime.daemon.run`, which prints one JSON line per event on stdout.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from catalog.refusal import Refused
from node_runtime.commands.options import (
    data_root_option,
    engine_option,
    hook_source_option,
    state_root_option,
)
from node_runtime.daemon import (
    DEFAULT_PULL_SECONDS,
    DEFAULT_RECONCILE_SECONDS,
    SELF_UPDATE_EXIT_STATUS,
    Intervals,
    run,
)
from node_runtime.local_node import LocalNode
from node_runtime.seed.node_seed import serve_node_store
from node_runtime.self_update import running_binary


def emit_line(event: dict[str, Any]) -> None:
    """One daemon event: one JSON line on stdout."""
    click.echo(json.dumps(event, sort_keys=True), nl=True)


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
@click.option(
    "--self-update",
    is_flag=True,
    help="After a pull that changed the catalog, install the node binary it names and exit "
    f"{SELF_UPDATE_EXIT_STATUS} (archy-node.service restarts onto it); frozen binary only.",
)
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
    self_update: bool,
    seed: bool,
    seed_http: str,
    seed_iroh: str,
    engine_name: str | None,
    data_root: Path | None,
    hook_sources: tuple[Path, ...],
    state_root: Path,
) -> None:
    """Pull on a jittered interval and keep the installed apps converged (--seed: and seed)."""
    binary = running_binary() if self_update else None
    if self_update and binary is None:
        raise Refused("--self-update: this is not a frozen archy-node binary")
    node = LocalNode(state_root, engine_name, data_root, hook_sources)
    intervals = Intervals(reconcile_interval, None if no_pull else pull_interval)
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
                raise Refused(f"--seed: {error}") from None
            emit_line({"event": "seeding", "urls": node_seed.urls()})
        status = run(node, intervals, emit_line, self_update=binary)
    if status:
        raise SystemExit(status)
