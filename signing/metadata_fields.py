"""Strict readers for the fields of TUF metadata JSON, and its JSON and date formats.

Each reader either returns the value with the type TUF defines or raises
:class:`MetadataFormatError` naming the field's path (``root.signed.version``), so a
model's ``from_dict`` never sees a wrong type.  JSON is parsed strictly (UTF-8,
integers only, no NaN/Infinity); ``expires`` is exactly ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.
Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from signing.errors import MetadataFormatError
from signing.keys import PublicKey

TOP_LEVEL_ROLES = ("root", "timestamp", "snapshot", "targets")


_EXPIRES = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


_HEX = re.compile(r"^[0-9a-fA-F]+$")


COMMON_FIELDS = ("_type", "spec_version", "version", "expires")


def as_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataFormatError(f"{path}: must be an object")
    return value


def string_field(data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise MetadataFormatError(f"{path}.{key}: must be a string")
    return value


def integer_field(data: Mapping[str, Any], key: str, path: str, minimum: int) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise MetadataFormatError(f"{path}.{key}: must be an integer ≥ {minimum}")
    return value


def boolean_field(data: Mapping[str, Any], key: str, path: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise MetadataFormatError(f"{path}.{key}: must be true or false")
    return value


def string_list(value: Any, path: str, unique: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MetadataFormatError(f"{path}: must be a list of strings")
    if unique and len(set(value)) != len(value):
        raise MetadataFormatError(f"{path}: must not repeat an entry")
    return tuple(value)


def unknown_fields(data: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


def hashes_field(value: Any, path: str) -> dict[str, str]:
    hashes = as_object(value, path)
    if not hashes:
        raise MetadataFormatError(f"{path}: must list at least one hash")
    for algorithm, digest in hashes.items():
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            raise MetadataFormatError(f"{path}.{algorithm}: must be a hex digest")
    return dict(hashes)


def keys_field(value: Any, path: str) -> dict[str, PublicKey]:
    keys: dict[str, PublicKey] = {}
    for keyid, key_data in as_object(value, path).items():
        try:
            keys[keyid] = PublicKey.from_dict(as_object(key_data, f"{path}.{keyid}"))
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


def spec_version_field(text: str, path: str) -> str:
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts) or parts[0] != "1":
        raise MetadataFormatError(f"{path}: unsupported specification version {text!r}")
    return text


@dataclass(frozen=True)
class CommonFields:
    version: int
    expires: datetime
    spec_version: str
    extra: dict[str, Any]


def common_fields(data: Mapping[str, Any], type_name: str, path: str) -> CommonFields:
    found_type = data.get("_type")
    if found_type != type_name:
        raise MetadataFormatError(f"{path}._type: expected {type_name!r}, got {found_type!r}")
    return CommonFields(
        version=integer_field(data, "version", path, 1),
        expires=parse_expires(string_field(data, "expires", path), f"{path}.expires"),
        spec_version=spec_version_field(
            string_field(data, "spec_version", path), f"{path}.spec_version"
        ),
        extra={},
    )


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
