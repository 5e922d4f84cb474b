"""Purge: delete an uninstalled app's data dir and secrets (the only path that deletes data).

Refused (:class:`PurgeRefused`) while the app is installed or still has
containers.  A Podman secret recorded as another app's (one that only shares the
derived name) is never removed.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path

from catalog.refusal import Refused
from catalog.runtime_names import app_data_dir, podman_secret_name
from node_runtime.apply.onion_sync import purge_onion_keys
from node_runtime.engines.container_engine import ContainerEngine
from node_runtime.store.failures import read_failures, save_failures
from node_runtime.store.paths import NodePaths, secrets_dir
from node_runtime.store.secret_owners import forget_secret_owners, read_secret_owners


class PurgeRefused(Refused):
    """The app still runs or is installed; uninstall it first."""


def purge_app(
    app_id: str,
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    installed: Collection[str],
    secret_names: Iterable[str] = (),
) -> list[str]:
    """Delete an uninstalled app's data dir and secrets (the only path that deletes data).

    Returns what was removed.  Refuses while the app is installed or has containers.
    """
    if app_id in installed:
        raise PurgeRefused(f"{app_id} is installed; uninstall it before purging its data")
    observation = engine.observe()
    left = sorted(c.name for c in observation.containers.values() if c.app_id == app_id)
    if left:
        raise PurgeRefused(f"{app_id} still has containers ({', '.join(left)}); uninstall it")
    removed: list[str] = []
    data_dir = app_data_dir(app_id, data_root)
    if os.path.lexists(data_dir):
        engine.remove_tree_in_user_namespace(data_dir)
        removed.append(data_dir)
    onion_keys = purge_onion_keys(app_id, data_root, engine)
    if onion_keys is not None:
        removed.append(onion_keys)
    own = secrets_dir(state_root, app_id)
    names = set(secret_names)
    if own.is_dir() and not own.is_symlink():
        names.update(p.name for p in own.iterdir() if not p.name.startswith("."))
    owners = read_secret_owners(NodePaths(state_root))
    for name in sorted(names):
        podman_name = podman_secret_name(app_id, name)
        if owners.get(podman_name, app_id) != app_id:
            continue  # another app's secret that only shares the derived name
        if podman_name in observation.podman_secrets:
            engine.remove_podman_secret(app_id, name)
            removed.append(f"podman secret {podman_name}")
    forget_secret_owners(
        NodePaths(state_root), app_id, [podman_secret_name(app_id, n) for n in names]
    )
    if own.is_dir() and not own.is_symlink():
        for path in sorted(own.iterdir()):
            path.unlink()
        own.rmdir()
        removed.append(str(own))
    paths = NodePaths(state_root)
    failures = read_failures(paths)
    if failures.pop(app_id, None) is not None:
        save_failures(paths, failures)
    return removed
