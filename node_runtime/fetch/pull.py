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

Where each file comes from, and in which order, is stated once in
:mod:`node_runtime.fetch.sources`; the pull adds the swarm seeds as it learns
them: the config's, the current catalog's and, once the new catalog has
verified, the ones it names (trusted only because the catalog is signed;
every blob is hash-checked anyway).

Any failure before step 5 leaves the current catalog as it was (the last
good one); the pull is recorded as failed with the reason, and
:class:`PullError` says which step failed and why, on one line.

Public API: ``CATALOG_TARGET``, ``POLL_CACHE_NAME``, ``PullResult``, ``PullError``,
``pull(paths, fetcher=None, reference_time=None, report=None, deadline_seconds=…,
check_catalog=None, app_ids=None) -> PullResult`` (``fetcher``: a
:class:`~node_runtime.fetch.sources.Sources`, or any fetcher used as the origin alone),
``default_sources(config, origin=None) -> Sources``, ``poll_cache(paths)``,
``targets_for_apps(catalog, app_ids) -> list[TargetFile]``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from catalog.catalog_delta import DeltaError, apply_delta, delta_target_name
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogError, TargetFile, parse_catalog
from node_runtime.fetch.conditional_cache import ConditionalCache
from node_runtime.fetch.fetcher import DownloadError, Fetcher
from node_runtime.fetch.http import (
    DEFAULT_PULL_DEADLINE_SECONDS,
    OriginFetcher,
    repository_urls,
)
from node_runtime.fetch.sources import SourceError, Sources, mirror_bases, sources_for
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.fetch.tuf_client import Updater
from node_runtime.store.blob_store import BlobError, BlobStore
from node_runtime.store.catalog_pointer import CatalogPointer
from node_runtime.store.node_config import NodeConfig, NodeConfigError, load_config
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError, utc_now_text
from node_runtime.store.pulls import PullRecord
from signing.errors import RepositoryError, TufError

CATALOG_TARGET = CATALOG_NAME
POLL_CACHE_NAME = "origin-cache.json"

# A further check of the signed catalog before it becomes current: a reason to refuse it
# (the whole catalog), or None (a third-party registry's developer signatures).
CatalogCheck = Callable[[AppCatalog], str | None]


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


