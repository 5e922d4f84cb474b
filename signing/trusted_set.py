"""The client's trusted-metadata state machine (TUF 1.0.x §5, "Detailed client workflow").

``TrustedSet`` holds the metadata the client trusts.  It takes *bytes* and
either trusts them or raises; it never opens a file or a socket, and it knows
nothing about where the bytes came from.  The order of the workflow is
enforced: root (any number of rotations) → timestamp → snapshot → targets →
delegated targets.  ``reference_time`` is fixed when the set is created, so
every expiry check of one update uses the same instant.

Public API (all ``update_*`` raise :class:`signing.errors.RepositoryError`
subclasses; calling them out of order raises ``RuntimeError``):

- ``TrustedSet(root_bytes, reference_time=None)`` — the locally trusted root,
  verified only by itself (an expired initial root is accepted here; the
  *final* root's expiry is checked before the timestamp is loaded);
- ``update_root(bytes)`` — version must be exactly N+1, signed by a threshold
  of the old root's root keys *and* of its own;
- ``update_timestamp(bytes)`` — :class:`EqualVersionNumberError` if it is the
  version already trusted (keep the old one); an expired timestamp is kept as
  the rollback reference but raises :class:`ExpiredMetadataError`;
- ``update_snapshot(bytes, trusted=False)`` — length and hashes from timestamp
  are checked *before* parsing unless the bytes are the client's own cache;
- ``update_targets(bytes)``, ``update_delegated_targets(bytes, role, delegator)``;
- ``root``, ``timestamp``, ``snapshot``, ``targets`` properties and
  ``delegated_targets(role, delegator)``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from signing.errors import (
    BadVersionNumberError,
    EqualVersionNumberError,
    ExpiredMetadataError,
    RepositoryError,
)
from signing.hashing import verify_length_and_hashes
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp, is_expired
from signing.threshold import verify_delegate


class TrustedSet:
    def __init__(self, root_data: bytes, reference_time: datetime | None = None) -> None:
        self.reference_time = reference_time or datetime.now(UTC)
        root = Metadata.from_bytes(root_data, Root)
        verify_delegate(root.signed, "root", root)
        self._root: Root = root.signed
        self._timestamp: Timestamp | None = None
        self._snapshot: Snapshot | None = None
        # Delegated metadata is trusted per (delegator, role): a role reached
        # through another delegator must be verified against that one's keys.
        self._targets: dict[tuple[str, str], Targets] = {}

    # --- what is trusted now ---

    @property
    def root(self) -> Root:
        return self._root

    @property
    def timestamp(self) -> Timestamp:
        if self._timestamp is None:
            raise RuntimeError("no timestamp is trusted yet")
        return self._timestamp

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise RuntimeError("no snapshot is trusted yet")
        return self._snapshot

    @property
    def targets(self) -> Targets:
        targets = self._targets.get(("root", "targets"))
        if targets is None:
            raise RuntimeError("no targets metadata is trusted yet")
        return targets

    def has_timestamp(self) -> bool:
        return self._timestamp is not None

    def has_snapshot(self) -> bool:
        return self._snapshot is not None

    def delegated_targets(self, role_name: str, delegator_name: str) -> Targets | None:
        return self._targets.get((delegator_name, role_name))

    # --- root ---

    def update_root(self, data: bytes) -> Root:
        if self._timestamp is not None:
            raise RuntimeError("root cannot change once the timestamp is loaded")
        new_root = Metadata.from_bytes(data, Root)
        verify_delegate(self._root, "root", new_root)
        expected = self._root.version + 1
        if new_root.signed.version != expected:
            raise BadVersionNumberError(
                f"root: expected version {expected}, got {new_root.signed.version}"
            )
        verify_delegate(new_root.signed, "root", new_root)
        self._root = new_root.signed
        return self._root

    # --- timestamp ---

    def update_timestamp(self, data: bytes) -> Timestamp:
        if self._snapshot is not None:
            raise RuntimeError("timestamp cannot change once the snapshot is loaded")
        if is_expired(self._root, self.reference_time):
            raise ExpiredMetadataError("root: expired (the final root must be current)")
        new = Metadata.from_bytes(data, Timestamp)
        verify_delegate(self._root, "timestamp", new)
        timestamp = new.signed
        if self._timestamp is not None:
            if timestamp.version < self._timestamp.version:
                raise BadVersionNumberError(
                    f"timestamp: version {timestamp.version} is older than the trusted "
                    f"version {self._timestamp.version}"
                )
            if timestamp.version == self._timestamp.version:
                raise EqualVersionNumberError("timestamp: same version as the trusted one")
            if timestamp.snapshot_meta.version < self._timestamp.snapshot_meta.version:
                raise BadVersionNumberError(
                    f"timestamp: snapshot version {timestamp.snapshot_meta.version} is older "
                    f"than the trusted {self._timestamp.snapshot_meta.version}"
                )
        # Trusted even if expired: it still guards against rollback of the next one.
        self._timestamp = timestamp
        self._check_timestamp_current()
        return timestamp

    def _check_timestamp_current(self) -> None:
        if is_expired(self.timestamp, self.reference_time):
            raise ExpiredMetadataError("timestamp: expired")

    # --- snapshot ---

    def update_snapshot(self, data: bytes, trusted: bool = False) -> Snapshot:
        if self._timestamp is None:
            raise RuntimeError("snapshot needs a trusted timestamp first")
        if self._targets:
            raise RuntimeError("snapshot cannot change once targets are loaded")
        self._check_timestamp_current()
        snapshot_meta = self._timestamp.snapshot_meta
        if not trusted:
            verify_length_and_hashes(data, snapshot_meta.length, snapshot_meta.hashes)
        new = Metadata.from_bytes(data, Snapshot)
        verify_delegate(self._root, "snapshot", new)
        snapshot = new.signed
        if self._snapshot is not None:
            for name, old_info in self._snapshot.meta.items():
                new_info = snapshot.meta.get(name)
                if new_info is None:
                    raise RepositoryError(f"snapshot: no longer lists {name!r}")
                if new_info.version < old_info.version:
                    raise BadVersionNumberError(
                        f"snapshot: {name} version {new_info.version} is older than the "
                        f"trusted version {old_info.version}"
                    )
        # Trusted even if not final: it still guards against rollback of the next one.
        self._snapshot = snapshot
        self._check_snapshot_final()
        return snapshot

    def _check_snapshot_final(self) -> None:
        snapshot = self.snapshot
        if is_expired(snapshot, self.reference_time):
            raise ExpiredMetadataError("snapshot: expired")
        expected = self.timestamp.snapshot_meta.version
        if snapshot.version != expected:
            raise BadVersionNumberError(
                f"snapshot: timestamp names version {expected}, got {snapshot.version}"
            )

    # --- targets ---

    def update_targets(self, data: bytes) -> Targets:
        return self.update_delegated_targets(data, "targets", "root")

    def update_delegated_targets(self, data: bytes, role_name: str, delegator_name: str) -> Targets:
        if self._snapshot is None:
            raise RuntimeError("targets need a trusted snapshot first")
        self._check_snapshot_final()
        delegator: Root | Targets | None
        if delegator_name == "root":
            delegator = self._root
        else:
            delegator = next(
                (t for (_, name), t in self._targets.items() if name == delegator_name), None
            )
        if delegator is None:
            raise RuntimeError(f"delegator {delegator_name!r} is not trusted yet")
        meta = self._snapshot.meta.get(f"{role_name}.json")
        if meta is None:
            raise RepositoryError(f"snapshot does not list {role_name!r}")
        verify_length_and_hashes(data, meta.length, meta.hashes)
        new = Metadata.from_bytes(data, Targets)
        verify_delegate(delegator, role_name, new)
        targets = new.signed
        if targets.version != meta.version:
            raise BadVersionNumberError(
                f"{role_name}: snapshot names version {meta.version}, got {targets.version}"
            )
        if is_expired(targets, self.reference_time):
            raise ExpiredMetadataError(f"{role_name}: expired")
        self._targets[(delegator_name, role_name)] = targets
        return targets
