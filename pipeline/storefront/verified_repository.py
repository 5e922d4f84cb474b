"""Read a published repository the way a node does: the TUF chain, then the catalog.

``read_verified_repository`` walks the client workflow of TUF 1.0.x §5 over an
:class:`~pipeline.publish.origin.Origin` (a local directory or an S3
prefix) with :class:`signing.trusted_set.TrustedSet`, the state machine the
node's updater drives: root rotations from the trusted root (``N+1.root.json``
until there is none), ``timestamp.json``, the snapshot and targets versions it
names (consistent snapshots), then ``app-catalog.json`` checked against the
length and hashes the targets metadata signs, and each app icon checked against
the BLAKE3 and length the signed catalog lists.  Nothing is taken from the
repository that this chain did not vouch for.

The pipeline does not import ``node_runtime`` (DESIGN §2): this is the same
state machine with the origin's ``read`` as its only transport and no cache.

Public API: ``read_verified_repository(origin, trusted_root, now) -> VerifiedRepository``,
``VerifiedRepository``, ``StorefrontSourceError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from catalog.address import blake3_hex
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogError, parse_catalog
from pipeline.publish.layout import (
    TIMESTAMP_PATH,
    root_path,
    snapshot_path,
    targets_metadata_path,
)
from pipeline.publish.origin import Origin, OriginError
from signing.errors import TufError
from signing.hashing import verify_length_and_hashes
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from signing.trusted_set import TrustedSet

MAX_ROOT_ROTATIONS = 256


class StorefrontSourceError(Exception):
    """The repository could not be read or did not verify; one line says which file and why."""


@dataclass(frozen=True)
class VerifiedRepository:
    """What a node would trust after a refresh, and the bytes that chain vouches for."""

    root: Root
    timestamp: Timestamp
    snapshot: Snapshot
    targets: Targets
    targets_signers: tuple[str, ...]
    """Key ids of the targets role whose signatures are on the published targets metadata."""
    catalog: AppCatalog
    catalog_bytes: bytes
    icons: dict[str, bytes]
    """App id -> icon SVG bytes (checked against the catalog's BLAKE3)."""

    @property
    def catalog_blake3(self) -> str:
        return blake3_hex(self.catalog_bytes)


def _read(origin: Origin, path: str) -> bytes:
    try:
        data = origin.read(path)
    except OriginError as error:
        raise StorefrontSourceError(str(error)) from None
    if data is None:
        raise StorefrontSourceError(f"{origin.describe(path)}: missing")
    return data


def _update(origin: Origin, path: str, update: Callable[[bytes], object]) -> None:
    try:
        update(_read(origin, path))
    except TufError as error:
        raise StorefrontSourceError(f"{origin.describe(path)}: {error}") from None


def _verified_chain(origin: Origin, trusted_root: bytes, now: datetime) -> TrustedSet:
    try:
        trusted = TrustedSet(trusted_root, now)
    except TufError as error:
        raise StorefrontSourceError(f"the trusted root does not verify: {error}") from None
    for _ in range(MAX_ROOT_ROTATIONS):
        path = root_path(trusted.root.version + 1)
        try:
            data = origin.read(path)
        except OriginError as error:
            raise StorefrontSourceError(str(error)) from None
        if data is None:
            break
        try:
            trusted.update_root(data)
        except TufError as error:
            raise StorefrontSourceError(f"{origin.describe(path)}: {error}") from None
    _update(origin, TIMESTAMP_PATH, trusted.update_timestamp)
    _update(origin, snapshot_path(trusted.timestamp.snapshot_meta.version), trusted.update_snapshot)
    targets_meta = trusted.snapshot.meta.get("targets.json")
    if targets_meta is None:
        raise StorefrontSourceError(f"{origin.describe()}: the snapshot does not list targets.json")
    _update(origin, targets_metadata_path(targets_meta.version), trusted.update_targets)
    return trusted


def _targets_signers(origin: Origin, trusted: TrustedSet) -> tuple[str, ...]:
    path = targets_metadata_path(trusted.targets.version)
    metadata = Metadata.from_bytes(_read(origin, path), Targets)
    allowed = set(trusted.root.roles["targets"].keyids)
    return tuple(sorted({s.keyid for s in metadata.signatures} & allowed))


def _hashed_path(name: str, hashes: dict[str, str]) -> str:
    directory, separator, plain = name.rpartition("/")
    return f"targets/{directory}{separator}{hashes['blake3']}.{plain}"


def read_verified_repository(
    origin: Origin, trusted_root: bytes, now: datetime
) -> VerifiedRepository:
    """Refresh like a node from ``trusted_root``, then fetch and check the catalog and icons."""
    trusted = _verified_chain(origin, trusted_root, now)
    info = trusted.targets.targets.get(CATALOG_NAME)
    if info is None:
        raise StorefrontSourceError(f"{origin.describe()}: the targets metadata has no catalog")
    if "blake3" not in info.hashes:
        raise StorefrontSourceError(f"{CATALOG_NAME}: the signed entry has no blake3 hash")
    catalog_path = _hashed_path(CATALOG_NAME, dict(info.hashes))
    catalog_bytes = _read(origin, catalog_path)
    try:
        verify_length_and_hashes(catalog_bytes, info.length, info.hashes)
        catalog = parse_catalog(catalog_bytes)
    except TufError as error:
        raise StorefrontSourceError(f"{origin.describe(catalog_path)}: {error}") from None
    except CatalogError as error:
        raise StorefrontSourceError(f"{origin.describe(catalog_path)}: {error}") from None
    icons: dict[str, bytes] = {}
    for app_id, app in sorted(catalog.apps.items()):
        if app.icon is None:
            continue
        path = f"targets/{app.icon.target}"
        data = _read(origin, path)
        if len(data) != app.icon.length or blake3_hex(data) != app.icon.blake3:
            raise StorefrontSourceError(
                f"{origin.describe(path)}: length or BLAKE3 differs from the signed catalog"
            )
        icons[app_id] = data
    return VerifiedRepository(
        root=trusted.root,
        timestamp=trusted.timestamp,
        snapshot=trusted.snapshot,
        targets=trusted.targets,
        targets_signers=_targets_signers(origin, trusted),
        catalog=catalog,
        catalog_bytes=catalog_bytes,
        icons=icons,
    )
