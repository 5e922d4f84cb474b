"""Which source serves what, and in which order — stated here, once, for the whole node.

Words: the **origin** is the repository the node's config names (file,
HTTP(S) or S3).  A **swarm seed** is an ``http(s)://`` or ``iroh://`` peer
serving blobs by BLAKE3 (from the config, the current catalog and, once it
has verified, the new catalog); it is asked through
:class:`~node_runtime.fetch.swarm.MultiSourceBlobFetcher`.  A **mirror** is a
config seed that is not iroh (``file://`` or ``http(s)://``), read as a
plain copy of the origin's ``targets/``.

Metadata (the TUF updater reads it through :meth:`Sources.stream`):

1. the origin — its answer stands whenever it gives one (a file it does not
   have, or one over the length cap, is not asked of anyone else: origin wins);
2. only when the origin cannot be reached: each live swarm seed's
   ``/metadata/`` copy in turn (recorded in ``metadata_from_seed``; the TUF
   client checks it like any other).

Blobs (:meth:`Sources.fetch_blob`, into the node's store):

1. the swarm seeds, in parallel, by range (when any is live);
2. the origin's ``targets/`` (bytes that are not what was signed stop the
   pull: the origin is the registry);
3. each mirror in config order.

Falling back is said aloud: when ``report`` is set, a metadata file read from a
seed and a blob asked of a mirror after the origin failed each get one line (what,
from where, why).

A source that serves wrong bytes is dropped for the rest of the pull, in one
place: the swarm's :class:`~node_runtime.fetch.swarm.DroppedSources`, which
both the swarm and the mirrors consult.

Public API: ``SourceError``, ``Sources(origin, metadata_url, targets_url,
swarm=None, mirrors=())`` (``stream``, ``fetch_blob``, ``metadata_from_seed``,
``dropped``, ``swarm``, ``mirrors``), ``mirror_bases(seeds)``, ``mirror_name(seed)``,
``sources_for(config, origin=None) -> Sources``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from node_runtime.fetch.fetcher import (
    FIRST_ATTEMPT,
    Attempt,
    DownloadError,
    DownloadLengthError,
    Fetcher,
    RemoteFileNotFoundError,
)
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.seed_transport import BlobUnavailableError, seed_root_url
from node_runtime.fetch.swarm import DroppedSources, MultiSourceBlobFetcher
from node_runtime.store.blob_store import BlobMismatchError, BlobStore

if TYPE_CHECKING:  # the config imports this package's URL rules: no cycle at run time
    from node_runtime.store.node_config import NodeConfig


class SourceError(Exception):
    """No source delivered a blob; the message says what each source did, on one line."""


def mirror_name(seed: str) -> str:
    """The name a mirror is dropped under: an HTTP seed's root (as the swarm names it)."""
    return seed_root_url(seed) if seed.startswith(("http://", "https://")) else seed.rstrip("/")


def mirror_bases(seeds: Sequence[str]) -> list[str]:
    """The mirrors among a config's seeds (every one but iroh), as base URLs ending in ``/``."""
    return [
        seed if seed.endswith("/") else f"{seed}/"
        for seed in seeds
        if not seed.startswith("iroh://")
    ]