def _catalog_from_delta(
    updater: Updater, store: BlobStore, sources: Sources, base: str, blake3: str, length: int
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
            remote = updater.remote_target_path(name, delta_blake3)
            sources.fetch_blob(store, remote, delta_blake3, info.length)
        result = apply_delta(store.read_verified(base), store.read_verified(delta_blake3), length)
        with store.receive(blake3, length) as sink:
            sink.write(result)
    except (SourceError, TufError, DeltaError, BlobError):
        return None  # refused: the full catalog is fetched instead
    return name


def _fetch_catalog(
    updater: Updater, store: BlobStore, sources: Sources, base: str | None
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
            remote = updater.remote_target_path(CATALOG_TARGET, blake3)
            sources.fetch_blob(store, remote, blake3, info.length, others, CATALOG_TARGET)
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
        swarm.dropped.drop(seed, f"cannot be used: {type(error).__name__}: {error}")


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


def default_sources(config: NodeConfig, origin: Fetcher | None = None) -> Sources:
    """The pull's sources (:mod:`node_runtime.fetch.sources`) for ``config``.

    The pull adds the seeds (config, current and new catalog) to its swarm.
    ``pull`` passes an origin fetcher whose conditional-GET cache lives in the
    node's state, so a poll where nothing changed is answered 304.
    """
    try:
        return sources_for(config, origin)
    except ValueError as error:
        raise PullError("config", str(error)) from None


def _pull_locked(
    paths: NodePaths,
    state: NodeState,
    config: NodeConfig,
    fetcher: Fetcher,
    reference_time: datetime | None,
    check_catalog: CatalogCheck | None = None,
    app_ids: Iterable[str] | None = None,
) -> PullResult:
    store = BlobStore(paths.blobs_dir)
    try:
        metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
    except ValueError as error:
        raise PullError("config", str(error)) from None
    if isinstance(fetcher, Sources):
        sources = fetcher
        sources.mirrors = mirror_bases(config.seeds)
    else:  # a bare fetcher is the origin, with the config's mirrors and no swarm
        sources = Sources(fetcher, metadata_url, targets_url, None, config.seeds)
    try:
        updater = Updater(
            paths.trust_dir,
            metadata_url,
            fetcher=sources,
            reference_time=reference_time,
        )
    except (TufError, OSError) as error:
        raise PullError("trust", f"{paths.trusted_root_file}: {error}") from None
    swarm = sources.swarm
    if swarm is not None:
        for seed in [*config.seeds, *_current_catalog_seeds(state, store)]:
            _add_seed(swarm, seed)
    _refresh_trust(updater, config.origin)
    held = state.current_catalog()
    pointer, catalog, catalog_downloaded = _fetch_catalog(
        updater, store, sources, None if held is None else held.current.blake3
    )
    problem = None if check_catalog is None else check_catalog(catalog)
    if problem is not None:
        if catalog_downloaded is not None:  # nothing unverified stays in the store
            with contextlib.suppress(BlobError, OSError):
                store.remove(pointer.blake3)
        raise PullError("catalog", f"refused whole, nothing kept: {problem}")
    if swarm is not None:
        for seed in catalog.seeds:
            _add_seed(swarm, seed)
    downloaded = [catalog_downloaded] if catalog_downloaded else []
    wanted = state.installed().apps if app_ids is None else app_ids
    for target in targets_for_apps(catalog, wanted):
        if not store.is_intact(target.blake3):
            sources.fetch_blob(
                store, target.target, target.blake3, target.length, label=target.name
            )
            downloaded.append(target.target)
    previous = state.current_catalog()
    held_pointer = None if previous is None else previous.current
    changed = held_pointer is None or held_pointer.blake3 != pointer.blake3
    if held_pointer is not None and held_pointer == pointer.model_copy(
        update={"pulled_at": held_pointer.pulled_at}
    ):
        pointer = held_pointer  # nothing new: keep the pointer as it was
    else:
        # a new catalog, or the same catalog re-signed by newer targets metadata (the
        # pointer then says which version vouches for it now; the rollback slot stays)
        state.switch_catalog(pointer)
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
    check_catalog: CatalogCheck | None = None,
    app_ids: Iterable[str] | None = None,
) -> PullResult:
    """Refresh trust and fetch; switch the current catalog only if everything verified.

    ``app_ids``: the apps whose files (icons, companion archives) to bring in; default the
    state root's installed apps (a third-party registry passes the ids it owns).

    ``check_catalog`` refuses a signed catalog for a further reason (a third-party
    registry's entries must carry their developer's did:key signatures): the pull then
    fails at step "catalog" and the blob it fetched is removed again.

    ``report`` hears each retry of the origin as it happens, and each fall-back to a seed
    (:mod:`node_runtime.fetch.sources`); ``deadline_seconds`` bounds
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
        else default_sources(
            config,
            OriginFetcher(
                conditional_cache=poll_cache(paths),
                report=report,
                deadline_seconds=deadline_seconds,
            ),
        )
    )
    if isinstance(active, Sources) and report is not None:
        active.report = report
    try:
        with state.lock():
            try:
                return _pull_locked(paths, state, config, active, reference_time, check_catalog)
            except PullError as error:
                _record_failure(state, error)
                raise
            except SourceError as error:  # no source delivered a target right
                failure = PullError("targets", str(error))
                _record_failure(state, failure)
                raise failure from None
            except (StateError, BlobError, OSError) as error:
                failure = PullError("store", str(error))
                _record_failure(state, failure)
                raise failure from None
    except StateError as error:
        raise PullError("state", str(error)) from None
    finally:
        if fetcher is None:
            active.close()
