"""``archy-node run-hooks APP MEMBER``: what a Quadlet member's hooks drop-in runs.

Systemd runs it as the unit's ``ExecStartPost=`` (``apply.hook_dropins``) at every
start of the member; it can also be run by hand.  Failed steps are printed on
stderr (the unit's journal) and never fail the unit; exit 1 only when the app or
member is unknown.
"""

from __future__ import annotations

from pathlib import Path

import click

from node_runtime.apply.hooks import run_applied_member_hooks
from node_runtime.commands.options import hook_source_option, state_root_option
from node_runtime.engines.podman_engine import LocalPodmanRunner, PodmanEngine
from node_runtime.store.paths import NodePaths


@click.command("run-hooks")
@click.argument("app_id", metavar="APP")
@click.argument("member", metavar="MEMBER")
@hook_source_option
@state_root_option
def run_hooks_command(
    app_id: str, member: str, hook_sources: tuple[Path, ...], state_root: Path
) -> None:
    """Run MEMBER's hooks for its current start (a Quadlet unit runs this)."""
    warnings = run_applied_member_hooks(
        NodePaths(state_root),
        app_id,
        member,
        PodmanEngine(LocalPodmanRunner()),
        tuple(str(path) for path in hook_sources),
    )
    for warning in warnings:
        click.echo(f"warning: {app_id}: {warning}", err=True)
