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
  ``DelegatedRole``, ``SuccinctRoles`` (from ``signing.delegations``); every
  model has ``to_dict()`` and a ``from_dict()`` that raises
  :class:`MetadataFormatError`.
- ``Metadata[S]`` — ``signed`` + ``signatures`` + ``signed_bytes``;
  ``Metadata.from_bytes(data, Root)`` parses and checks the type;
  ``.to_bytes()`` gives canonical JSON of the whole envelope.
- ``is_expired(signed, reference_time)``.

The strict field readers, the JSON and date formats (``format_expires``/``parse_expires``)
live in :mod:`signing.metadata_fields`; delegations in :mod:`signing.delegations`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from catalog.canonical import encode_canonical, encode_canonical_json
from signing.delegations import Delegations
from signing.errors import MetadataFormatError
from signing.keys import PublicKey, Signature
from signing.metadata_fields import (
    COMMON_FIELDS,
    TOP_LEVEL_ROLES,
    as_object,
    common_fields,
    format_expires,
    hashes_field,
    integer_field,
    keys_field,
    parse_json,
    string_field,
    string_list,
    unknown_fields,
)

SPECIFICATION_VERSION = "1.0.31"


def _common_dict(signed: Signed) -> dict[str, Any]:
    return {
        **signed.extra,
        "_type": signed.type,
        "spec_version": signed.spec_version,
        "version": signed.version,
        "expires": format_expires(signed.expires),
    }


@dataclass(frozen=True)
class Role:
    keyids: tuple[str, ...]
    threshold: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Role:
        data = as_object(data, path)
        return cls(
            keyids=string_list(data.get("keyids"), f"{path}.keyids", unique=True),
            threshold=integer_field(data, "threshold", path, 1),
            extra=unknown_fields(data, ("keyids", "threshold")),
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
        data = as_object(data, path)
        common = common_fields(data, cls.type, path)
        roles_data = as_object(data.get("roles"), f"{path}.roles")
        if set(roles_data) != set(TOP_LEVEL_ROLES):
            raise MetadataFormatError(f"{path}.roles: must define exactly {TOP_LEVEL_ROLES}")
        consistent = data.get("consistent_snapshot")
        if consistent is not None and not isinstance(consistent, bool):
            raise MetadataFormatError(f"{path}.consistent_snapshot: must be true or false")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            keys=keys_field(data.get("keys"), f"{path}.keys"),
            roles={
                name: Role.from_dict(role, f"{path}.roles.{name}")
                for name, role in roles_data.items()
            },
            consistent_snapshot=consistent,
            extra=unknown_fields(data, (*COMMON_FIELDS, "keys", "roles", "consistent_snapshot")),
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
        data = as_object(data, path)
        return cls(
            version=integer_field(data, "version", path, 1),
            length=integer_field(data, "length", path, 0) if "length" in data else None,
            hashes=hashes_field(data["hashes"], f"{path}.hashes") if "hashes" in data else None,
            extra=unknown_fields(data, ("version", "length", "hashes")),
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
        data = as_object(data, path)
        common = common_fields(data, cls.type, path)
        meta = as_object(data.get("meta"), f"{path}.meta")
        if set(meta) != {"snapshot.json"}:
            raise MetadataFormatError(f"{path}.meta: must describe exactly 'snapshot.json'")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            snapshot_meta=MetaFile.from_dict(meta["snapshot.json"], f"{path}.meta.snapshot.json"),
            extra=unknown_fields(data, (*COMMON_FIELDS, "meta")),
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
        data = as_object(data, path)
        common = common_fields(data, cls.type, path)
        meta = as_object(data.get("meta"), f"{path}.meta")
        return cls(
            version=common.version,
            expires=common.expires,
            spec_version=common.spec_version,
            meta={
                name: MetaFile.from_dict(info, f"{path}.meta.{name}") for name, info in meta.items()
            },
            extra=unknown_fields(data, (*COMMON_FIELDS, "meta")),
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
        data = as_object(data, path)
        if "hashes" not in data:
            raise MetadataFormatError(f"{path}.hashes: required")
        return cls(
            path=target_path,
            length=integer_field(data, "length", path, 0),
            hashes=hashes_field(data["hashes"], f"{path}.hashes"),
            extra=unknown_fields(data, ("length", "hashes")),
        )

    @property
    def custom(self) -> Any:
        return self.extra.get("custom")

    def to_dict(self) -> dict[str, Any]:
        return {**self.extra, "length": self.length, "hashes": dict(self.hashes)}


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
        data = as_object(data, path)
        common = common_fields(data, cls.type, path)
        targets = as_object(data.get("targets"), f"{path}.targets")
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
            extra=unknown_fields(data, (*COMMON_FIELDS, "targets", "delegations")),
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


@dataclass(frozen=True)
class Metadata(Generic[S]):
    """A signed metadata file: the payload, its signatures and the bytes they cover."""

    signed: S
    signatures: tuple[Signature, ...]
    signed_bytes: bytes

    @classmethod
    def from_bytes(cls, data: bytes, role_type: type[S]) -> Metadata[S]:
        what = role_type.type
        envelope = as_object(parse_json(data, what), what)
        signed_data = envelope.get("signed")
        signatures_data = envelope.get("signatures")
        if not isinstance(signatures_data, list):
            raise MetadataFormatError(f"{what}.signatures: must be a list")
        signatures = []
        seen_keyids: set[str] = set()
        for index, item in enumerate(signatures_data):
            item = as_object(item, f"{what}.signatures[{index}]")
            keyid = string_field(item, "keyid", f"{what}.signatures[{index}]")
            if keyid in seen_keyids:
                # The specification: a keyid MUST be unique in the signatures array.
                raise MetadataFormatError(
                    f"{what}.signatures[{index}].keyid: {keyid!r} signs more than once"
                )
            seen_keyids.add(keyid)
            signatures.append(
                Signature(
                    keyid=keyid,
                    sig=string_field(item, "sig", f"{what}.signatures[{index}]"),
                    extra=unknown_fields(item, ("keyid", "sig")),
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
