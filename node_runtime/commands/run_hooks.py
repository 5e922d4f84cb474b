"""``archy-node run-hooks APP MEMBER``: what a Quadlet member's hooks drop-in runs.

Systemd runs it as the unit's ``ExecStartPost=`` (``apply.hook_dropins``) at every
start of the member; it can also be run by hand.  Failed steps are printed on
stderr (the unit's journal) and never fail the unit; exit 1 only when the app or
member is unknown.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.apply.hooks import run_applied_member_hooks
from node_runtime.commands.options import hook_source_option, state_root_option
from node_runtime.engines.podman_engine import LocalPodmanRunner, PodmanEngine
from node_runtime.store.node_config import NodeConfigError, hook_sources_for
from node_runtime.store.paths import NodePaths


@click.command("run-hooks")
@click.argument("app_id", metavar="APP")
@click.argument("member", metavar="MEMBER")
@hook_source_option
@state_root_option
def run_hooks_command(
    app_id: str, member: str, hook_sources: tuple[Path, ...], state_root: Path
) -> None:
    """Run MEMBER's hooks for its current start (a Quadlet unit runs this).

    Without --hook-source-dir, the dirs the node config remembers (never written here)."""
    paths = NodePaths(state_root)
    sources = tuple(str(path) for path in hook_sources)
    if not sources and paths.config_file.exists():
        try:
            sources = hook_sources_for(paths, (), remember=False)
        except NodeConfigError as error:
            raise Refused(str(error)) from None
    warnings = run_applied_member_hooks(
        paths, app_id, member, PodmanEngine(LocalPodmanRunner()), sources
    )
    for warning in warnings:
        click.echo(f"warning: {app_id}: {warning}", err=True)
