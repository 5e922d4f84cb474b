"""``archy-node seed sync``: mirror an origin's targets and metadata into a seed store.

The store is the layout :class:`node_runtime.seed.store.SeedStore` serves:

    STORE/trust/root.json …     the sync's own trusted metadata (TUF client state)
    STORE/blobs/<blake3>        every target, named by its BLAKE3
    STORE/metadata/…            the origin's metadata files, by their published
                                names (``N.root.json``, ``N.snapshot.json``,
                                ``N.targets.json``, delegated roles such as
                                ``N.app-files.json``, ``timestamp.json``)

A sync is the TUF client workflow: refresh (root chain, timestamp, snapshot,
targets) from the origin, then walk the signed targets — the top-level role's
and every delegated role's (``app-files`` holds the icons and companion
archives: :mod:`pipeline.publish.targets_layout`) — and fetch each blob the
store does not already hold intact, checking its length and every hash before
it is stored.  A blob that does not verify is refused and the sync fails; a
re-run fetches only what is new.  Only metadata the refresh accepted is copied
to ``metadata/``, and in the publish order: blobs first, versioned metadata
next, ``timestamp.json`` last — a node reading the seed's metadata (when its
origin is down) never sees a target the seed does not hold.

Public API: ``SeedSyncError``, ``SeedSyncReport``, ``sync_seed_store(store_dir,
origin, root_bytes=None, s3_endpoint=None, fetcher=None) -> SeedSyncReport``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.refusal import Refused
from node_runtime.fetch.fetcher import (
    FIRST_ATTEMPT,
    Attempt,
    DownloadError,
    Fetcher,
    RemoteFileNotFoundError,
)
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.tuf_client import Updater
from node_runtime.seed.store import PUBLISHED_METADATA_NAME
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.blob_store import BlobMismatchError, BlobStore
from signing.errors import TufError
from signing.trusted_set import TrustedSet

ROOT_MAX_BYTES = 512 * 1024


class SeedSyncError(Refused):
    """The sync was refused or failed; one line says why.  The store keeps what verified."""


@dataclass
class SeedSyncReport:
    origin: str
    store: str
    targets_version: int = 0
    fetched: list[str] = field(default_factory=list)
    """Target paths fetched by this sync."""
    already_held: int = 0
    bytes_fetched: int = 0
    skipped_without_blake3: list[str] = field(default_factory=list)
    metadata_written: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "store": self.store,
            "targets_version": self.targets_version,
            "fetched": self.fetched,
            "already_held": self.already_held,
            "bytes_fetched": self.bytes_fetched,
            "skipped_without_blake3": self.skipped_without_blake3,
            "metadata_written": self.metadata_written,
        }


class _RecordingFetcher(Fetcher):
    """Passes everything to the origin fetcher; remembers the metadata files it downloaded."""

    def __init__(self, origin: Fetcher, metadata_url: str) -> None:
        self.origin = origin
        self.metadata_url = metadata_url
        self.metadata: dict[str, bytes] = {}

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        name = url.removeprefix(self.metadata_url)
        if not (url.startswith(self.metadata_url) and PUBLISHED_METADATA_NAME.fullmatch(name)):
            yield from self.origin.stream(url, max_length, attempt)
            return
        data = self.origin.download_bytes(url, max_length)  # metadata is small: kept whole
        self.metadata[name] = data
        yield data


def _initial_trust(trust_dir: Path, root_bytes: bytes | None) -> None:
    if (trust_dir / "root.json").exists():
        return
    if root_bytes is None:
        raise SeedSyncError(
            f"{trust_dir.parent} has never been synced; pass --root ROOT.json (the registry's "
            "published root) for the first sync"
        )
    try:
        TrustedSet(root_bytes)
    except TufError as error:
        raise SeedSyncError(f"the root is not trustworthy: {error}") from None
    trust_dir.mkdir(parents=True, exist_ok=True)
    write_file_atomically(trust_dir / "root.json", root_bytes)


def _fetch_targets(
    updater: Updater, fetcher: Fetcher, targets_url: str, blobs: BlobStore, report: SeedSyncReport
) -> None:
    for path, info in sorted(updater.all_targets().items()):
        blake3 = info.hashes.get("blake3")
        if blake3 is None:
            report.skipped_without_blake3.append(path)
            continue
        if blobs.is_intact(blake3):
            report.already_held += 1
            continue
        remote = updater.remote_target_path(path, blake3)
        others = {name: value for name, value in info.hashes.items() if name != "blake3"}
        try:
            with blobs.receive(blake3, info.length, others) as sink:
                fetcher.download_to(targets_url + remote, info.length, sink)
        except BlobMismatchError as error:
            raise SeedSyncError(
                f"{path}: the origin's bytes are not what was signed ({error.reason}); "
                "nothing was stored for it"
            ) from None
        except DownloadError as error:
            raise SeedSyncError(f"{path}: {error}") from None
        report.fetched.append(remote)
        report.bytes_fetched += info.length


def _copy_metadata(
    updater: Updater,
    recorded: dict[str, bytes],
    origin: Fetcher,
    metadata_url: str,
    metadata_dir: Path,
    trust_dir: Path,
    report: SeedSyncReport,
) -> None:
    metadata_dir.mkdir(parents=True, exist_ok=True)
    files = dict(recorded)
    root_version = updater.trusted_set.root.version
    names = [f"{version}.root.json" for version in range(1, root_version + 1)]
    for name in names:
        if name in files or (metadata_dir / name).exists():
            continue
        if name == f"{root_version}.root.json":
            files[name] = (trust_dir / "root.json").read_bytes()
            continue
        try:  # an older root the sync started past: the node checks the chain itself
            files[name] = origin.download_bytes(metadata_url + name, ROOT_MAX_BYTES)
        except RemoteFileNotFoundError:
            continue
        except DownloadError as error:
            raise SeedSyncError(f"metadata/{name}: {error}") from None
    timestamp = files.pop("timestamp.json", None)
    for name in sorted(files):
        target = metadata_dir / name
        if not target.exists() or target.read_bytes() != files[name]:
            write_file_atomically(target, files[name])
            report.metadata_written.append(name)
    if timestamp is not None:
        current = metadata_dir / "timestamp.json"
        if not current.exists() or current.read_bytes() != timestamp:
            write_file_atomically(current, timestamp)
            report.metadata_written.append("timestamp.json")


def sync_seed_store(
    store_dir: Path,
    origin: str,
    root_bytes: bytes | None = None,
    s3_endpoint: str | None = None,
    fetcher: Fetcher | None = None,
) -> SeedSyncReport:
    """Mirror ``origin`` into ``store_dir``; raise :class:`SeedSyncError` on any refusal."""
    try:
        metadata_url, targets_url = repository_urls(origin, s3_endpoint)
    except ValueError as error:
        raise SeedSyncError(str(error)) from None
    trust_dir = store_dir / "trust"
    _initial_trust(trust_dir, root_bytes)
    report = SeedSyncReport(origin=origin, store=str(store_dir))
    active = fetcher if fetcher is not None else OriginFetcher()
    try:
        recording = _RecordingFetcher(active, metadata_url)
        try:
            updater = Updater(trust_dir, metadata_url, fetcher=recording)
            updater.refresh()
        except DownloadError as error:
            raise SeedSyncError(f"cannot download metadata from {origin}: {error}") from None
        except TufError as error:
            raise SeedSyncError(f"refused the metadata from {origin}: {error}") from None
        except OSError as error:
            raise SeedSyncError(f"{trust_dir}: {error}") from None
        report.targets_version = updater.trusted_set.targets.version
        _fetch_targets(updater, active, targets_url, BlobStore(store_dir / "blobs"), report)
        _copy_metadata(
            updater,
            recording.metadata,
            active,
            metadata_url,
            store_dir / "metadata",
            trust_dir,
            report,
        )
    finally:
        if fetcher is None and isinstance(active, OriginFetcher):
            active.close()
    return report
