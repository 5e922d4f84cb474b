"""Installs across registries: ``archy-node install NAME/app`` and the checks every install
runs once a node has third-party registries.

``NAME/app`` installs ``app`` from registry NAME; a bare id is the official registry's.
Before anything is written: the registry's verified catalog must have the app, its entry
must carry a valid developer signature (by the pinned did:key when there is one), its
trust score must reach the registry's threshold unless the owner passed
``--i-trust-this-developer``, and :func:`node_runtime.registries.clashes.cross_registry_problems`
must find nothing (ids, ports, names, secrets, capabilities, adoption), and every
requirement of a third-party app must be met by an installed app of its own registry
(:mod:`node_runtime.registries.requirements`).  Then the id is
recorded as the registry's (``state/app-registries.json``) and the usual install runs
(:func:`node_runtime.apply.desired_state.install_app`: requirements, providers, owner
settings); if that refuses, the record is undone.  An official install runs the same
cross-registry checks against the installed third-party apps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from catalog.catalog_model import AppCatalog, CatalogApp
from catalog.refusal import Refused
from catalog.spec_problems import RuntimeSpecError
from node_runtime.apply.desired_state import DesiredChange, InstallRefused, install_app
from node_runtime.market.revocation import remembered_revocations, revoked_apps
from node_runtime.market.score import TrustScore
from node_runtime.registries.clashes import PlacedApp, cross_registry_problems
from node_runtime.registries.manage import require_registry
from node_runtime.registries.requirements import registry_requirement_problem
from node_runtime.registries.score import below_threshold, registry_app_score
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import load_current_catalog_at
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.paths import NodePaths
from node_runtime.store.registry_state import (
    RegistryRecord,
    list_registries,
    read_app_registries,
    registry_catalog,
    save_app_registries,
)
from signing.developer import third_party_catalog_problems


@dataclass(frozen=True)
class AppReference:
    registry: str | None
    app_id: str

    @property
    def text(self) -> str:
        return self.app_id if self.registry is None else f"{self.registry}/{self.app_id}"


def parse_app_reference(text: str) -> AppReference:
    """``NAME/app`` or ``app`` (the official registry)."""
    registry, slash, app_id = text.rpartition("/")
    if slash and (not registry or "/" in registry):
        raise InstallRefused(f"{text[:80]!r}: name an app as APP or REGISTRY/APP")
    return AppReference(registry if slash else None, app_id)


class BelowThreshold(Refused):
    """The app's trust score is below the registry's threshold."""

    def __init__(self, message: str, score: TrustScore) -> None:
        super().__init__(message)
        self.score = score


def registry_app(
    paths: NodePaths, store: BlobStore, reference: AppReference
) -> tuple[RegistryRecord, CatalogApp]:
    """The registry's verified entry for the app, its developer signature checked again."""
    assert reference.registry is not None
    record = require_registry(paths, reference.registry)
    catalog = registry_catalog(paths, record.name, store)
    if catalog is None:
        raise InstallRefused(
            f"registry {record.name!r} has no verified catalog yet; run `archy-node pull`"
        )
    app = catalog.apps.get(reference.app_id)
    if app is None:
        raise InstallRefused(
            f"{reference.text!r} is not in registry {record.name!r}'s catalog; "
            f"`archy-node list --registry {record.name}` shows its apps"
        )
    single = catalog.model_copy(update={"apps": {app.manifest.id: app}})
    problems = third_party_catalog_problems(single, record.did)
    problems += revoked_apps(single, remembered_revocations(paths.root)).values()
    if problems:
        raise InstallRefused(f"{reference.text}: {problems[0]}")
    return record, app


def _placed_installed(
    state: NodeState, merged: AppCatalog, owners: dict[str, str]
) -> list[PlacedApp]:
    return [
        PlacedApp(owners.get(app_id), merged.apps[app_id])
        for app_id in sorted(state.installed().apps)
        if app_id in merged.apps
    ]


