"""``archy-node credentials APP [--json]``: the secrets APP's manifest lets the owner see.

The one command that prints a secret value (docs/policy.md, ``show_to_owner``): only
for an installed app, only the generated secrets its manifest marks for the owner.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.apply.credentials import owner_credentials
from node_runtime.apply.outcome import ActionFailed
from node_runtime.commands.options import json_option, print_json, state_root_option
from node_runtime.local_node import NO_CATALOG
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.paths import NodePaths, StateError


@click.command("credentials")
@click.argument("app_id", metavar="APP")
@json_option
@state_root_option
def credentials_command(app_id: str, as_json: bool, state_root: Path) -> None:
    """Show APP's credentials for the owner (secrets its manifest marks show_to_owner)."""
    paths = NodePaths(state_root)
    state = NodeState(paths)
    try:
        if app_id not in state.installed().apps:
            raise Refused(f"{app_id!r} is not installed; `archy-node install {app_id}` first")
        applied = state.applied().apps.get(app_id)
        if applied is not None:
            manifest = applied.app.manifest
        else:
            loaded = load_current_catalog(state, BlobStore(paths.blobs_dir))
            if loaded is None or app_id not in loaded.catalog.apps:
                raise Refused(NO_CATALOG if loaded is None else f"{app_id!r} is not in the catalog")
            manifest = loaded.catalog.apps[app_id].manifest
        shown = owner_credentials(manifest, paths.root)
    except (StateError, ActionFailed) as error:
        raise Refused(str(error)) from None
    if as_json:
        print_json({"app": app_id, "credentials": [{"name": c.name, "value": c.value}
                                                    for c in shown]})  # fmt: skip
        return
    if not shown:
        click.echo(f"{app_id} has no credentials for the owner (its manifest marks none)")
    for credential in shown:
        value = credential.value
        click.echo(f"{credential.name}: {value if value is not None else '(not generated yet)'}")
