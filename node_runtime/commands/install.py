"""``archy-node install|uninstall``: change the desired state, then apply that one app.

``install`` and ``uninstall`` change ``installed.json`` (under the state lock, in
:mod:`node_runtime.store.node_state`) and then apply that one app
(:func:`node_runtime.apply.run.apply` with ``only={APP}``, under the lock again, as
``archy-node apply`` holds it); ``--no-apply`` leaves the apply to a later
``archy-node apply`` or the daemon.  Exit 0 ok, 1 refused or the app failed, 2 usage.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from catalog.refusal import Refused
from node_runtime.apply.desired_state import (
    DesiredChange,
    InstallRefused,
    uninstall_app,
)
from node_runtime.apply.outcome import ApplyReport
from node_runtime.commands.options import (
    engine_option,
    hook_source_option,
    json_option,
    no_apply_option,
    print_json,
    require_node,
    state_root_hint,
    state_root_option,
)
from node_runtime.local_node import app_result, apply_app_alone, archives_not_pulled
from node_runtime.registries.install import (
    BelowThreshold,
    forget_owner,
    install_reference,
    owned_app_id,
    parse_app_reference,
)
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import NodeConfigError, load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.stopped import read_stopped, save_stopped


def _finish_change(
    change: DesiredChange,
    verb: str,
    applied: tuple[ApplyReport, list[str] | None] | None,
    as_json: bool,
    next_step: str,
) -> None:
    result = None if applied is None else app_result(applied[0], change.app_id)
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
        print_json(document)
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
@click.option(
    "--i-trust-this-developer",
    "trust_developer",
    is_flag=True,
    help="Install a third-party app whose trust score is below its registry's threshold "
    "(every other check still runs).",
)
@no_apply_option
@engine_option
@hook_source_option
@json_option
@state_root_option
def install_command(
    app_id: str,
    trust_developer: bool,
    no_apply: bool,
    engine_name: str | None,
    hook_sources: tuple[Path, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Add APP (or REGISTRY/APP, from an added registry) to the apps this node should run,
    then apply it (unless --no-apply)."""
    paths = NodePaths(state_root)
    require_node(paths, as_json)
    try:
        reference = parse_app_reference(app_id)
        change = install_reference(
            paths, BlobStore(paths.blobs_dir), reference,
            data_root=load_config(paths).data_root, trust_developer=trust_developer,
        )  # fmt: skip
    except BelowThreshold as refusal:
        if as_json:
            print_json({"ok": False, "error": refusal.message, "score": refusal.score.to_json()})
        raise
    except (InstallRefused, StateError, NodeConfigError) as error:
        raise Refused(str(error)) from None
    app_id = reference.app_id
    missing = archives_not_pulled(paths, app_id)
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
    applied = apply_app_alone(paths, app_id, engine_name, hook_sources)
    _finish_change(change, "installed (desired state)", applied, as_json, "archy-node apply")


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
@engine_option
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
    """Remove APP (or REGISTRY/APP) from the apps this node should run and apply that (its
    data is kept unless --purge)."""
    paths = NodePaths(state_root)
    require_node(paths, as_json)
    try:
        app_id = owned_app_id(paths, parse_app_reference(app_id))
        change = uninstall_app(
            NodeState(paths), app_id, store=BlobStore(paths.blobs_dir), force=force
        )
    except (InstallRefused, StateError) as error:
        raise Refused(str(error)) from None
    if change.dependents:  # --force: they stop until another provider is installed (P028)
        save_stopped(paths, read_stopped(paths) | set(change.dependents))
    applied = (
        None
        if no_apply
        else apply_app_alone(paths, app_id, engine_name, purge=purge, also=change.dependents)
    )
    if applied is not None and applied[1] is not None:
        forget_owner(paths, app_id)  # its data is gone: the id is no registry's any more
    next_step = (
        f"archy-node apply{' --purge ' + app_id if purge else ''}{state_root_hint(state_root)}"
    )
    _finish_change(change, "uninstalled (desired state)", applied, as_json, next_step)
