"""Pull every third-party registry: its own TUF trust, its own catalog, checked whole.

Each registry is pulled with the node's one pull (:func:`node_runtime.fetch.pull.pull`)
over its own state root (``registries/<name>/``): the TUF client workflow from the root
the owner trusted when adding it, so a leaked online key (timestamp, snapshot) cannot get
a catalog past targets the registry's threshold did not sign.  Before the catalog
becomes current, every entry must carry a valid developer signature (by the did:key the
owner pinned, when one was), :func:`signing.developer.third_party_catalog_problems`;
otherwise the whole catalog is refused, its blob removed, and the registry keeps the
catalog it had.  So is a catalog signed by a did:key whose network another registry
here claims (P037, :mod:`node_runtime.registries.networks`), or with an entry signed by
a revoked did:key (the
revocations the node verified, :mod:`node_runtime.market.revocation`, refreshed from the
registry's relays first): no update signed by a revoked key is offered.  So is a
catalog that would turn an app installed here into one the rules between registries
refuse (:mod:`node_runtime.registries.clashes`: a port, a name, a capability the owner
did not allow): the app stays at its version.  The files of the apps the registry owns
here (icons, companion archives) are brought in like an installed
official app's.  One registry failing never stops the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from catalog.catalog_model import AppCatalog
from catalog.refusal import Refused
from node_runtime.fetch.http import DEFAULT_PULL_DEADLINE_SECONDS
from node_runtime.fetch.pull import PullError, PullResult, pull
from node_runtime.market.discover import refresh_revocations
from node_runtime.market.revocation import RevokedKey, remembered_revocations, revoked_apps
from node_runtime.registries.clashes import PlacedApp
from node_runtime.registries.install import cross_registry_problems_now
from node_runtime.registries.networks import catalog_did, network_clash
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.node_config import load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from node_runtime.store.registry_state import (
    RegistryRecord,
    list_registries,
    read_app_registries,
    registry_paths,
)
from signing.developer import third_party_catalog_problems

SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class RegistryPull:
    name: str
    result: PullResult | None
    error: PullError | None

    def to_json(self) -> dict[str, object]:
        if self.result is None:
            assert self.error is not None
            return {"registry": self.name, "ok": False, "step": self.error.step,
                    "error": str(self.error)}  # fmt: skip
        return {
            "registry": self.name,
            "ok": True,
            "changed": self.result.changed,
            "catalog": self.result.pointer.model_dump(mode="json"),
            "downloaded": self.result.downloaded,
        }


def _shown(problems: list[str]) -> str:
    more = len(problems) - SHOWN_PROBLEMS
    return "; ".join(problems[:SHOWN_PROBLEMS]) + (f" (and {more} more)" if more > 0 else "")


def known_revocations(paths: NodePaths, record: RegistryRecord) -> dict[str, RevokedKey]:
    """Every did:key revocation this node verified (kept under the state root once seen),
    after asking the registry's relays for new ones (a relay that fails costs its timeout
    and nothing else: the remembered revocations still count)."""
    if record.relays:
        with contextlib.suppress(Refused):
            refresh_revocations(list(record.relays), paths.root)
    return remembered_revocations(paths.root)


def catalog_check(
    paths: NodePaths, record: RegistryRecord, revoked: Mapping[str, RevokedKey] | None = None
) -> Callable[[AppCatalog], str | None]:
    """The checks a registry's new catalog must pass: every entry signed by its developer,
    and every app of it installed here still within the rules between registries as
    updated (else the app would change under the owner into something install refuses)."""

    def check(catalog: AppCatalog) -> str | None:
        problems = third_party_catalog_problems(catalog, record.did)
        if problems:
            return _shown(problems)
        did = catalog_did(catalog)
        clash = None if did is None else network_clash(paths, BlobStore(paths.blobs_dir),
                                                        record.name, did)  # fmt: skip
        if clash is not None:
            return clash
        refused = revoked_apps(catalog, revoked or {})
        if refused:
            return _shown([refused[app_id] for app_id in sorted(refused)])
        owners = read_app_registries(paths).apps
        installed = NodeState(paths).installed().apps
        store = BlobStore(paths.blobs_dir)
        data_root = load_config(paths).data_root
        for app_id in sorted(installed):
            if owners.get(app_id) != record.name or app_id not in catalog.apps:
                continue
            updated = PlacedApp(record.name, catalog.apps[app_id])
            problems = cross_registry_problems_now(paths, store, updated, data_root)
            if problems:
                return f"{updated.label} as updated: {_shown(problems)}"
        return None

    return check


def pull_registry(
    paths: NodePaths,
    record: RegistryRecord,
    report: Callable[[str], None] | None = None,
    deadline_seconds: float | None = DEFAULT_PULL_DEADLINE_SECONDS,
) -> RegistryPull:
    owned = [app for app, owner in read_app_registries(paths).apps.items() if owner == record.name]
    try:
        result = pull(
            registry_paths(paths, record.name),
            report=report,
            deadline_seconds=deadline_seconds,
            check_catalog=catalog_check(paths, record, known_revocations(paths, record)),
            app_ids=sorted(owned),
        )
    except PullError as error:
        return RegistryPull(record.name, None, error)
    return RegistryPull(record.name, result, None)


def pull_registries(
    paths: NodePaths,
    report: Callable[[str], None] | None = None,
    deadline_seconds: float | None = DEFAULT_PULL_DEADLINE_SECONDS,
) -> list[RegistryPull]:
    """Pull each added registry in name order; each outcome is reported, none raises."""
    return [
        pull_registry(paths, record, report, deadline_seconds) for record in list_registries(paths)
    ]
