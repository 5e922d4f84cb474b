"""A repository built with our own repository side (signing.repository), written to a directory.

Tests change it (add artifacts, rotate keys, delegate), publish, and then
tamper with the written files to stage attacks.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from signing import repository as repo
from signing.keys import SigningKey
from signing.metadata import (
    TOP_LEVEL_ROLES,
    Metadata,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(days=30)


class LiveRepository:
    def __init__(self, directory: Path, consistent_snapshot: bool = True) -> None:
        self.directory = directory
        self.keys: dict[str, list[SigningKey]] = {
            r: [SigningKey.generate()] for r in TOP_LEVEL_ROLES
        }
        root = repo.new_root(
            LATER,
            {r: [k.public_key for k in keys] for r, keys in self.keys.items()},
            consistent_snapshot=consistent_snapshot,
        )
        self.roots: list[Metadata[Root]] = [repo.sign(root, self.keys["root"])]
        self.unsigned_targets: dict[str, Targets] = {"targets": Targets(1, LATER)}
        self.targets: dict[str, Metadata[Targets]] = {}
        self.artifacts: list[tuple[TargetFile, bytes]] = []
        self.snapshot: Metadata[Snapshot] | None = None
        self.timestamp: Metadata[Timestamp] | None = None
        self.publish()

    @property
    def root(self) -> Root:
        return self.roots[-1].signed

    def root_bytes(self, version: int = 1) -> bytes:
        return self.roots[version - 1].to_bytes()

    # --- changes ---

    def add_artifact(
        self, path: str, data: bytes, role: str = "targets", hashes=("blake3",)
    ) -> TargetFile:
        target = repo.target_file(path, data, hashes)
        self.unsigned_targets[role] = repo.add_target(self.unsigned_targets[role], target)
        self.artifacts.append((target, data))
        return target

    def delegate(
        self, delegator: str, role: str, paths=("*",), terminating=False, threshold=1, key_count=1
    ) -> None:
        self.keys[role] = [SigningKey.generate() for _ in range(key_count)]
        self.unsigned_targets[delegator] = repo.delegate(
            self.unsigned_targets[delegator],
            role,
            [k.public_key for k in self.keys[role]],
            paths,
            threshold,
            terminating,
        )
        self.unsigned_targets.setdefault(role, Targets(1, LATER))

    def new_root(self, root: Root, new_root_keys: list[SigningKey] | None = None) -> None:
        """Publish ``root`` as the next version, cross-signed by the old and new root keys."""
        old_keys = self.keys["root"]
        if new_root_keys is not None:
            self.keys["root"] = new_root_keys
        bumped = dataclasses.replace(root, version=self.root.version + 1)
        self.roots.append(repo.rotate_root(self.root, bumped, old_keys, self.keys["root"]))

    def rotate_keys(self, role: str, count: int = 1, threshold: int = 1) -> None:
        """Replace every key of a top-level role with ``count`` fresh ones (root changes)."""
        fresh = [SigningKey.generate() for _ in range(count)]
        root = self.root
        for key in fresh:
            root = repo.add_key(root, role, key.public_key)
        root = dataclasses.replace(
            root, roles={**root.roles, role: dataclasses.replace(root.roles[role], threshold=1)}
        )
        for old in self.keys[role]:
            root = repo.remove_key(root, role, old.keyid)
        root = repo.set_threshold(root, role, threshold)
        if role == "root":
            self.new_root(root, fresh)
        else:
            self.keys[role] = fresh
            self.new_root(root)

    # --- publishing ---

    def publish(self, roles: tuple[str, ...] | None = None, expires: datetime = LATER) -> None:
        """Sign the given (default: changed) targets roles, snapshot, timestamp; write."""
        for name, signed in self.unsigned_targets.items():
            published = self.targets.get(name)
            if roles is not None and name not in roles and published is not None:
                continue
            if published is not None:
                if published.signed == signed:
                    continue
                signed = dataclasses.replace(signed, version=published.signed.version + 1)
            self.unsigned_targets[name] = signed
            self.targets[name] = repo.sign(signed, self.keys[name])
        self.sign_snapshot(expires)
        self.sign_timestamp(expires)
        self.write()

    def sign_snapshot(self, expires: datetime = LATER, version: int | None = None) -> None:
        version = version or (1 if self.snapshot is None else self.snapshot.signed.version + 1)
        self.snapshot = repo.sign(
            repo.snapshot_for(version, expires, self.targets), self.keys["snapshot"]
        )

    def sign_timestamp(self, expires: datetime = LATER, version: int | None = None) -> None:
        assert self.snapshot is not None
        version = version or (1 if self.timestamp is None else self.timestamp.signed.version + 1)
        self.timestamp = repo.sign(
            repo.timestamp_for(version, expires, self.snapshot), self.keys["timestamp"]
        )

    def write(self) -> None:
        assert self.snapshot is not None and self.timestamp is not None
        files = repo.consistent_snapshot_files(
            self.roots, self.targets, self.snapshot, self.timestamp, self.artifacts
        )
        for relative, data in files.items():
            path = self.directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if not self.root.consistent_snapshot:
            for name, md in self.targets.items():
                (self.directory / "metadata" / f"{name}.json").write_bytes(md.to_bytes())
            (self.directory / "metadata" / "snapshot.json").write_bytes(self.snapshot.to_bytes())
            for target, data in self.artifacts:
                path = self.directory / "targets" / target.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)

    def metadata_path(self, name: str) -> Path:
        return self.directory / "metadata" / name
