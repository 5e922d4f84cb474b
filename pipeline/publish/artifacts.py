"""The build's outputs as TUF targets: ``dist/app-catalog.json`` and what it refers to.

``archy build`` writes the catalog to ``<dist>/app-catalog.json`` and every
file it names (icons, companion archives, node binaries) to
``<dist>/targets/<target path>``, hash-prefixed as the catalog names it.  The
target *name* a node asks for is the path without the hash
(``icons/bitcoin-core.svg``).  Every file is checked against the BLAKE3 and
length the catalog records before it is signed or published.

Public API: ``BuildOutputs`` and ``read_build_outputs(dist_dir) -> BuildOutputs``;
``ArtifactError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogError, parse_catalog
from catalog.refusal import Refused


class ArtifactError(Refused):
    """The build outputs are missing, unreadable or do not match the catalog."""


@dataclass(frozen=True)
class BuildOutputs:
    catalog_bytes: bytes
    catalog: AppCatalog
    artifacts: tuple[tuple[str, bytes], ...]
    """(target name, bytes) for the catalog and every file it refers to."""


def read_build_outputs(dist_dir: Path) -> BuildOutputs:
    catalog_path = dist_dir / CATALOG_NAME
    try:
        catalog_bytes = catalog_path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{catalog_path}: no catalog here (run `archy build` first)") from None
    try:
        catalog = parse_catalog(catalog_bytes)
    except CatalogError as error:
        raise ArtifactError(f"{catalog_path}: {error}") from None
    artifacts: list[tuple[str, bytes]] = [(CATALOG_NAME, catalog_bytes)]
    for target in catalog.targets():
        path = dist_dir / "targets" / target.target
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArtifactError(f"{path}: missing; the catalog refers to it") from None
        if len(data) != target.length or blake3_hex(data) != target.blake3:
            raise ArtifactError(f"{path}: does not match the BLAKE3 and length in the catalog")
        artifacts.append((target.name, data))
    return BuildOutputs(catalog_bytes, catalog, tuple(artifacts))
