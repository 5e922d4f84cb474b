"""``archy-node pull``: refresh trust, fetch the catalog and what installed apps need.

The order, all under the state lock:

1. refresh trust with the TUF client workflow (root chain, timestamp,
   snapshot, targets) from the origin — metadata freshness always comes from
   the origin;
2. look up ``app-catalog.json`` in the trusted targets and bring its blob into
   the store (a blob already there is re-hashed; a tampered one is fetched
   again): when the node holds a catalog and the signed targets name a delta
   from it (``catalog-deltas/<blake3>.patch``, :mod:`catalog.catalog_delta`),
   the delta is fetched and applied, and the result kept only if it is
   exactly the signed catalog; otherwise (no delta, or any failure) the
   catalog is fetched whole;
3. parse the catalog;
4. bring in the targets the installed apps need (icons, companion archives),
   by the BLAKE3 the signed catalog names;
5. switch the current catalog pointer in one rename, and record the pull.

Where blobs come from (the default pull): the swarm seeds first — the
config's ``http(s)://`` and ``iroh://`` seeds, the seeds the current catalog
names, and, once the new catalog has verified, the seeds it names (trusted
only because the catalog is signed; every blob is hash-checked anyway) —
then the origin, then ``file://`` and plain HTTP mirrors of ``targets/`` from
the config.  A seed that serves wrong bytes is dropped for the rest of the
pull.  Metadata always comes from the origin when it answers; a seed's copy
is read only when the origin cannot be reached, and checked like any other.

Any failure before step 5 leaves the current catalog as it was (the last
good one); the pull is recorded as failed with the reason, and
:class:`PullError` says which step failed and why, on one line.

Public API: ``CATALOG_TARGET``, ``PullResult``, ``PullError``,
``pull(paths, fetcher=None, reference_time=None) -> PullResult``,
``default_fetcher(config, origin=None) -> SeedAwareFetcher``, ``poll_cache(paths)``,
``targets_for_apps(catalog, app_ids) -> list[TargetFile]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from catalog.catalog_delta import DeltaError, apply_delta, delta_target_name
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogError, TargetFile, parse_catalog
from node_runtime.blob_store import BlobError, BlobMismatchError, BlobStore
from node_runtime.conditional_cache import ConditionalCache
from node_runtime.node_config import NodeConfig, NodeConfigError, load_config
from node_runtime.node_state import (
    CatalogPointer,
    NodePaths,
    NodeState,
    PullRecord,
    StateError,
    utc_now_text,
)
from node_runtime.origin_fetcher import (
    DEFAULT_PULL_DEADLINE_SECONDS,
    OriginFetcher,
    repository_urls,
)
from node_runtime.seed_fetcher import MultiSourceBlobFetcher, SeedAwareFetcher
from node_runtime.tuf_fetcher import DownloadError, Fetcher
from node_runtime.tuf_updater import Updater
from signing.errors import RepositoryError, TufError

CATALOG_TARGET = CATALOG_NAME
POLL_CACHE_NAME = "origin-cache.json"


class PullError(Exception):
    """The pull failed; the current catalog is unchanged.  ``step`` names what failed."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


@dataclass(frozen=True)
class PullResult:
    pointer: CatalogPointer
    changed: bool
    """True when the current catalog switched to a new one."""
    downloaded: list[str] = field(default_factory=list)
    """Target paths fetched by this pull (empty when everything was already in the store);
    a catalog built from a delta is listed as the delta's name."""


def targets_for_apps(catalog: AppCatalog, app_ids: Iterable[str]) -> list[TargetFile]:
    """The files the given apps need on the node: their icons and companion archives."""
    needed: dict[str, TargetFile] = {}
    for app_id in app_ids:
        app = catalog.apps.get(app_id)
        if app is None:
            continue
        if app.icon is not None:
            needed[app.icon.target] = app.icon
        for companion in app.companions:
            if companion.archive is not None:
                needed[companion.archive.target] = companion.archive
    return [needed[path] for path in sorted(needed)]


