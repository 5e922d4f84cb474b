"""Desired state: ``archy-node install`` and ``uninstall`` change ``state/installed.json``.

Install is refused (``InstallRefused``, one line saying why and what to do) before
anything is written: the app must be in the current catalog, its requirements
met by catalog apps (``catalog.capabilities``), no other installed app may
provide the same capability, and its required owner settings must be set; then
its default settings are written and it is added.  Uninstall refuses to remove a
provider installed apps depend on unless forced.  Neither touches data or the
container engine: the apply that follows does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

from catalog.capabilities import (
    dependents,
    missing_providers,
    provider_conflict,
    satisfies,
    shortfall,
)
from catalog.catalog_model import AppCatalog, CatalogApp
from catalog.manifest import Manifest, Requirement
from catalog.refusal import Refused
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.owner_settings import (
    SettingRefused,
    missing_required,
    missing_settings_message,
    write_defaults,
)
from node_runtime.store.paths import StateError


def _provider_shortfall(requirement: Requirement, provider: CatalogApp) -> str | None:
    """Why ``provider`` does not meet ``requirement``, or None if it does."""
    return shortfall(requirement, provider.manifest.id, provider.manifest)


def requirement_providers(catalog: AppCatalog, app_id: str) -> dict[str, list[str]]:
    """For each required app or capability of ``app_id``: the catalog apps that meet it."""
    app = catalog.apps[app_id]
    found: dict[str, list[str]] = {}
    for requirement in app.manifest.requires:
        found[requirement.app] = [
            other_id
            for other_id, other in sorted(catalog.apps.items())
            if other_id != app_id
            and satisfies(other_id, other.manifest, requirement)
            and _provider_shortfall(requirement, other) is None
        ]
    return found


def unmet_requirements(catalog: AppCatalog, app_id: str) -> list[str]:
    """Why ``app_id`` cannot be installed from ``catalog``: one reason per unmet requirement."""
    app = catalog.apps[app_id]
    reasons: list[str] = []
    for requirement in app.manifest.requires:
        if requirement.optional:
            continue
        candidates = [
            other
            for other_id, other in sorted(catalog.apps.items())
            if other_id != app_id and satisfies(other_id, other.manifest, requirement)
        ]
        wanted = requirement.app + (f" {requirement.version}" if requirement.version else "")
        if not candidates:
            reasons.append(
                f"{app_id} requires {wanted!r}, and no app in the catalog is or provides "
                f"{requirement.app!r}"
            )
            continue
        shortfalls = [_provider_shortfall(requirement, other) for other in candidates]
        if all(shortfall is not None for shortfall in shortfalls):
            reasons.append(
                f"{app_id} requires {wanted!r}, but "
                + " and ".join(str(shortfall) for shortfall in shortfalls)
            )
    return reasons


class InstallRefused(Refused):
    """The app cannot be installed or uninstalled; the message says why and what to do."""


@dataclass(frozen=True)
class DesiredChange:
    app_id: str
    changed: bool
    """False when installed.json already said so."""
    notes: list[str]
    """Things the owner should know (a required app that is not installed yet, …)."""
    dependents: tuple[str, ...] = ()
    """Installed apps left without their provider (``uninstall --force``): to be stopped."""


def install_app(state: NodeState, store: BlobStore, app_id: str) -> DesiredChange:
    """Add ``app_id`` to installed.json if the current catalog has it and can satisfy it."""
    with state.lock():
        loaded = load_current_catalog(state, store)
        if loaded is None:
            raise InstallRefused("no catalog yet; run `archy-node pull` first")
        catalog = loaded.catalog
        if app_id not in catalog.apps:
            raise InstallRefused(
                f"{app_id!r} is not in the catalog (commit {catalog.source.commit[:12]}); "
                "`archy-node list` shows the apps it has"
            )
        reasons = unmet_requirements(catalog, app_id)
        if reasons:
            raise InstallRefused("; ".join(reasons))
        installed = state.installed()
        notes: list[str] = []
        if app_id in installed.apps:
            return DesiredChange(app_id, False, notes)
        manifests = {each: app.manifest for each, app in catalog.apps.items()}
        present = {each: manifests[each] for each in installed.apps if each in manifests}
        refusal = provider_conflict(app_id, manifests[app_id], present) or missing_providers(
            app_id, manifests[app_id], present, manifests
        )
        if refusal is not None:
            raise InstallRefused(refusal)
        missing = missing_required(manifests[app_id], state.paths.root)
        if missing:
            raise InstallRefused(missing_settings_message(app_id, missing))
        try:
            write_defaults(manifests[app_id], state.paths.root)
        except (SettingRefused, OSError) as error:
            raise InstallRefused(
                f"{app_id}'s default settings cannot be written: {error}"
            ) from None
        state.save_installed(installed.with_app(app_id))
        return DesiredChange(app_id, True, notes)


def installed_manifests(state: NodeState, store: BlobStore | None) -> dict[str, Manifest]:
    """The current catalog's manifest of every installed app it still has."""
    catalog_apps: Mapping[str, CatalogApp] = {}
    if store is not None:
        with contextlib.suppress(StateError):
            loaded = load_current_catalog(state, store)
            catalog_apps = {} if loaded is None else loaded.catalog.apps
    return {
        app_id: catalog_apps[app_id].manifest
        for app_id in state.installed().apps
        if app_id in catalog_apps
    }


def uninstall_app(
    state: NodeState, app_id: str, *, store: BlobStore | None = None, force: bool = False
) -> DesiredChange:
    """Remove ``app_id`` from installed.json (its data is never touched here).

    A provider that installed apps depend on is refused (P028) unless ``force``:
    then the dependents stay installed but the next apply stops them (they have
    no provider), keeping their data, until another provider is installed.
    """
    with state.lock():
        installed = state.installed()
        if app_id not in installed.apps:
            raise InstallRefused(f"{app_id!r} is not installed; `archy-node status` shows what is")
        needing = dependents(app_id, installed_manifests(state, store))
        if needing and not force:
            raise InstallRefused(
                f"{', '.join(needing)} depend{'s' if len(needing) == 1 else ''} on {app_id}; "
                f"uninstall {'it' if len(needing) == 1 else 'them'} first, or run "
                f"`archy-node uninstall {app_id} --force` to stop "
                f"{'it' if len(needing) == 1 else 'them'} until another provider is "
                "installed (their data is kept) (P028)"
            )
        state.save_installed(installed.without_app(app_id))
        notes = [
            f"{each} is stopped (its data is kept) until another provider is installed; "
            f"then run `archy-node start {each}`"
            for each in needing
        ]
        return DesiredChange(app_id, True, notes, tuple(needing))
