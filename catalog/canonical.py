"""Canonical JSON: the byte encoding that signatures and BLAKE3 addresses cover.

This is the encoding TUF implementations sign (securesystemslib's
``encode_canonical``): object keys sorted by code point, no insignificant
whitespace, strings with only ``\\`` and ``"`` escaped and every other
character written as raw UTF-8, integers only (no floats).  The same bytes
come out of every implementation, which is what lets python-tuf and our
client agree on what was signed, and lets two builds of one commit agree on
the catalog's hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class CanonicalEncodingError(ValueError):
    """The value cannot be encoded canonically (a float, bytes, a non-string key…)."""


def _encode_string(value: str, out: list[str]) -> None:
    out.append('"')
    out.append(value.replace("\\", "\\\\").replace('"', '\\"'))
    out.append('"')


def _encode(value: Any, out: list[str], depth: int) -> None:
    if depth > 200:
        raise CanonicalEncodingError("value nests deeper than 200 levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, str):
        _encode_string(value, out)
    elif isinstance(value, Mapping):
        out.append("{")
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalEncodingError(f"object key {key!r} is not a string")
        for index, key in enumerate(sorted(keys)):
            if index:
                out.append(",")
            _encode_string(key, out)
            out.append(":")
            _encode(value[key], out, depth + 1)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, depth + 1)
        out.append("]")
    else:
        raise CanonicalEncodingError(
            f"{type(value).__name__} cannot be encoded canonically (floats are not allowed)"
        )


def encode_canonical(value: Any) -> bytes:
    """Return the canonical JSON bytes of ``value``."""
    out: list[str] = []
    _encode(value, out, 0)
    return "".join(out).encode("utf-8")
