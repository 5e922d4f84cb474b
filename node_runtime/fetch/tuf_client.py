"""The TUF client workflow (the updater): what to fetch next, what to keep on disk.

``Updater`` drives :class:`signing.trusted_set.TrustedSet` (which decides
what is trusted) with bytes from a :class:`node_runtime.fetch.fetcher.Fetcher`
(which only moves bytes).  The metadata directory holds the trusted metadata
under non-versioned names (``root.json``, ``timestamp.json``, …, delegated
roles URL-quoted so no role name can leave the directory), each file exactly
the bytes the server sent, written atomically and durably (file and
directory fsynced: :func:`node_runtime.store.atomic_file.write_file_atomically`).

Public API:

- ``UpdaterConfig`` — rotation/delegation bounds and download caps
  (root 512 kB, timestamp 16 kB, snapshot 2 MB, targets 5 MB by default);
- ``Updater(metadata_dir, metadata_base_url, target_dir=None,
  target_base_url=None, fetcher=None, config=None, reference_time=None)``;
- ``.refresh()`` — root chain, timestamp, snapshot, top-level targets (once);
- ``.get_targetinfo(path) -> TargetFile | None`` — pre-order depth-first
  search of the delegations (refreshes first if needed); ``all_targets()`` every
  target the top-level role and its delegated roles resolve to;
- ``.find_cached_target(info) -> Path | None``, ``.download_target(info) -> Path``;
- ``remote_target_path(path, blake3)`` (on an Updater) and ``hash_prefixed_path(path,
  digest)`` — where a target is published.

Raises :class:`signing.errors.TufError` subclasses for anything untrusted or
undeliverable, ``OSError`` when the local directories fail.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from node_runtime.fetch.fetcher import Fetcher, RemoteFileNotFoundError
from node_runtime.fetch.http import fetcher_for
from node_runtime.store.atomic_file import write_file_atomically
from signing.errors import EqualVersionNumberError, ExpiredMetadataError, RepositoryError
from signing.hashing import verify_chunks
from signing.metadata import Root, TargetFile, Targets, is_expired
from signing.trusted_set import TrustedSet


@dataclass(frozen=True)
class UpdaterConfig:
    max_root_rotations: int = 256
    max_delegations: int = 32
    root_max_length: int = 512_000
    timestamp_max_length: int = 16_384
    snapshot_max_length: int = 2_000_000
    targets_max_length: int = 5_000_000
    prefix_targets_with_hash: bool = True


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else f"{url}/"


def hash_prefixed_path(path: str, digest: str) -> str:
    """A target's published name under consistent snapshots: ``dir/<digest>.<name>``."""
    directory, separator, name = path.rpartition("/")
    return f"{directory}{separator}{digest}.{name}"


def role_file_name(role_name: str) -> str:
    """The local (and remote) file name of a role: URL-quoted, never a path."""
    return f"{quote(role_name, safe='')}.json"


