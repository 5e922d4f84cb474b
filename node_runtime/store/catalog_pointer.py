"""``state/catalog.json``: which verified catalog blob is current (and the one before it).

Only this module reads or writes the file (through ``state_file``);
:func:`load_current_catalog` reads the catalog itself back from the blob store,
re-verified.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from catalog.catalog_model import AppCatalog, CatalogError, parse_catalog
from node_runtime.store.blob_store import BlobError, BlobStore
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model,
)


class CatalogPointer(StateModel):
    """One verified catalog in the blob store, and what the node knew about it when pulled."""

    blake3: str
    length: int
    commit: str
    targets_version: int = Field(description="the TUF targets metadata version that signed it")
    pulled_at: str


class CurrentCatalog(StateModel):
    """``state/catalog.json``: the catalog the node applies, and the one before it."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    current: CatalogPointer
    previous: CatalogPointer | None = None


def read_current_catalog(paths: NodePaths) -> CurrentCatalog | None:
    return load_model(paths.catalog_pointer_file, CurrentCatalog)


def switch_catalog(paths: NodePaths, pointer: CatalogPointer) -> CurrentCatalog:
    """Make ``pointer`` current in one rename; the old current becomes ``previous``."""
    old = read_current_catalog(paths)
    if old is not None and old.current.blake3 == pointer.blake3:
        switched = old.model_copy(update={"current": pointer})
    else:
        previous = None if old is None else old.current
        switched = CurrentCatalog(current=pointer, previous=previous)
    save_model(paths.catalog_pointer_file, switched)
    return switched


def move_pointer_aside(paths: NodePaths) -> Path:
    """Rename ``state/catalog.json`` to ``catalog.json.unreadable``; return the new path."""
    pointer = paths.catalog_pointer_file
    aside = pointer.with_name(f"{pointer.name}.unreadable")
    try:
        os.replace(pointer, aside)
    except OSError as error:
        raise StateError(f"{pointer}: cannot move aside ({error.strerror})") from None
    return aside


@dataclass(frozen=True)
class LoadedCatalog:
    pointer: CatalogPointer
    catalog: AppCatalog


def load_current_catalog_at(paths: NodePaths, store: BlobStore) -> LoadedCatalog | None:
    """The current catalog, re-verified from the store; None before the first pull.

    Raises :class:`StateError` when its blob is missing or was changed on disk
    (a changed blob is removed, so the next pull fetches it again).
    """
    pointer = read_current_catalog(paths)
    if pointer is None:
        return None
    blake3 = pointer.current.blake3
    try:
        data = store.read_verified(blake3)
    except BlobError as error:
        raise StateError(f"the current catalog: {error}; run `archy-node pull`") from None
    try:
        catalog = parse_catalog(data)
    except CatalogError as error:
        raise StateError(f"the current catalog (blob {blake3}): {error}") from None
    return LoadedCatalog(pointer.current, catalog)
