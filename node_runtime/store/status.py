"""What ``archy-node status`` and ``list`` show: installed apps against the catalog and
what was applied, the current catalog and the last pull.  Reads state, writes nothing.
"""

from __future__ import annotations

from typing import Any

from catalog.catalog_model import CatalogApp
from node_runtime.store.applied import AppliedApp
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.paths import StateError
from node_runtime.store.registry_state import read_app_registries, registry_catalog


def _version_text(app: CatalogApp | None) -> str | None:
    return None if app is None else f"{app.version}-r{app.revision}"


def _app_state(catalog_version: str | None, applied: AppliedApp | None, in_catalog: bool) -> str:
    if not in_catalog:
        return "not in catalog"
    if applied is None:
        return "not applied"
    if applied.version_text != catalog_version:
        return "update available"
    return "up to date"


def status_report(state: NodeState, store: BlobStore) -> dict[str, Any]:
    """Installed apps (catalog vs applied version), the current catalog and the last pull."""
    catalog_error = None
    try:
        loaded = load_current_catalog(state, store)
    except StateError as error:
        loaded, catalog_error = None, str(error)
    catalog_apps = {} if loaded is None else loaded.catalog.apps
    applied = state.applied().apps
    owners = read_app_registries(state.paths).apps
    apps = []
    for app_id, installed in sorted(state.installed().apps.items()):
        catalog_version = _version_text(catalog_apps.get(app_id))
        applied_app = applied.get(app_id)
        apps.append(
            {
                "id": app_id,
                "installed_at": installed.installed_at,
                "catalog_version": catalog_version,
                "applied_version": None if applied_app is None else applied_app.version_text,
                "state": _app_state(
                    catalog_version, applied_app, loaded is None or app_id in catalog_apps
                ),
                **({"registry": owners[app_id]} if app_id in owners else {}),
            }
        )
    last_pull = state.last_pull()
    return {
        "state_root": str(state.paths.root),
        "catalog": None
        if loaded is None
        else {
            "blake3": loaded.pointer.blake3,
            "commit": loaded.pointer.commit,
            "targets_version": loaded.pointer.targets_version,
            "pulled_at": loaded.pointer.pulled_at,
            "apps": len(catalog_apps),
        },
        "catalog_error": catalog_error,
        "last_pull": None
        if last_pull is None
        else {"at": last_pull.at, "ok": last_pull.ok, "error": last_pull.error},
        "apps": apps,
    }


def catalog_listing(state: NodeState, store: BlobStore) -> list[dict[str, Any]]:
    """Every app of the current catalog, installed or not; raise StateError without one."""
    loaded = load_current_catalog(state, store)
    if loaded is None:
        raise StateError("no catalog yet; run `archy-node pull` first")
    installed = state.installed().apps
    owners = read_app_registries(state.paths).apps
    return [
        {
            "id": app_id,
            "name": app.manifest.name,
            "version": _version_text(app),
            "category": app.manifest.category,
            "summary": app.manifest.summary,
            "installed": app_id in installed,
            **({"registry": owners[app_id]} if app_id in owners else {}),
        }
        for app_id, app in sorted(loaded.catalog.apps.items())
    ]


def registry_listing(state: NodeState, store: BlobStore, name: str) -> list[dict[str, Any]]:
    """Every app of a third-party registry's current catalog (``list --registry NAME``)."""
    catalog = registry_catalog(state.paths, name, store)
    if catalog is None:
        raise StateError(f"registry {name!r} has no verified catalog yet; run `archy-node pull`")
    installed = state.installed().apps
    owners = read_app_registries(state.paths).apps
    return [
        {
            "id": f"{name}/{app_id}",
            "name": app.manifest.name,
            "version": _version_text(app),
            "category": app.manifest.category,
            "summary": app.manifest.summary,
            "installed": app_id in installed and owners.get(app_id) == name,
            "registry": name,
            "did": None if app.developer is None else app.developer.did,
        }
        for app_id, app in sorted(catalog.apps.items())
    ]
