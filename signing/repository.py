"""Repository side: create, change and sign TUF metadata (pure functions).

Every function returns new objects; nothing is written anywhere.  The
publisher (``pipeline``) decides where the bytes go.

Public API:

- roles and keys: ``new_root(expires, role_keys, thresholds)``,
  ``add_key(root, role, key)``, ``remove_key(root, role, keyid)``,
  ``set_threshold(root, role, threshold)``;
- versions and expiry: ``bump(signed, expires)`` (version + 1, new expiry);
- signing: ``sign(signed, keys)``, ``add_signatures(metadata, keys)``
  (the ceremony: each maintainer adds one), ``rotate_root(current, next,
  current_keys, next_keys)`` (the next root cross-signed by a threshold of
  the current root keys and of its own);
- targets: ``target_file(path, data)`` (blake3 first), ``add_target``,
  ``remove_target``, ``delegate(targets, role, keys)``;
- snapshot and timestamp: ``snapshot_for(version, expires, targets_roles)``,
  ``timestamp_for(version, expires, snapshot_bytes)``;
- layout: ``consistent_snapshot_files(...) -> {relative path: bytes}``, the
  ``metadata/N.role.json`` + ``metadata/timestamp.json`` +
  ``targets/<dir>/<hash>.<name>`` tree of DESIGN §6.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from urllib.parse import quote

from signing.delegations import DelegatedRole, Delegations
from signing.hashing import digest_hex
from signing.keys import PublicKey, Signature, SigningKey, key_id
from signing.metadata import (
    Metadata,
    MetaFile,
    Role,
    Root,
    S,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from signing.metadata_fields import TOP_LEVEL_ROLES

DEFAULT_TARGET_HASHES = ("blake3",)


# --- roles and keys ---


def new_root(
    expires: datetime,
    role_keys: Mapping[str, Sequence[PublicKey]],
    thresholds: Mapping[str, int] | None = None,
    consistent_snapshot: bool = True,
) -> Root:
    """Version 1 of a root with the given keys for each top-level role."""
    if set(role_keys) != set(TOP_LEVEL_ROLES):
        raise ValueError(f"keys are needed for exactly the roles {TOP_LEVEL_ROLES}")
    thresholds = thresholds or {}
    keys: dict[str, PublicKey] = {}
    roles = {}
    for role_name in TOP_LEVEL_ROLES:
        keyids = []
        for key in role_keys[role_name]:
            keys[key_id(key)] = key
            keyids.append(key_id(key))
        roles[role_name] = _role(keyids, thresholds.get(role_name, 1))
    return Root(1, expires, keys, {n: roles[n] for n in TOP_LEVEL_ROLES}, consistent_snapshot)


def _role(keyids: Sequence[str], threshold: int) -> Role:
    if threshold < 1 or threshold > len(set(keyids)):
        raise ValueError(f"threshold {threshold} needs between 1 and {len(set(keyids))} keys")
    return Role(tuple(dict.fromkeys(keyids)), threshold)


def add_key(root: Root, role_name: str, key: PublicKey) -> Root:
    keyid = key_id(key)
    role = root.roles[role_name]
    if keyid in role.keyids:
        return root
    roles = {**root.roles, role_name: dataclasses.replace(role, keyids=(*role.keyids, keyid))}
    return dataclasses.replace(root, keys={**root.keys, keyid: key}, roles=roles)


def remove_key(root: Root, role_name: str, keyid: str) -> Root:
    role = root.roles[role_name]
    if keyid not in role.keyids:
        raise ValueError(f"{keyid} is not a key of {role_name}")
    remaining = tuple(k for k in role.keyids if k != keyid)
    if len(remaining) < role.threshold:
        raise ValueError(f"{role_name} would have fewer keys than its threshold")
    roles = {**root.roles, role_name: dataclasses.replace(role, keyids=remaining)}
    still_used = {k for r in roles.values() for k in r.keyids}
    keys = {k: v for k, v in root.keys.items() if k in still_used}
    return dataclasses.replace(root, keys=keys, roles=roles)


def set_threshold(root: Root, role_name: str, threshold: int) -> Root:
    role = root.roles[role_name]
    roles = {**root.roles, role_name: _role(role.keyids, threshold)}
    return dataclasses.replace(root, roles=roles)


def bump(signed: S, expires: datetime) -> S:
    """The next version of ``signed``, expiring at ``expires``."""
    return dataclasses.replace(signed, version=signed.version + 1, expires=expires)


# --- signing ---


def sign(signed: S, keys: Iterable[SigningKey]) -> Metadata[S]:
    """``signed`` with one signature from each of ``keys`` (cross-sign a root with old + new)."""
    return add_signatures(Metadata.unsigned(signed), keys)


def add_signatures(metadata: Metadata[S], keys: Iterable[SigningKey]) -> Metadata[S]:
    """Add (or replace) the signatures of ``keys``; other signatures are kept."""
    signatures: dict[str, Signature] = {s.keyid: s for s in metadata.signatures}
    for key in keys:
        signatures[key.keyid] = key.sign(metadata.signed_bytes)
    return dataclasses.replace(metadata, signatures=tuple(signatures.values()))


def rotate_root(
    current: Root,
    next_root: Root,
    current_keys: Iterable[SigningKey],
    next_keys: Iterable[SigningKey],
) -> Metadata[Root]:
    """``next_root`` signed by the current root keys and its own, as clients require."""
    if next_root.version != current.version + 1:
        raise ValueError(f"the next root must be version {current.version + 1}")
    return sign(next_root, [*current_keys, *next_keys])


# --- targets ---


def target_file(
    path: str, data: bytes, algorithms: Sequence[str] = DEFAULT_TARGET_HASHES
) -> TargetFile:
    """A target entry for ``data``; hashes in the given order (blake3 first by default)."""
    return TargetFile(path, len(data), {a: digest_hex(a, data) for a in algorithms})


def add_target(targets: Targets, target: TargetFile) -> Targets:
    return dataclasses.replace(targets, targets={**targets.targets, target.path: target})


def remove_target(targets: Targets, path: str) -> Targets:
    return dataclasses.replace(
        targets, targets={p: t for p, t in targets.targets.items() if p != path}
    )


def delegate(
    targets: Targets,
    role_name: str,
    keys: Sequence[PublicKey],
    paths: Sequence[str] = ("*",),
    threshold: int = 1,
    terminating: bool = False,
) -> Targets:
    """Add (or replace) a delegation from ``targets`` to ``role_name``, last in order."""
    current = targets.delegations or Delegations(keys={}, roles={})
    if current.roles is None:
        raise ValueError("this role uses succinct delegations")
    keyids = [key_id(key) for key in keys]
    role = DelegatedRole(
        role_name, _role(keyids, threshold).keyids, threshold, terminating, tuple(paths)
    )
    roles = {name: r for name, r in current.roles.items() if name != role_name}
    roles[role_name] = role
    all_keys = {**current.keys, **{key_id(key): key for key in keys}}
    return dataclasses.replace(
        targets, delegations=dataclasses.replace(current, keys=all_keys, roles=roles)
    )


# --- snapshot and timestamp ---


def meta_file(version: int, data: bytes | None = None) -> MetaFile:
    """What snapshot/timestamp record for a file: version, and length + sha256 if given bytes."""
    if data is None:
        return MetaFile(version)
    return MetaFile(version, len(data), {"sha256": digest_hex("sha256", data)})


def snapshot_for(
    version: int, expires: datetime, targets_roles: Mapping[str, Metadata[Targets]]
) -> Snapshot:
    """A snapshot listing the version of every targets role (top-level and delegated)."""
    meta = {f"{name}.json": MetaFile(md.signed.version) for name, md in targets_roles.items()}
    return Snapshot(version, expires, meta)


def timestamp_for(version: int, expires: datetime, snapshot: Metadata[Snapshot]) -> Timestamp:
    return Timestamp(version, expires, meta_file(snapshot.signed.version, snapshot.to_bytes()))


# --- layout ---


def _hash_prefixed(path: str, digest: str) -> str:
    directory, separator, name = path.rpartition("/")
    return f"{directory}{separator}{digest}.{name}"


def consistent_snapshot_files(
    roots: Sequence[Metadata[Root]],
    targets_roles: Mapping[str, Metadata[Targets]],
    snapshot: Metadata[Snapshot],
    timestamp: Metadata[Timestamp],
    artifacts: Iterable[tuple[TargetFile, bytes]] = (),
) -> dict[str, bytes]:
    """Every file of a consistent-snapshot repository, by path relative to its base.

    Every root version is kept (clients walk the chain); each artifact is
    written once per hash it lists, so a client may use any of them.
    """
    files: dict[str, bytes] = {}
    for root in roots:
        files[f"metadata/{root.signed.version}.root.json"] = root.to_bytes()
    for name, targets in targets_roles.items():
        files[f"metadata/{targets.signed.version}.{quote(name, safe='')}.json"] = targets.to_bytes()
    files[f"metadata/{snapshot.signed.version}.snapshot.json"] = snapshot.to_bytes()
    files["metadata/timestamp.json"] = timestamp.to_bytes()
    for target, data in artifacts:
        for digest in target.hashes.values():
            files[f"targets/{_hash_prefixed(target.path, digest)}"] = data
    return files
