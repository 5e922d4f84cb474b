"""The options and output helpers every ``archy-node`` command shares, declared once.

``--state-root`` (default ``$ARCHY_NODE_STATE_ROOT``, else ``/var/lib/archy-node``,
made absolute), ``--json``, ``--engine`` (default: the engine ``init --engine``
remembered), ``--data-root``, ``--hook-source-dir`` and ``--no-apply`` are each
written here once; a command stacks the ones it takes.  ``print_json`` is the one
way a command prints a document for machines, and ``require_node`` the one refusal of
a node never set up (its ``--json`` document printed first).

No I/O beyond printing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from node_runtime.engines import ENGINE_NAMES
from node_runtime.local_node import NodeNotInitialised, require_initialised
from node_runtime.store.node_config import DEFAULT_STATE_ROOT, STATE_ROOT_ENV
from node_runtime.store.paths import NodePaths

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
engine_option: Callable[[Command], Command] = click.option(
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
data_root_option: Callable[[Command], Command] = click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where apps keep their data (default: the node config's data_root).",
)
hook_source_option: Callable[[Command], Command] = click.option(
    "--hook-source-dir",
    "hook_sources",
    multiple=True,
    type=click.Path(path_type=Path, file_okay=False),
    envvar="ARCHY_NODE_HOOK_SOURCES",
    help="A host dir copy_from_host hooks may read (repeatable); remembered in the node "
    "config, so later commands (and the daemon) use it without the option.",
)
no_apply_option: Callable[[Command], Command] = click.option(
    "--no-apply", is_flag=True, help="Only change the desired state; apply later."
)


def print_json(document: object) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=True))


def state_root_hint(state_root: Path) -> str:
    """`` --state-root X`` when the user gave one (hints repeat the user's options), else ''."""
    return "" if state_root == DEFAULT_STATE_ROOT else f" --state-root {state_root}"


def require_node(paths: NodePaths, as_json: bool = False) -> None:
    """Refuse on a node that was never set up (with ``--json``: the document first)."""
    try:
        require_initialised(paths)
    except NodeNotInitialised as refusal:
        if as_json:
            print_json({"ok": False, "error": refusal.message})
        raise
