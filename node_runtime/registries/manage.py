"""``archy-node registry add|list|set|remove``: the third-party registries a node trusts.

A registry is added whole or not at all: its state root is built in a hidden
``registries/.adding-<name>-<pid>`` directory (config, trusted root, record) and renamed
into place in one step; any refusal (a bad name, a root that is not self-signed to its
threshold, an unreadable origin, a name already taken) leaves nothing behind.
Removing a registry is refused while any of its apps is installed.  A registry whose
pinned did:key names the network another registry claims is refused (P037,
:mod:`node_runtime.registries.networks`).

Refusals are :class:`RegistryRefused` (one line, exit 1).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from catalog.address import blake3_hex
from catalog.manifest_fields import APP_ID_PATTERN
from catalog.refusal import Refused
from node_runtime.registries.networks import network_clash
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import NodeConfigError, initialise_node, load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError, utc_now_text
from node_runtime.store.registry_state import (
    RegistryRecord,
    list_registries,
    read_app_registries,
    read_registry,
    registry_name_problem,
    registry_root,
    save_registry,
)
from signing.did_key import DidKeyError, parse_did_key


class RegistryRefused(Refused):
    """A registry command was refused; nothing changed."""


def _check_capabilities(names: Sequence[str]) -> list[str]:

    pattern = re.compile(APP_ID_PATTERN)
    for name in names:
        if not pattern.fullmatch(name):
            raise RegistryRefused(
                f"capability {name[:60]!r}: a capability is named like an app id "
                "(lowercase letters, digits, '-')"
            )
    return sorted(set(names))


def _check_relays(relays: Sequence[str]) -> list[str]:
    for relay in relays:
        if not re.fullmatch(r"wss?://[^\s/]+(/\S*)?", relay):
            raise RegistryRefused(f"relay {relay[:80]!r}: use a ws:// or wss:// URL")
    return sorted(set(relays))


def require_registry(paths: NodePaths, name: str) -> RegistryRecord:
    problem = registry_name_problem(name)
    if problem is not None:
        raise RegistryRefused(problem)
    try:
        record = read_registry(paths, name)
    except StateError as error:
        raise RegistryRefused(str(error)) from None
    if record is None:
        raise RegistryRefused(
            f"no registry {name!r} on this node; `archy-node registry list` shows them"
        )
    return record


def add_registry(
    paths: NodePaths,
    name: str,
    root_bytes: bytes,
    origin: str,
    *,
    root_source: str,
    seeds: Sequence[str] = (),
    s3_endpoint: str | None = None,
    did: str | None = None,
    allow_capabilities: Sequence[str] = (),
    min_score: int | None = None,
    added_from: str | None = None,
    relays: Sequence[str] = (),
) -> RegistryRecord:
    """Add registry ``name`` trusting ``root_bytes``; all or nothing.  ``relays`` are asked
    for revocations of developer did:keys on every pull."""
    problem = registry_name_problem(name)
    if problem is not None:
        raise RegistryRefused(problem)
    if did is not None:
        try:
            parse_did_key(did)
        except DidKeyError as error:
            raise RegistryRefused(f"--did {did[:70]}: {error}") from None
    capabilities = _check_capabilities(allow_capabilities)
    try:
        node = load_config(paths)
        clash = None if did is None else network_clash(paths, BlobStore(paths.blobs_dir), name, did)
    except (NodeConfigError, StateError) as error:
        raise RegistryRefused(str(error)) from None
    if clash is not None:
        raise RegistryRefused(clash)
    final = registry_root(paths, name)
    if final.exists() or final.is_symlink():
        raise RegistryRefused(
            f"a registry named {name!r} is already added; `archy-node registry remove {name}` "
            "first, or choose another name"
        )
    paths.registries_dir.mkdir(mode=0o700, exist_ok=True)
    work = paths.registries_dir / f".adding-{name}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        config = initialise_node(
            NodePaths(work, shared_blobs=paths.blobs_dir),
            root_bytes,
            origin,
            seeds,
            data_root=Path(node.data_root),
            s3_endpoint=s3_endpoint,
            root_source=root_source,
        )
        record = RegistryRecord(
            name=name,
            origin=config.origin,
            root_blake3=blake3_hex(root_bytes),
            did=did,
            allow_capabilities=capabilities,
            min_score=min_score,
            added_at=utc_now_text(),
            added_from=added_from,
            relays=_check_relays(relays),
        )
        save_registry(work, record)
        os.rename(work, final)
    except (NodeConfigError, StateError) as error:
        raise RegistryRefused(str(error)) from None
    except OSError as error:
        raise RegistryRefused(f"{final}: cannot write ({error.strerror})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return record


def set_registry(
    paths: NodePaths,
    name: str,
    allow_capabilities: Sequence[str] | None = None,
    min_score: int | None = None,
    clear_min_score: bool = False,
    trusted_dids: Sequence[str] | None = None,
    relays: Sequence[str] | None = None,
) -> RegistryRecord:
    """Change what the owner allows a registry (capabilities it may share, its threshold)."""
    record = require_registry(paths, name)
    update: dict[str, object] = {}
    if allow_capabilities is not None:
        update["allow_capabilities"] = _check_capabilities(allow_capabilities)
    if min_score is not None:
        update["min_score"] = min_score
    if clear_min_score:
        update["min_score"] = None
    if relays is not None:
        update["relays"] = _check_relays(relays)
    if trusted_dids is not None:
        for did in trusted_dids:
            try:
                parse_did_key(did)
            except DidKeyError as error:
                raise RegistryRefused(f"--trust-developer {did[:70]}: {error}") from None
        update["trusted_dids"] = sorted({*record.trusted_dids, *trusted_dids})
    changed = record.model_copy(update=update)
    with NodeState(paths).lock():
        save_registry(registry_root(paths, name), changed)
    return changed


def installed_apps_of(paths: NodePaths, name: str) -> list[str]:
    owners = read_app_registries(paths).apps
    installed = NodeState(paths).installed().apps
    return sorted(app for app, owner in owners.items() if owner == name and app in installed)


def remove_registry(paths: NodePaths, name: str) -> RegistryRecord:
    """Forget registry ``name`` (its trust, catalog pointer); refused while apps are installed.

    The ids it owns stay owned (their data and secrets are kept until purged).
    """
    record = require_registry(paths, name)
    with NodeState(paths).lock():
        apps = installed_apps_of(paths, name)
        if apps:
            listed = ", ".join(f"{name}/{app}" for app in apps)
            raise RegistryRefused(
                f"registry {name!r} has installed apps ({listed}); uninstall them first "
                f"(`archy-node uninstall {name}/{apps[0]}`)"
            )
        doomed = paths.registries_dir / f".removing-{name}-{os.getpid()}"
        try:
            os.rename(registry_root(paths, name), doomed)
        except OSError as error:
            raise RegistryRefused(
                f"{registry_root(paths, name)}: cannot remove ({error.strerror})"
            ) from None
        shutil.rmtree(doomed, ignore_errors=True)
    return record


def registries(paths: NodePaths) -> list[RegistryRecord]:
    try:
        return list_registries(paths)
    except StateError as error:
        raise RegistryRefused(str(error)) from None