class Sources(Fetcher):
    """The pull's sources for one pull (see the module text for the order)."""

    def __init__(
        self,
        origin: Fetcher,
        metadata_url: str,
        targets_url: str,
        swarm: MultiSourceBlobFetcher | None = None,
        mirrors: Sequence[str] = (),
    ) -> None:
        self.origin = origin
        self.metadata_url = metadata_url
        self.targets_url = targets_url
        self.swarm = swarm
        self.dropped = swarm.dropped if swarm is not None else DroppedSources()
        self.mirrors = mirror_bases(mirrors)
        self.metadata_from_seed: list[str] = []
        """Metadata files read from a seed because the origin was unreachable."""
        self.report: Callable[[str], None] | None = None
        """Hears one line each time the pull falls back from the origin to a seed."""

    def _say(self, line: str) -> None:
        if self.report is not None:
            self.report(line)

    def close(self) -> None:
        if self.swarm is not None:
            self.swarm.close()
        self.origin.close()

    # --- metadata ---

    def stream(
        self, url: str, max_length: int, attempt: Attempt = FIRST_ATTEMPT
    ) -> Iterator[bytes]:
        if not url.startswith(self.metadata_url):
            yield from self.origin.stream(url, max_length, attempt)
            return
        try:
            data = self.origin.download_bytes(url, max_length)
        except (RemoteFileNotFoundError, DownloadLengthError):
            raise  # the origin answered: its answer stands
        except DownloadError as origin_error:
            data = self._metadata_from_seeds(url, max_length, origin_error)
        yield data

    def _metadata_from_seeds(self, url: str, max_length: int, origin_error: DownloadError) -> bytes:
        name = url.removeprefix(self.metadata_url)
        failures = [f"origin: {origin_error}"]
        not_found = 0
        for transport in self.swarm.live() if self.swarm is not None else []:
            seed_url = transport.metadata_url(name)
            if seed_url is None:
                continue
            try:
                data = self.origin.download_bytes(seed_url, max_length)
            except RemoteFileNotFoundError:
                not_found += 1
                failures.append(f"{transport.name}: no {name}")
                continue
            except DownloadError as error:
                failures.append(f"{transport.name}: {error}")
                continue
            self.metadata_from_seed.append(f"{transport.name}/metadata/{name}")
            self._say(
                f"the origin did not answer for {name} ({origin_error}); read it from seed "
                f"{transport.name} instead (checked like any metadata)"
            )
            return data
        if not_found and not_found == len(failures) - 1:
            raise RemoteFileNotFoundError(f"{url}: " + "; ".join(failures))
        raise DownloadError(f"{url}: " + "; ".join(failures))

    # --- blobs ---

    def fetch_blob(
        self,
        store: BlobStore,
        target_path: str,
        blake3: str,
        length: int,
        other_hashes: Mapping[str, str] | None = None,
        label: str | None = None,
    ) -> None:
        """Bring one blob into the store; :class:`SourceError` if no source has it right.

        ``target_path`` is the blob's path under ``targets/`` (hash-prefixed
        under consistent snapshots).  A local I/O error while the swarm writes
        raises :class:`~node_runtime.fetch.seed_transport.LocalStoreError`.
        """
        label = f"{label or target_path} (blake3 {blake3[:12]}…)"
        if self.swarm is not None and self.swarm.live():
            try:
                with store.receive(blake3, length, other_hashes) as sink:
                    self.swarm.fetch(blake3, length, sink)
                return
            except (BlobUnavailableError, BlobMismatchError):
                pass  # the origin and the mirrors are asked next
        failures: list[str] = []
        try:
            with store.receive(blake3, length, other_hashes) as sink:
                self.origin.download_to(self.targets_url + target_path, length, sink)
            return
        except BlobMismatchError as error:
            raise SourceError(
                f"{label} from the origin is not what was signed: {error.reason}"
            ) from None
        except DownloadError as error:
            failures.append(str(error))
        for base in self.mirrors:
            name = mirror_name(base)
            if name in self.dropped:
                continue
            self._say(f"{label}: the origin failed ({failures[-1]}); trying seed {name}")
            try:
                with store.receive(blake3, length, other_hashes) as sink:
                    self.origin.download_to(base + target_path, length, sink)
                return
            except BlobMismatchError:
                self.dropped.drop(name, "served bytes that do not match the signed hashes")
                failures.append(f"seed {base} served wrong bytes (dropped)")
            except DownloadError as error:
                failures.append(str(error))
        raise SourceError(f"{label}: " + "; ".join(failures))


def sources_for(config: NodeConfig, origin: Fetcher | None = None) -> Sources:
    """A node's sources: ``origin`` (an :class:`OriginFetcher` if None), an empty swarm
    (the pull adds the seeds of the config and the catalogs) and the config's mirrors.

    Raises ValueError for an origin the node cannot read.
    """
    metadata_url, targets_url = repository_urls(config.origin, config.s3_endpoint)
    return Sources(
        origin or OriginFetcher(),
        metadata_url,
        targets_url,
        MultiSourceBlobFetcher(),
        config.seeds,
    )
