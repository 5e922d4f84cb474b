"""Observing the node for a plan: one bounded engine observation plus the node's files.

:func:`observe_for` gives the planner its ``ObservedState`` (containers, Podman
secrets, which secret files and data dirs exist, the network, secret owners).
:func:`observe_apps` is what status shows: the apps' containers now, or, when the
engine is too slow, the last known list (``store.observations``) marked stale.
"""

from __future__ import annotations

import contextlib
import platform
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog.catalog_model import AppCatalog
from catalog.runtime_names import podman_secret_name
from catalog.secret_homes import secret_homes
from node_runtime.apply.data_dirs import data_dir_exists
from node_runtime.engines.container_engine import (
    ContainerEngine,
    EngineObservation,
    EngineTimeout,
)
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.reconcile import paths_to_observe
from node_runtime.store.applied import AppliedApp
from node_runtime.store.changed_settings import read_changed_settings
from node_runtime.store.hook_runs import read_hook_runs
from node_runtime.store.observations import read_observed, remember_observed
from node_runtime.store.paths import (
    NodePaths,
    StateError,
    secret_file,
    secret_file_exists,
    utc_now_text,
)
from node_runtime.store.secret_owners import read_secret_owners


def node_architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


@dataclass(frozen=True)
class AppsView:
    """Which apps have containers, and whether they run; ``stale`` when the engine was slow."""

    apps: dict[str, dict[str, bool]]
    stale: bool
    observed_at: str | None


def _apps_of(observation: EngineObservation) -> dict[str, dict[str, bool]]:
    apps: dict[str, dict[str, bool]] = {}
    for container in observation.containers.values():
        if container.app_id:
            apps.setdefault(container.app_id, {})[container.name] = container.running
    return {app_id: dict(sorted(members.items())) for app_id, members in sorted(apps.items())}


def remember_observation(paths: NodePaths, observation: EngineObservation) -> None:
    """Keep the apps of ``observation`` as the last known list (written only on a change)."""
    remember_observed(paths, _apps_of(observation))


def observe_apps(engine: ContainerEngine, state_root: Path) -> AppsView:
    """The apps' containers now; the last known list (stale) if the engine is too slow."""
    paths = NodePaths(state_root)
    try:
        observation = engine.observe()
    except EngineTimeout:
        cached = read_observed(paths)
        return AppsView(cached.apps, True, cached.observed_at)
    with contextlib.suppress(OSError, StateError):
        remember_observation(paths, observation)
    return AppsView(_apps_of(observation), False, utc_now_text())


def _hooked_containers(catalog: AppCatalog, installed: Collection[str]) -> set[str]:
    """The containers of installed apps that hook steps name (whose runs the plan checks)."""
    names: set[str] = set()
    for app_id in installed:
        app = catalog.apps.get(app_id)
        if app is not None:
            hooks = app.manifest.hooks
            for step in (*hooks.post_install, *hooks.pre_start):
                kind = step.exec if step.exec is not None else step.copy_from_host
                if kind is not None:
                    names.add(kind.container)
    return names


def observe_for(
    engine: ContainerEngine,
    catalog: AppCatalog,
    installed: Collection[str],
    applied: Mapping[str, AppliedApp],
    state_root: Path,
    data_root: str,
) -> tuple[EngineObservation, ObservedState]:
    """One engine observation, and the planner's view of the node built from it."""
    observation = engine.observe()
    dirs, names = paths_to_observe(catalog, installed, applied, data_root)
    secret_files: set[str] = set()
    for app in [*catalog.apps.values(), *(each.app for each in applied.values())]:
        for home in secret_homes(app.manifest):
            value_file = secret_file(state_root, home.owner, home.name)
            if home.podman_name in names and secret_file_exists(value_file, state_root):
                secret_files.add(home.podman_name)
    observed = ObservedState(
        containers=observation.containers,
        podman_secrets=observation.podman_secrets,
        secret_files=frozenset(secret_files),
        existing_dirs=frozenset(path for path in dirs if data_dir_exists(path, data_root)),
        networks=observation.networks,
        secret_owners=read_secret_owners(NodePaths(state_root)),
        changed_settings=frozenset(
            podman_secret_name(app_id, name)
            for app_id, names in read_changed_settings(NodePaths(state_root)).items()
            for name in names
        ),
        hook_runs=read_hook_runs(NodePaths(state_root), _hooked_containers(catalog, installed)),
    )
    return observation, observed