class Updater:
    def __init__(
        self,
        metadata_dir: Path | str,
        metadata_base_url: str,
        target_dir: Path | str | None = None,
        target_base_url: str | None = None,
        fetcher: Fetcher | None = None,
        config: UpdaterConfig | None = None,
        reference_time: datetime | None = None,
    ) -> None:
        self._dir = Path(metadata_dir)
        self._metadata_url = _with_slash(metadata_base_url)
        self.target_dir = None if target_dir is None else Path(target_dir)
        self._target_url = None if target_base_url is None else _with_slash(target_base_url)
        self._fetcher = fetcher or fetcher_for(metadata_base_url)
        self.config = config or UpdaterConfig()
        root_bytes = (self._dir / "root.json").read_bytes()
        self._trusted = TrustedSet(root_bytes, reference_time)
        self._refreshed = False
        self._ignore_cached_timestamp_and_snapshot = False

    @property
    def trusted_set(self) -> TrustedSet:
        return self._trusted

    # --- the workflow ---

    def refresh(self) -> None:
        """Bring root, timestamp, snapshot and top-level targets up to date (once)."""
        if self._refreshed:
            raise RuntimeError("refresh() runs once per Updater")
        self._refreshed = True
        self._load_root()
        self._load_timestamp()
        self._load_snapshot()
        self._load_targets("targets", "root")

    def _load_root(self) -> None:
        initial = self._trusted.root
        first = initial.version + 1
        try:
            for version in range(first, first + self.config.max_root_rotations):
                try:
                    data = self._download_metadata("root", self.config.root_max_length, version)
                except RemoteFileNotFoundError:
                    break
                self._trusted.update_root(data)
                self._persist("root", data)
        finally:
            self._forget_after_online_key_rotation(initial)

    def _forget_after_online_key_rotation(self, initial: Root) -> None:
        """Spec 5.3.11: new timestamp or snapshot keys void the cached timestamp and snapshot.

        This is the recovery from a fast-forward attack: versions pushed up by a
        stolen online key must not block the repository once the key is replaced.
        The cached files are only ignored, not deleted: they stay the trusted
        metadata on disk until a verified newer version replaces them, so a
        refresh that fails later (say, the new snapshot misses its threshold)
        leaves the last trusted versions in place, as python-tuf does.
        """
        final = self._trusted.root
        self._ignore_cached_timestamp_and_snapshot = any(
            set(initial.roles[role].keyids) != set(final.roles[role].keyids)
            for role in ("timestamp", "snapshot")
        )

    def _load_timestamp(self) -> None:
        local = (
            None if self._ignore_cached_timestamp_and_snapshot else self._read_local("timestamp")
        )
        if local is not None:
            # An invalid or expired local copy is not fatal; a valid one (even
            # expired) becomes the rollback reference for the new one.
            with contextlib.suppress(RepositoryError):
                self._trusted.update_timestamp(local)
        data = self._download_metadata("timestamp", self.config.timestamp_max_length)
        try:
            self._trusted.update_timestamp(data)
        except EqualVersionNumberError:
            # Nothing new (an unchanged file, or an origin answering 304): the
            # copy we hold must still be current, or the refresh stops here.
            if is_expired(self._trusted.timestamp, self._trusted.reference_time):
                raise ExpiredMetadataError(
                    "timestamp: expired, and the origin has no newer one"
                ) from None
            return  # keep the file we have
        self._persist("timestamp", data)

    def _load_snapshot(self) -> None:
        local = None if self._ignore_cached_timestamp_and_snapshot else self._read_local("snapshot")
        if local is not None:
            try:
                self._trusted.update_snapshot(local, trusted=True)
                return  # the cached snapshot is the one timestamp names
            except RepositoryError:
                pass
        meta = self._trusted.timestamp.snapshot_meta
        version = meta.version if self._trusted.root.consistent_snapshot else None
        length = meta.length or self.config.snapshot_max_length
        data = self._download_metadata("snapshot", length, version)
        self._trusted.update_snapshot(data)
        self._persist("snapshot", data)

    def _load_targets(self, role_name: str, delegator_name: str) -> Targets:
        trusted = self._trusted.delegated_targets(role_name, delegator_name)
        if trusted is not None:
            return trusted
        local = self._read_local(role_name)
        if local is not None:
            try:
                return self._trusted.update_delegated_targets(local, role_name, delegator_name)
            except RepositoryError:
                pass
        meta = self._trusted.snapshot.meta.get(f"{role_name}.json")
        if meta is None:
            raise RepositoryError(f"{role_name!r} is delegated but not listed in snapshot")
        version = meta.version if self._trusted.root.consistent_snapshot else None
        length = meta.length or self.config.targets_max_length
        data = self._download_metadata(role_name, length, version)
        targets = self._trusted.update_delegated_targets(data, role_name, delegator_name)
        self._persist(role_name, data)
        return targets

    # --- targets ---

    def get_targetinfo(self, target_path: str) -> TargetFile | None:
        """The trusted entry for ``target_path``, found by pre-order depth-first search."""
        if not self._refreshed:
            self.refresh()
        to_visit: list[tuple[str, str]] = [("targets", "root")]
        visited: set[str] = set()
        while to_visit and len(visited) <= self.config.max_delegations:
            role_name, delegator_name = to_visit.pop()
            if role_name in visited:
                continue  # a cycle, or a role reached again through another path
            targets = self._load_targets(role_name, delegator_name)
            found = targets.targets.get(target_path)
            if found is not None:
                return found
            visited.add(role_name)
            if targets.delegations is None:
                continue
            children: list[tuple[str, str]] = []
            for child_name, terminating in targets.delegations.roles_for_target(target_path):
                children.append((child_name, role_name))
                if terminating:
                    to_visit.clear()  # a terminating role: no backtracking past it
                    break
            to_visit.extend(reversed(children))
        return None

    def all_targets(self) -> dict[str, TargetFile]:
        """Every target a search finds: the top-level role's, and each delegated role's entry
        that :meth:`get_targetinfo` resolves to (delegated roles listed by name; a mirror
        such as a seed walks them to serve every file)."""
        found = dict(self.trusted_set.targets.targets)
        to_visit: list[tuple[str, str]] = [("targets", "root")]
        visited: set[str] = set()
        while to_visit and len(visited) <= self.config.max_delegations:
            role_name, delegator_name = to_visit.pop()
            if role_name in visited:
                continue
            visited.add(role_name)
            targets = self._load_targets(role_name, delegator_name)
            for name, info in targets.targets.items():
                if name not in found and self.get_targetinfo(name) == info:
                    found[name] = info
            roles = None if targets.delegations is None else targets.delegations.roles
            to_visit.extend((child, role_name) for child in reversed(list(roles or {})))
        return found

    def _local_target_path(self, info: TargetFile) -> Path:
        if self.target_dir is None:
            raise ValueError("target_dir is needed to store targets")
        return self.target_dir / quote(info.path, safe="")

    def remote_target_path(self, path: str, blake3: str) -> str:
        """Where a target is on the origin: hash-prefixed under consistent snapshots."""
        if not self._trusted.root.consistent_snapshot:
            return path
        return hash_prefixed_path(path, blake3)

    def find_cached_target(self, info: TargetFile) -> Path | None:
        """The local copy of ``info`` if it exists with the right length and hashes."""
        path = self._local_target_path(info)
        try:
            with path.open("rb") as stream:
                verify_chunks(iter(lambda: stream.read(1 << 20), b""), info.length, info.hashes)
        except (OSError, RepositoryError):
            return None
        return path

    def download_target(self, info: TargetFile) -> Path:
        """Fetch ``info``, verify length and every hash, then move it into place."""
        if self._target_url is None:
            raise ValueError("target_base_url is needed to download targets")
        destination = self._local_target_path(info)
        destination.parent.mkdir(parents=True, exist_ok=True)
        remote_path = info.path
        if self._trusted.root.consistent_snapshot and self.config.prefix_targets_with_hash:
            remote_path = hash_prefixed_path(info.path, next(iter(info.hashes.values())))
        handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "w+b") as stream:
                self._fetcher.download_to(self._target_url + remote_path, info.length, stream)
                stream.seek(0)
                verify_chunks(iter(lambda: stream.read(1 << 20), b""), info.length, info.hashes)
            os.replace(temporary, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return destination

    # --- storage and transport ---

    def _download_metadata(
        self, role_name: str, max_length: int, version: int | None = None
    ) -> bytes:
        name = role_file_name(role_name)
        url = self._metadata_url + (name if version is None else f"{version}.{name}")
        return self._fetcher.download_bytes(url, max_length)

    def _read_local(self, role_name: str) -> bytes | None:
        try:
            return (self._dir / role_file_name(role_name)).read_bytes()
        except OSError:
            return None

    def _persist(self, role_name: str, data: bytes) -> None:
        write_file_atomically(self._dir / role_file_name(role_name), data)
