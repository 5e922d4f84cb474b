"""``archy-node version`` and ``archy-node self-update [--check]``: thin click commands.

``version`` is also the health probe a freshly swapped binary must answer
(:func:`node_runtime.self_update.probe_binary`): it loads the compiled
extensions the node needs, then prints ``archy-node <version>``.

``self-update`` reads the node config and the current catalog (``archy-node
pull`` first), refreshes trust from the origin under the state lock, and
calls :func:`node_runtime.self_update.self_update`.  After an update it
re-executes the new binary as ``archy-node version`` unless ``--no-reexec``.
Exit 0: up to date or updated; 1: refused, or rolled back.
"""

from __future__ import annotations

import importlib
import json
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version
from pathlib import Path
from typing import NoReturn

import click

from catalog.catalog_model import CatalogError, TargetFile, parse_catalog
from node_runtime.blob_store import BlobError, BlobStore
from node_runtime.node_config import (
    DEFAULT_STATE_ROOT,
    STATE_ROOT_ENV,
    NodeConfigError,
    load_config,
)
from node_runtime.node_state import NodePaths, NodeState, StateError
from node_runtime.origin_fetcher import OriginFetcher, repository_urls
from node_runtime.self_update import (
    DEFAULT_PROBE_TIMEOUT,
    SelfUpdateError,
    UpdateOutcome,
    check_for_update,
    install_update,
    node_platform,
    reexec,
    running_binary,
)
from node_runtime.tuf_updater import Updater
from signing.errors import TufError

DISTRIBUTION = "archipelago-registry"
# Compiled extensions without which the node cannot verify or parse anything.
REQUIRED_EXTENSIONS = (
    "blake3",
    "nacl.bindings",
    "pydantic_core._pydantic_core",
    "cryptography.hazmat.bindings._rust",
)


def node_version() -> str:
    try:
        return distribution_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _refuse(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(1)


@click.command("version")
def version_command() -> None:
    """Print the version (after loading the compiled extensions: the start probe)."""
    for module in REQUIRED_EXTENSIONS:
        try:
            importlib.import_module(module)
        except ImportError as error:
            _refuse(f"cannot load {module}: {error}")
    click.echo(f"archy-node {node_version()}")


def _catalog_node_target(paths: NodePaths, platform_name: str) -> TargetFile | None:
    current = NodeState(paths).current_catalog()
    if current is None:
        raise SelfUpdateError("this node has no catalog yet; run `archy-node pull` first")
    try:
        catalog = parse_catalog(BlobStore(paths.blobs_dir).read_verified(current.current.blake3))
    except (BlobError, CatalogError) as error:
        raise SelfUpdateError(f"the current catalog is unreadable ({error}); pull again") from None
    return None if catalog.node is None else catalog.node.get(platform_name)  # type: ignore[call-overload]


def _describe(outcome: UpdateOutcome) -> str:
    if outcome.status == "up-to-date":
        return f"{outcome.binary} is up to date (blake3 {outcome.installed_blake3})"
    if outcome.status == "updated":
        return (
            f"{outcome.binary} updated to blake3 {outcome.offered_blake3} ({outcome.detail}); "
            f"the previous binary is kept as {outcome.previous}"
        )
    return f"{outcome.binary} kept at blake3 {outcome.installed_blake3}: {outcome.detail}"


@click.command("self-update")
@click.option(
    "--state-root",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=STATE_ROOT_ENV,
    default=DEFAULT_STATE_ROOT,
    show_default=True,
    help=f"The node's state directory (or ${STATE_ROOT_ENV}).",
)
@click.option("--check", is_flag=True, help="Only say whether an update is offered.")
@click.option(
    "--binary",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The installed binary to update (default: the running frozen binary).",
)
@click.option(
    "--probe-timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_PROBE_TIMEOUT,
    show_default=True,
    help="Seconds the new binary has to answer `archy-node version`.",
)
@click.option("--no-reexec", is_flag=True, help="Do not re-execute the new binary afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def self_update_command(
    state_root: Path,
    check: bool,
    binary: Path | None,
    probe_timeout: float,
    no_reexec: bool,
    as_json: bool,
) -> None:
    """Install the node binary the current catalog names, keeping the previous one."""

    def refuse(message: str) -> NoReturn:
        if as_json:
            click.echo(json.dumps({"ok": False, "error": message}, indent=2, sort_keys=True))
        _refuse(message)

    installed = binary.resolve() if binary is not None else running_binary()
    if installed is None:
        refuse(
            "this is not a frozen archy-node binary (a source checkout updates with git); "
            "pass --binary PATH to check or update an installed binary"
        )
    paths = NodePaths(state_root)
    try:
        platform_name = node_platform()
        config = load_config(paths)
        metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
        with NodeState(paths).lock():
            wanted = _catalog_node_target(paths, platform_name)
            if wanted is None:
                message = f"the current catalog names no node binary for {platform_name}"
                if as_json:
                    document = {"binary": str(installed), "update_offered": False}
                    click.echo(json.dumps({**document, "note": message}, indent=2))
                else:
                    click.echo(message)
                return
            fetcher = OriginFetcher()
            try:
                updater = Updater(
                    paths.trust_dir,
                    metadata_url,
                    target_dir=paths.root / "self-update",
                    target_base_url=targets_url,
                    fetcher=fetcher,
                )
                (paths.root / "self-update").mkdir(parents=True, exist_ok=True)
                offer = check_for_update(updater, installed, wanted.name, wanted.blake3)
                outcome = (
                    None if check else install_update(updater, offer, installed, probe_timeout)
                )
            finally:
                fetcher.close()
    except (SelfUpdateError, NodeConfigError, StateError, TufError, ValueError, OSError) as error:
        refuse(str(error))
    if outcome is None:
        document = {
            "binary": str(installed),
            "installed_blake3": offer.installed_blake3,
            "offered_blake3": offer.offered_blake3,
            "update_offered": offer.needed,
            "rejected_before": offer.rejected_before,
        }
        if as_json:
            click.echo(json.dumps(document, indent=2, sort_keys=True))
        elif offer.needed:
            click.echo(f"update offered: {offer.installed_blake3} -> {offer.offered_blake3}")
        else:
            click.echo(f"{installed} is up to date (blake3 {offer.installed_blake3})")
        return
    if as_json:
        document = {
            "status": outcome.status,
            "binary": str(outcome.binary),
            "installed_blake3": outcome.installed_blake3,
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