def cross_registry_problems_now(
    paths: NodePaths, store: BlobStore, candidate: PlacedApp, data_root: str
) -> list[str]:
    """Every rule ``candidate`` breaks against this node's other registries' apps now (the
    unit check's refusal included)."""
    state = NodeState(paths)
    official = load_current_catalog_at(paths, store)
    merged = load_current_catalog(state, store)
    if official is None or merged is None:
        return ["no catalog yet; run `archy-node pull` first"]
    owners = read_app_registries(paths).apps
    allowed = {record.name: record.allow_capabilities for record in list_registries(paths)}
    try:
        return cross_registry_problems(
            candidate,
            [each for each in _placed_installed(state, merged.catalog, owners)
             if each.app_id != candidate.app_id],
            [PlacedApp(None, app) for app in official.catalog.apps.values()],
            owners,
            allowed,
            data_root,
        )  # fmt: skip
    except RuntimeSpecError as error:
        return [f"{candidate.label}: {error}"]


def _check_cross_registry(
    paths: NodePaths, store: BlobStore, candidate: PlacedApp, data_root: str
) -> None:
    problems = cross_registry_problems_now(paths, store, candidate, data_root)
    if problems:
        raise InstallRefused("; ".join(problems))


def _check_requirements(paths: NodePaths, store: BlobStore, registry: str, app: CatalogApp) -> None:
    """Every requirement met by an installed app of the same registry (P027/P034)."""
    catalog = registry_catalog(paths, registry, store)
    registry_apps = {} if catalog is None else {k: v.manifest for k, v in catalog.apps.items()}
    owners = read_app_registries(paths).apps
    installed = {
        app_id: registry_apps[app_id]
        for app_id in NodeState(paths).installed().apps
        if owners.get(app_id) == registry and app_id in registry_apps
    }
    problem = registry_requirement_problem(
        registry, app.manifest.id, app.manifest, installed, registry_apps
    )
    if problem is not None:
        raise InstallRefused(problem)


def install_reference(
    paths: NodePaths,
    store: BlobStore,
    reference: AppReference,
    *,
    data_root: str,
    trust_developer: bool = False,
) -> DesiredChange:
    """Install ``reference`` (official or ``NAME/app``) after every cross-registry check."""
    state = NodeState(paths)
    owners = read_app_registries(paths).apps
    if reference.registry is None:
        owner = owners.get(reference.app_id)
        if owner is not None:
            raise InstallRefused(
                f"{reference.app_id!r} is {owner}/{reference.app_id} on this node; the "
                f"official app of that id cannot take its place (P030)"
            )
        official = load_current_catalog_at(paths, store)
        if owners and official is not None and reference.app_id in official.catalog.apps:
            candidate = PlacedApp(None, official.catalog.apps[reference.app_id])
            _check_cross_registry(paths, store, candidate, data_root)
        return install_app(state, store, reference.app_id)
    record, app = registry_app(paths, store, reference)
    score = registry_app_score(paths, record, app, datetime.now(UTC).replace(microsecond=0))
    if below_threshold(record, score) and not trust_developer:
        raise BelowThreshold(
            f"{reference.text}: trust score {score.total} is below registry {record.name!r}'s "
            f"threshold {record.min_score}; `archy-node info {reference.text}` shows why; "
            "pass --i-trust-this-developer to install anyway (P036)",
            score,
        )
    _check_requirements(paths, store, record.name, app)
    _check_cross_registry(paths, store, PlacedApp(record.name, app), data_root)
    newly_owned = owners.get(reference.app_id) is None
    if newly_owned:
        with state.lock():
            current = read_app_registries(paths)
            save_app_registries(
                paths,
                current.model_copy(
                    update={"apps": {**current.apps, reference.app_id: record.name}}
                ),
            )
    try:
        return install_app(state, store, reference.app_id)
    except Refused:
        if newly_owned:
            forget_owner(paths, reference.app_id)
        raise


def forget_owner(paths: NodePaths, app_id: str) -> None:
    """The id is no registry's any more (its data was purged, or its install refused)."""
    with NodeState(paths).lock():
        current = read_app_registries(paths)
        if app_id in current.apps:
            apps = {key: value for key, value in current.apps.items() if key != app_id}
            save_app_registries(paths, current.model_copy(update={"apps": apps}))


def owned_app_id(paths: NodePaths, reference: AppReference) -> str:
    """The installed id ``reference`` names: ``NAME/app`` only when NAME owns ``app``."""
    owner = read_app_registries(paths).apps.get(reference.app_id)
    if reference.registry is not None and owner != reference.registry:
        held = "the official registry's" if owner is None else f"{owner}/{reference.app_id}"
        raise InstallRefused(
            f"{reference.text!r} is not installed here ({reference.app_id!r} is {held})"
        )
    return reference.app_id
