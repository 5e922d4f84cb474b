"""TUF metadata (specification 1.0.x): models, parsing and serialisation.

Parsing is strict about the fields TUF defines (types, versions ≥ 1,
``expires`` as ``YYYY-MM-DDTHH:MM:SSZ``, unique keyids, the four top-level
roles) and keeps every field it does not know in ``extra``, so the canonical
bytes that were signed can always be rebuilt.  Signatures are checked over
``Metadata.signed_bytes``: the canonical JSON of the ``signed`` object exactly
as received, unknown fields included.

Public API:

- ``Root``, ``Timestamp``, ``Snapshot``, ``Targets`` (the ``Signed`` union),
  with ``Role``, ``MetaFile``, ``TargetFile``, ``Delegations``,
  ``DelegatedRole``, ``SuccinctRoles``; every model has ``to_dict()`` and a
  ``from_dict()`` that raises :class:`MetadataFormatError`.
- ``Metadata[S]`` — ``signed`` + ``signatures`` + ``signed_bytes``;
  ``Metadata.from_bytes(data, Root)`` parses and checks the type;
  ``.to_bytes()`` gives canonical JSON of the whole envelope.
- ``is_expired(signed, reference_time)``, ``format_expires``/``parse_expires``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from catalog.canonical import encode_canonical, encode_canonical_json
from signing.errors import MetadataFormatError
from signing.keys import PublicKey, Signature

SPECIFICATION_VERSION = "1.0.31"
TOP_LEVEL_ROLES = ("root", "timestamp", "snapshot", "targets")
_EXPIRES = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_COMMON_FIELDS = ("_type", "spec_version", "version", "expires")


# --- field readers: each raises MetadataFormatError naming the field path ---


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataFormatError(f"{path}: must be an object")
    return value


def _string(data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise MetadataFormatError(f"{path}.{key}: must be a string")
    return value


def _integer(data: Mapping[str, Any], key: str, path: str, minimum: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise MetadataFormatError(f"{path}.{key}: must be an integer ≥ {minimum}")
    return value


def _boolean(data: Mapping[str, Any], key: str, path: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise MetadataFormatError(f"{path}.{key}: must be true or false")
    return value


def _strings(value: Any, path: str, unique: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataFormatError(f"{path}: must be a list of strings")
    if unique and len(set(value)) != len(value):
        raise MetadataFormatError(f"{path}: must not repeat an entry")
    return tuple(value)


def _extra(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


def _hashes(value: Any, path: str) -> dict[str, str]:
    hashes = _object(value, path)
    if not hashes:
        raise MetadataFormatError(f"{path}: must list at least one hash")
    for algorithm, digest in hashes.items():
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            raise MetadataFormatError(f"{path}.{algorithm}: must be a hex digest")
    return dict(hashes)


def _keys(value: Any, path: str) -> dict[str, PublicKey]:
    keys: dict[str, PublicKey] = {}
    for keyid, key_data in _object(value, path).items():
        try:
            keys[keyid] = PublicKey.from_dict(_object(key_data, f"{path}.{keyid}"))
        except ValueError as error:
            raise MetadataFormatError(f"{path}.{keyid}: {error}") from None
    return keys


def parse_expires(text: str, path: str = "expires") -> datetime:
    if not _EXPIRES.fullmatch(text):
        raise MetadataFormatError(f"{path}: must look like 2030-01-31T00:00:00Z")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise MetadataFormatError(f"{path}: {text!r} is not a date") from None


def format_expires(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_version(text: str, path: str) -> str:
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts) or parts[0] != "1":
        raise MetadataFormatError(f"{path}: unsupported specification version {text!r}")
    return text


@dataclass(frozen=True)
class _Common:
    version: int
    expires: datetime
    spec_version: str
    extra: dict[str, Any]


def _common(data: Mapping[str, Any], type_name: str, path: str) -> _Common:
    found_type = data.get("_type")
    if found_type != type_name:
        raise MetadataFormatError(f"{path}._type: expected {type_name!r}, got {found_type!r}")
    return _Common(
        version=_integer(data, "version", path, 1),
        expires=parse_expires(_string(data, "expires", path), f"{path}.expires"),
        spec_version=_spec_version(_string(data, "spec_version", path), f"{path}.spec_version"),
        extra={},
    )


def _common_dict(signed: Signed) -> dict[str, Any]:
    return {
        **signed.extra,
        "_type": signed.type,
        "spec_version": signed.spec_version,
        "version": signed.version,
        "expires": format_expires(signed.expires),
    }


# --- models ---


@dataclass(frozen=True)
class Role:
    keyids: tuple[str, ...]
    threshold: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Role:
        data = _object(data, path)
        return cls(
            keyids=_strings(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=_integer(data, "threshold", path, 1),
            extra=_extra(data, ("keyids", "threshold")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "keyids": list(self.keyids), "threshold": self.threshold}


@dataclass(frozen=True)
class Root:
    version: int
    expires: datetime
    keys: Mapping[str, PublicKey]
    roles: Mapping[str, Role]
    consistent_snapshot: bool | None = True
    spec_version: str = SPECIFICATION_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "root"

    @classmethod
    def from_dict(cls, data: Any, path: str = "signed") -> Root:
        data = _object(data, path)
        common = _common(data, cls.type, path)
        roles_data = _object(data.get("roles"), f"{path}.roles")
        if set(roles_data) != set(TOP_LEVEL_ROLES):
            raise MetadataFormatError(f"{path}.roles: must define exactly {TOP_LEVEL_ROLES}")
        consistent = data.get("consistent_snapshot")
        if consistent is not None and not isinstance(consistent, bool):
            raise MetadataFormatError(f"{path}.consistent_snapshot: must be true or false")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            keys=_keys(data.get("keys"), f"{path}.keys"),
            roles={
                name: Role.from_dict(role, f"{path}.roles.{name}")
                for name, role in roles_data.items()
            },
            consistent_snapshot=consistent,
            extra=_extra(data, (*_COMMON_FIELDS, "keys", "roles", "consistent_snapshot")),
        )

    def to_dict(self) -> dict[str, Any]:
        result = _common_dict(self)
        result["keys"] = {keyid: key.to_dict() for keyid, key in self.keys.items()}
        result["roles"] = {name: role.to_dict() for name, role in self.roles.items()}
        if self.consistent_snapshot is not None:
            result["consistent_snapshot"] = self.consistent_snapshot
        return result


@dataclass(frozen=True)
class MetaFile:
    """What snapshot and timestamp say about another metadata file."""

    version: int
    length: int | None = None
    hashes: Mapping[str, str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> MetaFile:
        data = _object(data, path)
        return cls(
            version=_integer(data, "version", path, 1),
            length=_integer(data, "length", path, 0) if "length" in data else None,
            hashes=_hashes(data["hashes"], f"{path}.hashes") if "hashes" in data else None,
            extra=_extra(data, ("version", "length", "hashes")),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {**self.extra, "version": self.version}
        if self.length is not None:
            result["length"] = self.length
        if self.hashes is not None:
            result["hashes"] = dict(self.hashes)
        return result


@dataclass(frozen=True)
class Timestamp:
    version: int
    expires: datetime
    snapshot_meta: MetaFile
    spec_version: str = SPECIFICATION_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "timestamp"

    @classmethod
    def from_dict(cls, data: Any, path: str = "signed") -> Timestamp:
        data = _object(data, path)
        common = _common(data, cls.type, path)
        meta = _object(data.get("meta"), f"{path}.meta")
        if set(meta) != {"snapshot.json"}:
            raise MetadataFormatError(f"{path}.meta: must describe exactly 'snapshot.json'")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            snapshot_meta=MetaFile.from_dict(meta["snapshot.json"], f"{path}.meta.snapshot.json"),
            extra=_extra(data, (*_COMMON_FIELDS, "meta")),
        )

    def to_dict(self) -> dict[str, Any]:
        result = _common_dict(self)
        result["meta"] = {"snapshot.json": self.snapshot_meta.to_dict()}
        return result


@dataclass(frozen=True)
class Snapshot:
    version: int
    expires: datetime
    meta: Mapping[str, MetaFile]
    spec_version: str = SPECIFICATION_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "snapshot"

    @classmethod
    def from_dict(cls, data: Any, path: str = "signed") -> Snapshot:
        data = _object(data, path)
        common = _common(data, cls.type, path)
        meta = _object(data.get("meta"), f"{path}.meta")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            meta={
                name: MetaFile.from_dict(info, f"{path}.meta.{name}") for name, info in meta.items()
            },
            extra=_extra(data, (*_COMMON_FIELDS, "meta")),
        )

    def to_dict(self) -> dict[str, Any]:
        result = _common_dict(self)
        result["meta"] = {name: info.to_dict() for name, info in self.meta.items()}
        return result


@dataclass(frozen=True)
class TargetFile:
    """An artifact: its path, exact length and hashes (``custom`` lives in ``extra``)."""

    path: str
    length: int
    hashes: Mapping[str, str]
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, target_path: str, data: Any, path: str) -> TargetFile:
        data = _object(data, path)
        if "hashes" not in data:
            raise MetadataFormatError(f"{path}.hashes: required")
        return cls(
            path=target_path,
            length=_integer(data, "length", path, 0),
            hashes=_hashes(data["hashes"], f"{path}.hashes"),
            extra=_extra(data, ("length", "hashes")),
        )

    @property
    def custom(self) -> Any:
        return self.extra.get("custom")

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "length": self.length, "hashes": dict(self.hashes)}


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
        data = _object(data, path)
        paths = data.get("paths")
        prefixes = data.get("path_hash_prefixes")
        if paths is not None and prefixes is not None:
            raise MetadataFormatError(f"{path}: has both paths and path_hash_prefixes")
        return cls(
            name=_string(data, "name", path),
            keyids=_strings(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=_integer(data, "threshold", path, 1),
            terminating=_boolean(data, "terminating", path),
            paths=None if paths is None else _strings(paths, f"{path}.paths", unique=False),
            path_hash_prefixes=None
            if prefixes is None
            else _strings(prefixes, f"{path}.path_hash_prefixes", unique=False),
            extra=_extra(
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
        data = _object(data, path)
        bit_length = _integer(data, "bit_length", path, 1)
        if bit_length > 32:
            raise MetadataFormatError(f"{path}.bit_length: must be ≤ 32")
        return cls(
            keyids=_strings(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=_integer(data, "threshold", path, 1),
            bit_length=bit_length,
            name_prefix=_string(data, "name_prefix", path),
            extra=_extra(data, ("keyids", "threshold", "bit_length", "name_prefix")),
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
        try:
            return int(suffix, 16) < 2**self.bit_length and suffix == suffix.lower()
        except ValueError:
            return False


@dataclass(frozen=True)
class Delegations:
    keys: Mapping[str, PublicKey]
    roles: Mapping[str, DelegatedRole] | None = None
    succinct_roles: SuccinctRoles | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Delegations:
        data = _object(data, path)
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
            keys=_keys(data.get("keys"), f"{path}.keys"),
            roles=roles,
            succinct_roles=SuccinctRoles.from_dict(data["succinct_roles"], f"{path}.succinct")
            if has_succinct
            else None,
            extra=_extra(data, ("keys", "roles", "succinct_roles")),
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


@dataclass(frozen=True)
class Targets:
    version: int
    expires: datetime
    targets: Mapping[str, TargetFile] = field(default_factory=dict)
    delegations: Delegations | None = None
    spec_version: str = SPECIFICATION_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    type: ClassVar[str] = "targets"

    @classmethod
    def from_dict(cls, data: Any, path: str = "signed") -> Targets:
        data = _object(data, path)
        common = _common(data, cls.type, path)
        targets = _object(data.get("targets"), f"{path}.targets")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            targets={
                name: TargetFile.from_dict(name, info, f"{path}.targets.{name}")
                for name, info in targets.items()
            },
            delegations=Delegations.from_dict(data["delegations"], f"{path}.delegations")
            if "delegations" in data
            else None,
            extra=_extra(data, (*_COMMON_FIELDS, "targets", "delegations")),
        )

    def to_dict(self) -> dict[str, Any]:
        result = _common_dict(self)
        result["targets"] = {name: info.to_dict() for name, info in self.targets.items()}
        if self.delegations is not None:
            result["delegations"] = self.delegations.to_dict()
        return result


Signed = Root | Timestamp | Snapshot | Targets
S = TypeVar("S", Root, Timestamp, Snapshot, Targets)


def is_expired(signed: Signed, reference_time: datetime) -> bool:
    return reference_time >= signed.expires


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _reject_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer")


def parse_json(data: bytes, what: str) -> Any:
    """Strict JSON for metadata: UTF-8, integers only, no NaN/Infinity."""
    try:
        return json.loads(
            data.decode("utf-8"), parse_float=_reject_float, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError) as error:
        raise MetadataFormatError(f"{what}: not valid JSON metadata ({error})") from None


@dataclass(frozen=True)
class Metadata(Generic[S]):
    """A signed metadata file: the payload, its signatures and the bytes they cover."""

    signed: S
    signatures: tuple[Signature, ...]
    signed_bytes: bytes

    @classmethod
    def from_bytes(cls, data: bytes, role_type: type[S]) -> Metadata[S]:
        what = role_type.type
        envelope = _object(parse_json(data, what), what)
        signed_data = envelope.get("signed")
        signatures_data = envelope.get("signatures")
        if not isinstance(signatures_data, list):
            raise MetadataFormatError(f"{what}.signatures: must be a list")
        signatures = []
        seen_keyids: set[str] = set()
        for index, item in enumerate(signatures_data):
            item = _object(item, f"{what}.signatures[{index}]")
            keyid = _string(item, "keyid", f"{what}.signatures[{index}]")
            if keyid in seen_keyids:
                # The specification: a keyid MUST be unique in the signatures array.
                raise MetadataFormatError(
                    f"{what}.signatures[{index}].keyid: {keyid!r} signs more than once"
                )
            seen_keyids.add(keyid)
            signatures.append(
                Signature(
                    keyid=keyid,
                    sig=_string(item, "sig", f"{what}.signatures[{index}]"),
                    extra=_extra(item, ("keyid", "sig")),
                )
            )
        signed = role_type.from_dict(signed_data, f"{what}.signed")
        try:
            signed_bytes = encode_canonical(signed_data)
        except ValueError as error:
            raise MetadataFormatError(f"{what}.signed: cannot be canonicalised ({error})") from None
        return cls(signed, tuple(signatures), signed_bytes)

    @classmethod
    def unsigned(cls, signed: S) -> Metadata[S]:
        return cls(signed, (), encode_canonical(signed.to_dict()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "signatures": [signature.to_dict() for signature in self.signatures],
            "signed": json.loads(self.signed_bytes, strict=False),  # OLPC keeps raw controls
        }

    def to_bytes(self) -> bytes:
        """The file's bytes: valid JSON (RFC 8785); signatures cover the OLPC form of ``signed``."""
        return encode_canonical_json(self.to_dict())
