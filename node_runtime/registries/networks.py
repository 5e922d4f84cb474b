"""Which network each registry on this node claims, and the refusal when two claim one.

A third-party registry's apps join ``archy-<hex>-net``, named after the one did:key that
signs its entries (:mod:`catalog.app_network`).  A registry claims the network of the
did:key the owner pinned (``--did``, or the announcement's) and of the did:key that signs
its current verified catalog.  Two registries claiming one network would put their apps
side by side, so ``registry add`` and ``pull`` refuse the second (P037) with one line.
"""

from __future__ import annotations

from catalog.app_network import registry_network
from catalog.catalog_model import AppCatalog
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.registry_state import list_registries, registry_catalog


def catalog_did(catalog: AppCatalog) -> str | None:
    """The did:key that signs the catalog's entries (one per registry; None when empty)."""
    for app_id in sorted(catalog.apps):
        developer = catalog.apps[app_id].developer
        if developer is not None:
            return developer.did
    return None


def claimed_networks(paths: NodePaths, store: BlobStore, *, besides: str) -> dict[str, str]:
    """network -> registry name, for every registry on this node except ``besides``."""
    claimed: dict[str, str] = {}
    for record in list_registries(paths):
        if record.name == besides:
            continue
        dids = {record.did} if record.did is not None else set()
        try:
            catalog = registry_catalog(paths, record.name, store)
        except (StateError, OSError, ValueError):
            catalog = None  # an unreadable catalog claims nothing beyond its pinned did
        if catalog is not None and (did := catalog_did(catalog)) is not None:
            dids.add(did)
        for did in sorted(dids):
            claimed.setdefault(registry_network(did), record.name)
    return claimed


def network_clash(paths: NodePaths, store: BlobStore, name: str, did: str) -> str | None:
    """Why registry ``name`` may not put its apps on ``did``'s network, or None."""
    network = registry_network(did)
    holder = claimed_networks(paths, store, besides=name).get(network)
    if holder is None:
        return None
    return (
        f"registry {name!r}: its apps' network {network} (did:key {did}) is registry "
        f"{holder!r}'s; two registries never share a network (P037)"
    )
