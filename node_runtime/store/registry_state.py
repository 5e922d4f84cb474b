"""Third-party registries on this node: their records, the app ids they own, and the one
catalog the node applies (the official one with the third-party apps it owns merged in).

Layout, under the state root::

    registries/<name>/registry.json     what the owner said when adding it (RegistryRecord)
    registries/<name>/config.json       its origin and seeds (a NodeConfig, as for the node)
    registries/<name>/trust/            its own trusted TUF metadata (its own root)
    registries/<name>/state/catalog.json  its current verified catalog (a CatalogPointer)
    state/app-registries.json           app id -> the registry that owns it (AppRegistries)

A registry's state root is read with the same modules as the node's own
(``NodePaths(registries/<name>, shared_blobs=<the node's blobs>)``): one TUF client, one
pull, one pointer format; only the blobs are shared (content-addressed, hash-checked).

An app id owned by a registry stays owned until its data is purged, so no other registry
(the official one included) can take over its derived names, data dir or secrets.
:func:`merged_catalog` makes the owned ids resolve to the owning registry's entries and
never to the official catalog's.  Pure apart from reading these files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from catalog.catalog_model import AppCatalog, CatalogApp
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import LoadedCatalog, load_current_catalog_at
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.state_file import STATE_SCHEMA_VERSION, StateModel, load_model, save_model

REGISTRY_FILE = "registry.json"
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
RESERVED_NAMES = frozenset({"official", "archy", "cap", "local"})


def registry_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a registry (it becomes a directory and a prefix), or None."""
    if not _NAME.fullmatch(name):
        shown = name if len(name) <= 60 and name.isprintable() else repr(name[:60])
        return (
            f"registry name {shown!r}: use 2-40 characters, a lowercase letter first, then "
            "lowercase letters, digits or '-'"
        )
    if name in RESERVED_NAMES:
        return f"registry name {name!r} is reserved"
    return None


class RegistryRecord(StateModel):
    """``registries/<name>/registry.json``: a third-party registry the owner added."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    name: str
    origin: str
    root_blake3: str = Field(description="BLAKE3 of the root the owner trusted when adding it")
    did: str | None = Field(
        default=None, description="every entry must be signed by this did:key (when set)"
    )
    allow_capabilities: list[str] = Field(
        default_factory=list,
        description="capabilities its apps may use from, or give to, apps of other registries",
    )
    min_score: int | None = Field(
        default=None,
        description="installs of its apps scoring below this need --i-trust-this-developer",
    )
    trusted_dids: list[str] = Field(
        default_factory=list, description="developer did:keys the owner trusts explicitly"
    )
    relays: list[str] = Field(
        default_factory=list,
        description="relays asked for revocations of developer did:keys on every pull",
    )
    added_at: str
    added_from: str | None = Field(default=None, description="the announcement it came from")


class AppRegistries(StateModel):
    """``state/app-registries.json``: the app ids third-party registries own on this node."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, str] = Field(default_factory=dict, description="app id -> registry name")


def registry_root(paths: NodePaths, name: str) -> Path:
    return paths.registries_dir / name


def registry_paths(paths: NodePaths, name: str) -> NodePaths:
    """The registry's own state root, sharing the node's blob store."""
    return NodePaths(registry_root(paths, name), shared_blobs=paths.blobs_dir)


def read_registry(paths: NodePaths, name: str) -> RegistryRecord | None:
    if registry_name_problem(name) is not None:
        return None
    path = registry_root(paths, name) / REGISTRY_FILE
    record = load_model(path, RegistryRecord)
    if record is not None and record.name != name:
        raise StateError(f"{path}: name: {record.name!r}, but the directory is {name!r}")
    return record


def save_registry(root: Path, record: RegistryRecord) -> None:
    save_model(root / REGISTRY_FILE, record)


def list_registries(paths: NodePaths) -> list[RegistryRecord]:
    """Every added registry, by name (half-added ones, in ``.``-directories, are skipped)."""
    try:
        names = sorted(entry.name for entry in paths.registries_dir.iterdir() if entry.is_dir())
    except FileNotFoundError:
        return []
    except OSError as error:
        raise StateError(f"{paths.registries_dir}: cannot list ({error.strerror})") from None
    records = []
    for name in names:
        record = read_registry(paths, name)
        if record is not None:
            records.append(record)
    return records


def read_app_registries(paths: NodePaths) -> AppRegistries:
    return load_model(paths.app_registries_file, AppRegistries) or AppRegistries()


def save_app_registries(paths: NodePaths, owners: AppRegistries) -> None:
    save_model(paths.app_registries_file, owners)


def registry_catalog(paths: NodePaths, name: str, store: BlobStore) -> AppCatalog | None:
    """The registry's current verified catalog; None before its first good pull."""
    loaded = load_current_catalog_at(registry_paths(paths, name), store)
    return None if loaded is None else loaded.catalog


def merged_catalog(paths: NodePaths, store: BlobStore, official: LoadedCatalog) -> LoadedCatalog:
    """The official catalog, with every app id a registry owns taken from that registry.

    An owned id never resolves to the official entry of the same id (it would hand the
    registry's names and data to another publisher); when the owning registry's catalog
    no longer has it (or cannot be read), the id is simply absent.
    """
    owners = read_app_registries(paths).apps
    if not owners:
        return official
    apps: dict[str, CatalogApp] = dict(official.catalog.apps)
    catalogs: dict[str, AppCatalog | None] = {}
    for app_id, name in sorted(owners.items()):
        apps.pop(app_id, None)
        if registry_name_problem(name) is not None:
            continue  # not a registry this node could have added: the id resolves to nothing
        if name not in catalogs:
            try:
                catalogs[name] = registry_catalog(paths, name, store)
            except StateError:
                catalogs[name] = None
        catalog = catalogs[name]
        if catalog is not None and app_id in catalog.apps:
            apps[app_id] = catalog.apps[app_id]
    merged = official.catalog.model_copy(update={"apps": dict(sorted(apps.items()))})
    return LoadedCatalog(official.pointer, merged)
