"""TUF delegations: which role may sign for which target paths, and how paths match.

``DelegatedRole`` lists its paths (shell-style patterns per ``/`` segment, same depth)
or path hash prefixes, never both; ``SuccinctRoles`` names bins by hash prefix;
``Delegations`` holds the keys and the roles in their order of trust, which the
client's search follows.  Parsing keeps unknown fields in ``extra`` so the signed
bytes can be rebuilt.  Pure: no I/O.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from signing.errors import MetadataFormatError
from signing.keys import PublicKey
from signing.metadata_fields import (
    TOP_LEVEL_ROLES,
    as_object,
    boolean_field,
    integer_field,
    keys_field,
    string_field,
    string_list,
    unknown_fields,
)

_LOWER_HEX = frozenset("0123456789abcdef")


def path_matches_pattern(target_path: str, pattern: str) -> bool:
    """TUF path patterns: shell wildcards per ``/``-separated segment, same depth."""
    target_parts = target_path.split("/")
    pattern_parts = pattern.split("/")
    if len(target_parts) != len(pattern_parts):
        return False
    return all(
        fnmatch.fnmatchcase(part, pattern_part)
        for part, pattern_part in zip(target_parts, pattern_parts, strict=True)
    )


@dataclass(frozen=True)
class DelegatedRole:
    name: str
    keyids: tuple[str, ...]
    threshold: int
    terminating: bool = False
    paths: tuple[str, ...] | None = None
    path_hash_prefixes: tuple[str, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> DelegatedRole:
        data = as_object(data, path)
        paths = data.get("paths")
        prefixes = data.get("path_hash_prefixes")
        if paths is not None and prefixes is not None:
            raise MetadataFormatError(f"{path}: has both paths and path_hash_prefixes")
        return cls(
            name=string_field(data, "name", path),
            keyids=string_list(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=integer_field(data, "threshold", path, 1),
            terminating=boolean_field(data, "terminating", path),
            paths=None if paths is None else string_list(paths, f"{path}.paths", unique=False),
            path_hash_prefixes=None
            if prefixes is None
            else string_list(prefixes, f"{path}.path_hash_prefixes", unique=False),
            extra=unknown_fields(
                data, ("name", "keyids", "threshold", "terminating", "paths", "path_hash_prefixes")
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            **self.extra,
            "name": self.name,
            "keyids": list(self.keyids),
            "threshold": self.threshold,
            "terminating": self.terminating,
        }
        if self.paths is not None:
            result["paths"] = list(self.paths)
        if self.path_hash_prefixes is not None:
            result["path_hash_prefixes"] = list(self.path_hash_prefixes)
        return result

    def is_delegated_path(self, target_path: str) -> bool:
        if self.paths is not None:
            return any(path_matches_pattern(target_path, pattern) for pattern in self.paths)
        if self.path_hash_prefixes is not None:
            digest = hashlib.sha256(target_path.encode()).hexdigest()
            return any(digest.startswith(prefix) for prefix in self.path_hash_prefixes)
        return False


@dataclass(frozen=True)
class SuccinctRoles:
    """TAP 15 hash-bin delegation: ``2**bit_length`` roles ``<prefix>-<bin hex>``."""

    keyids: tuple[str, ...]
    threshold: int
    bit_length: int
    name_prefix: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> SuccinctRoles:
        data = as_object(data, path)
        bit_length = integer_field(data, "bit_length", path, 1)
        if bit_length > 32:
            raise MetadataFormatError(f"{path}.bit_length: must be ≤ 32")
        return cls(
            keyids=string_list(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=integer_field(data, "threshold", path, 1),
            bit_length=bit_length,
            name_prefix=string_field(data, "name_prefix", path),
            extra=unknown_fields(data, ("keyids", "threshold", "bit_length", "name_prefix")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "keyids": list(self.keyids),
            "threshold": self.threshold,
            "bit_length": self.bit_length,
            "name_prefix": self.name_prefix,
        }

    def _suffix_length(self) -> int:
        return len(f"{2**self.bit_length - 1:x}")

    def role_for_target(self, target_path: str) -> str:
        digest = hashlib.sha256(target_path.encode()).digest()
        bin_number = int.from_bytes(digest[:4], "big") >> (32 - self.bit_length)
        return f"{self.name_prefix}-{bin_number:0{self._suffix_length()}x}"

    def is_role(self, role_name: str) -> bool:
        prefix = f"{self.name_prefix}-"
        suffix = role_name[len(prefix) :]
        if not role_name.startswith(prefix) or len(suffix) != self._suffix_length():
            return False
        # lowercase hex digits only: int() alone would take "-1", "+1" or " 1"
        if not suffix or any(char not in _LOWER_HEX for char in suffix):
            return False
        bins: int = 2**self.bit_length
        return int(suffix, 16) < bins


@dataclass(frozen=True)
class Delegations:
    keys: Mapping[str, PublicKey]
    roles: Mapping[str, DelegatedRole] | None = None
    succinct_roles: SuccinctRoles | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Delegations:
        data = as_object(data, path)
        has_roles, has_succinct = "roles" in data, "succinct_roles" in data
        if has_roles == has_succinct:
            raise MetadataFormatError(f"{path}: needs exactly one of roles, succinct_roles")
        roles: dict[str, DelegatedRole] | None = None
        if has_roles:
            if not isinstance(data["roles"], list):
                raise MetadataFormatError(f"{path}.roles: must be a list")
            roles = {}
            for index, role_data in enumerate(data["roles"]):
                role = DelegatedRole.from_dict(role_data, f"{path}.roles[{index}]")
                if role.name in roles or role.name in TOP_LEVEL_ROLES:
                    raise MetadataFormatError(f"{path}.roles[{index}]: bad name {role.name!r}")
                roles[role.name] = role
        return cls(
            keys=keys_field(data.get("keys"), f"{path}.keys"),
            roles=roles,
            succinct_roles=SuccinctRoles.from_dict(data["succinct_roles"], f"{path}.succinct")
            if has_succinct
            else None,
            extra=unknown_fields(data, ("keys", "roles", "succinct_roles")),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            **self.extra,
            "keys": {keyid: key.to_dict() for keyid, key in self.keys.items()},
        }
        if self.roles is not None:
            result["roles"] = [role.to_dict() for role in self.roles.values()]
        if self.succinct_roles is not None:
            result["succinct_roles"] = self.succinct_roles.to_dict()
        return result

    def roles_for_target(self, target_path: str) -> Iterator[tuple[str, bool]]:
        """(role name, terminating) for each delegation trusted for ``target_path``, in order."""
        if self.roles is not None:
            for role in self.roles.values():
                if role.is_delegated_path(target_path):
                    yield role.name, role.terminating
        elif self.succinct_roles is not None:
            yield self.succinct_roles.role_for_target(target_path), False

    def keys_and_threshold(self, role_name: str) -> tuple[tuple[str, ...], int] | None:
        if self.roles is not None:
            role = self.roles.get(role_name)
            return None if role is None else (role.keyids, role.threshold)
        if self.succinct_roles is not None and self.succinct_roles.is_role(role_name):
            return self.succinct_roles.keyids, self.succinct_roles.threshold
        return None