class _BlobSources:
    """Where blobs come from: the origin's targets/ first, then each seed still trusted."""

    def __init__(self, fetcher: Fetcher, targets_url: str, seeds: list[str]) -> None:
        self._fetcher = fetcher
        self._origin = targets_url
        mirrors = [seed for seed in seeds if not seed.startswith("iroh://")]
        self._seeds = [seed if seed.endswith("/") else f"{seed}/" for seed in mirrors]

    def fetch(
        self,
        store: BlobStore,
        target_path: str,
        blake3: str,
        length: int,
        other_hashes: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> None:
        """Bring one blob into the store; raise :class:`PullError` if no source has it right."""
        label = f"{label or target_path} (blake3 {blake3[:12]}…)"
        failures: list[str] = []
        for base in [self._origin, *self._seeds]:
            try:
                with store.receive(blake3, length, other_hashes) as sink:
                    self._fetcher.download_to(base + target_path, length, sink)
                return
            except BlobMismatchError as error:
                if base == self._origin:
                    raise PullError(
                        "targets", f"{label} from the origin is not what was signed: {error.reason}"
                    ) from None
                self._seeds.remove(base)  # a seed that lies is not asked again in this pull
                failures.append(f"seed {base} served wrong bytes (dropped)")
            except DownloadError as error:
                failures.append(str(error))
        raise PullError("targets", f"{label}: " + "; ".join(failures))


def _record_failure(state: NodeState, error: PullError) -> None:
    with contextlib.suppress(StateError):  # the pull error is the one to report
        state.record_pull(PullRecord(at=utc_now_text(), ok=False, error=str(error)))


def _refresh_trust(updater: Updater, origin: str) -> None:
    try:
        updater.refresh()
    except DownloadError as error:
        raise PullError("trust", f"cannot download metadata from {origin}: {error}") from None
    except RepositoryError as error:
        raise PullError(
            "trust",
            f"refused the metadata from {origin}: {error} (the current catalog is kept)",
        ) from None
    except TufError as error:
        raise PullError("trust", f"{origin}: {error}") from None


def _remote_name(updater: Updater, name: str, blake3: str) -> str:
    """Where a target is on the origin: hash-prefixed under consistent snapshots."""
    if not updater.trusted_set.root.consistent_snapshot:
        return name
    directory, separator, file_name = name.rpartition("/")
    return f"{directory}{separator}{blake3}.{file_name}"


def _catalog_from_delta(
    updater: Updater, store: BlobStore, sources: _BlobSources, base: str, blake3: str, length: int
) -> str | None:
    """Build the signed catalog from the one held (``base``) and a signed delta.

    Returns the delta's target name, or None when there is no delta for this
    base or it fails in any way (the caller then fetches the catalog whole):
    the delta must match its signed BLAKE3 and length, apply to the base, and
    give exactly the signed catalog's BLAKE3 and length.
    """
    name = delta_target_name(base)
    try:
        info = updater.get_targetinfo(name)
        if info is None or "blake3" not in info.hashes or not store.is_intact(base):
            return None
        delta_blake3 = info.hashes["blake3"]
        if not store.is_intact(delta_blake3):
            sources.fetch(
                store, _remote_name(updater, name, delta_blake3), delta_blake3, info.length
            )
        result = apply_delta(store.read_verified(base), store.read_verified(delta_blake3), length)
        with store.receive(blake3, length) as sink:
            sink.write(result)
    except (PullError, TufError, DeltaError, BlobError):
        return None  # refused: the full catalog is fetched instead
    return name


def _fetch_catalog(
    updater: Updater, store: BlobStore, sources: _BlobSources, base: str | None
) -> tuple[CatalogPointer, AppCatalog, str | None]:
    """The signed catalog into the store: ``(pointer, catalog, what was downloaded)``.

    With a catalog already held (``base``), a signed delta from it is tried
    first; the whole catalog is fetched when there is none or it fails.
    """
    try:
        info = updater.get_targetinfo(CATALOG_TARGET)
    except TufError as error:
        raise PullError("catalog", f"looking up {CATALOG_TARGET}: {error}") from None
    if info is None:
        raise PullError("catalog", f"the repository's signed targets have no {CATALOG_TARGET}")
    blake3 = info.hashes.get("blake3")
    if blake3 is None:
        raise PullError("catalog", f"{CATALOG_TARGET} is signed without a blake3 hash")
    downloaded = None
    if not store.is_intact(blake3):
        others = {name: value for name, value in info.hashes.items() if name != "blake3"}
        if base is not None and base != blake3 and not others:
            downloaded = _catalog_from_delta(updater, store, sources, base, blake3, info.length)
        if downloaded is None:
            remote = _remote_name(updater, CATALOG_TARGET, blake3)
            sources.fetch(store, remote, blake3, info.length, others, CATALOG_TARGET)
            downloaded = CATALOG_TARGET
    try:
        catalog = parse_catalog(store.read_verified(blake3))
    except CatalogError as error:
        raise PullError("catalog", f"the signed {CATALOG_TARGET} is unreadable: {error}") from None
    except BlobError as error:
        raise PullError("catalog", str(error)) from None
    pointer = CatalogPointer(
        blake3=blake3,
        length=info.length,
        commit=catalog.source.commit,
        targets_version=updater.trusted_set.targets.version,
        pulled_at=utc_now_text(),
    )
    return pointer, catalog, downloaded


def _add_seed(swarm: MultiSourceBlobFetcher, seed: str) -> None:
    try:
        swarm.add_seed(seed)
    except Exception as error:  # an iroh endpoint that cannot bind must not stop the pull
        swarm.dropped.setdefault(seed, f"cannot be used: {type(error).__name__}: {error}")


def _current_catalog_seeds(state: NodeState, store: BlobStore) -> list[str]:
    """The seeds the current (verified) catalog names; none when it cannot be read."""
    current = state.current_catalog()
    if current is None:
        return []
    try:
        return list(parse_catalog(store.read_verified(current.current.blake3)).seeds)
    except (BlobError, CatalogError):
        return []


def poll_cache(paths: NodePaths) -> ConditionalCache:
    """The validators of the origin's last ``timestamp.json``, kept between pulls."""
    return ConditionalCache(paths.state_dir / POLL_CACHE_NAME)


def default_fetcher(config: NodeConfig, origin: Fetcher | None = None) -> SeedAwareFetcher:
    """The pull's fetcher: the origin for metadata, swarm seeds first for blobs.

    The pull adds the seeds (config, current and new catalog) to its ``blobs``.
    ``pull`` passes an origin fetcher whose conditional-GET cache lives in the
    node's state, so a poll where nothing changed is answered 304.
    """
    try:
        metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
    except ValueError as error:
        raise PullError("config", str(error)) from None
    return SeedAwareFetcher(
        origin or OriginFetcher(), metadata_url, targets_url, MultiSourceBlobFetcher()
    )


def _pull_locked(
    paths: NodePaths,
    state: NodeState,
    config: NodeConfig,
    fetcher: Fetcher,
    reference_time: datetime | None,
) -> PullResult:
    store = BlobStore(paths.blobs_dir)
    try:
        metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
    except ValueError as error:
        raise PullError("config", str(error)) from None
    sources = _BlobSources(fetcher, targets_url, config.seeds)
    try:
        updater = Updater(
            paths.trust_dir,
            metadata_url,
            fetcher=fetcher,
            reference_time=reference_time,
        )
    except (TufError, OSError) as error:
        raise PullError("trust", f"{paths.trusted_root_file}: {error}") from None
    swarm = fetcher.blobs if isinstance(fetcher, SeedAwareFetcher) else None
    if swarm is not None:
        for seed in [*config.seeds, *_current_catalog_seeds(state, store)]:
            _add_seed(swarm, seed)
    _refresh_trust(updater, config.origin)
    held = state.current_catalog()
    pointer, catalog, catalog_downloaded = _fetch_catalog(
        updater, store, sources, None if held is None else held.current.blake3
    )
    if swarm is not None:
        for seed in catalog.seeds:
            _add_seed(swarm, seed)
    downloaded = [catalog_downloaded] if catalog_downloaded else []
    for target in targets_for_apps(catalog, state.installed().apps):
        if not store.is_intact(target.blake3):
            sources.fetch(store, target.target, target.blake3, target.length, label=target.name)
            downloaded.append(target.target)
    previous = state.current_catalog()
    changed = previous is None or previous.current.blake3 != pointer.blake3
    if changed:
        state.switch_catalog(pointer)
    else:
        assert previous is not None
        pointer = previous.current
    state.record_pull(
        PullRecord(
            at=utc_now_text(),
            ok=True,
            catalog_blake3=pointer.blake3,
            changed=changed,
            downloaded=downloaded,
        )
    )
    return PullResult(pointer=pointer, changed=changed, downloaded=downloaded)


def pull(
    paths: NodePaths,
    fetcher: Fetcher | None = None,
    reference_time: datetime | None = None,
    report: Callable[[str], None] | None = None,
    deadline_seconds: float | None = DEFAULT_PULL_DEADLINE_SECONDS,
) -> PullResult:
    """Refresh trust and fetch; switch the current catalog only if everything verified.

    ``report`` hears each retry of the origin as it happens; ``deadline_seconds`` bounds
    the origin's part of the pull (retries and waits included).
    """
    try:
        config = load_config(paths)
    except NodeConfigError as error:
        raise PullError("config", str(error)) from None
    state = NodeState(paths)
    active = (
        fetcher
        if fetcher is not None
        else default_fetcher(
            config,
            OriginFetcher(
                conditional_cache=poll_cache(paths),
                report=report,
                deadline_seconds=deadline_seconds,
            ),
        )
    )
    try:
        with state.lock():
            try:
                return _pull_locked(paths, state, config, active, reference_time)
            except PullError as error:
                _record_failure(state, error)
                raise
            except (StateError, BlobError, OSError) as error:
                failure = PullError("store", str(error))
                _record_failure(state, failure)
                raise failure from None
    except StateError as error:
        raise PullError("state", str(error)) from None
    finally:
        if fetcher is None and isinstance(active, SeedAwareFetcher):
            active.blobs.close()
            if isinstance(active.origin, OriginFetcher):
                active.origin.close()
