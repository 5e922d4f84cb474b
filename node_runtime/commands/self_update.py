"""``archy-node self-update [--check]``: a thin click command.

Reads the node config and the current catalog (``archy-node pull`` first), and calls
:func:`node_runtime.self_update.update_from_catalog` (trust refreshed from the origin
under the state lock) for the link ``<prefix>/archy-node`` (``--binary``, else the link
that runs this binary; not resolved: the link is what changes).  After an update it
re-executes the new binary as
``archy-node version`` unless ``--no-reexec``.  Exit 0: up to date or updated;
1: refused, or rolled back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.commands.options import json_option, state_root_option
from node_runtime.self_update import (
    DEFAULT_PROBE_TIMEOUT,
    SelfUpdateError,
    UpdateOutcome,
    reexec,
    running_binary,
    update_from_catalog,
)
from node_runtime.store.node_config import NodeConfigError
from node_runtime.store.paths import NodePaths, StateError
from signing.errors import TufError


def _describe(outcome: UpdateOutcome) -> str:
    if outcome.status == "up-to-date":
        return f"{outcome.binary} is up to date ({outcome.installed_bundle})"
    if outcome.status == "updated":
        return (
            f"{outcome.binary} updated to blake3 {outcome.offered_blake3} ({outcome.detail}); "
            f"the previous bundle is kept, named by {outcome.previous}"
        )
    return f"{outcome.binary} kept at {outcome.installed_bundle}: {outcome.detail}"


def _refused(message: str, as_json: bool) -> Refused:
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message}, indent=2, sort_keys=True))
    return Refused(message)


@click.command("self-update")
@state_root_option
@click.option("--check", is_flag=True, help="Only say whether an update is offered.")
@click.option(
    "--binary",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The installed link to update, <prefix>/archy-node -> archy-node-<blake3>/archy-node "
    "(default: the link that runs this frozen binary).",
)
@click.option(
    "--probe-timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_PROBE_TIMEOUT,
    show_default=True,
    help="Seconds the new binary has to answer `archy-node version`.",
)
@click.option("--no-reexec", is_flag=True, help="Do not re-execute the new binary afterwards.")
@json_option
def self_update_command(
    state_root: Path,
    check: bool,
    binary: Path | None,
    probe_timeout: float,
    no_reexec: bool,
    as_json: bool,
) -> None:
    """Install the node bundle the current catalog names, keeping the previous one."""
    installed = Path(os.path.abspath(binary)) if binary is not None else running_binary()
    if installed is None:
        raise _refused(
            "this is not a frozen archy-node binary (a source checkout updates with git); "
            "pass --binary PATH to check or update an installed binary",
            as_json,
        )
    try:
        found = update_from_catalog(
            NodePaths(state_root), installed, check_only=check, probe_timeout=probe_timeout
        )
    except (SelfUpdateError, NodeConfigError, StateError, TufError, ValueError, OSError) as error:
        raise _refused(str(error), as_json) from None
    offer, outcome = found.check, found.outcome
    if offer is None:
        message = f"the current catalog names no node binary for {found.platform}"
        if as_json:
            document = {"binary": str(installed), "update_offered": False}
            click.echo(json.dumps({**document, "note": message}, indent=2))
        else:
            click.echo(message)
        return
    if outcome is None:
        document = {
            "binary": str(installed),
            "installed_bundle": offer.installed_bundle,
            "offered_blake3": offer.offered_blake3,
            "update_offered": offer.needed,
            "rejected_before": offer.rejected_before,
        }
        if as_json:
            click.echo(json.dumps(document, indent=2, sort_keys=True))
        elif offer.needed:
            click.echo(f"update offered: {offer.installed_bundle} -> {offer.offered_bundle}")
        else:
            click.echo(f"{installed} is up to date ({offer.installed_bundle})")
        return
    if as_json:
        document = {
            "status": outcome.status,
            "binary": str(outcome.binary),
            "installed_bundle": outcome.installed_bundle,
            "offered_blake3": outcome.offered_blake3,
            "previous": None if outcome.previous is None else str(outcome.previous),
            "detail": outcome.detail,
        }
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    else:
        click.echo(_describe(outcome), err=outcome.status in ("rolled-back", "rejected-before"))
    if outcome.status in ("rolled-back", "rejected-before"):
        raise SystemExit(1)
    if outcome.status == "updated" and not no_reexec:
        reexec(outcome.binary, ["version"])
