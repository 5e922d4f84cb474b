"""Canonical JSON: the byte encodings that signatures and BLAKE3 addresses cover.

Two encodings, one job each:

* :func:`encode_canonical` — the form TUF implementations *sign*
  (securesystemslib's ``encode_canonical``, "OLPC" canonical JSON): object keys
  sorted by code point, no insignificant whitespace, strings with only ``\\``
  and ``"`` escaped and every other character written as raw UTF-8, integers
  only.  Signatures and key ids are computed over it, so python-tuf and our
  client agree on what was signed.  It is not always valid JSON: a raw newline
  inside a string is forbidden by RFC 8259, so it is never written to a file.
* :func:`encode_canonical_json` — the form of every JSON *file* the project
  writes (the catalog, metadata files, lock files) and of the manifest bytes
  a catalog's BLAKE3 addresses cover: RFC 8785 (JCS) restricted to integers —
  keys sorted by UTF-16 code units, control characters escaped as
  ``JSON.stringify`` does, integers within ±(2**53 - 1).  It parses with
  Python's ``json``, ``jq`` and a browser's ``JSON.parse``, and two builds of
  one commit produce the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any


class CanonicalEncodingError(ValueError):
    """The value cannot be encoded canonically (a float, bytes, a non-string key…)."""


def _encode_string(value: str, out: list[str]) -> None:
    out.append('"')
    out.append(value.replace("\\", "\\\\").replace('"', '\\"'))
    out.append('"')


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}  # fmt: skip
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')
_JSON_SAFE_INTEGER = 2**53 - 1


def _escape_json_char(match: re.Match[str]) -> str:
    char = match.group()
    return _JSON_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def _encode_json_string(value: str, out: list[str]) -> None:
    out.append('"')
    out.append(_NEEDS_ESCAPE.sub(_escape_json_char, value))
    out.append('"')


def _utf16_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _encode(value: Any, out: list[str], depth: int, jcs: bool = False) -> None:
    if depth > 200:
        raise CanonicalEncodingError("value nests deeper than 200 levels")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if jcs and abs(value) > _JSON_SAFE_INTEGER:
            raise CanonicalEncodingError(f"integer {value} is beyond what JSON numbers hold")
        out.append(str(value))
    elif isinstance(value, str):
        (_encode_json_string if jcs else _encode_string)(value, out)
    elif isinstance(value, Mapping):
        out.append("{")
        keys = list(value.keys())
        for key in keys:
            if not isinstance(key, str):
                raise CanonicalEncodingError(f"object key {key!r} is not a string")
        for index, key in enumerate(sorted(keys, key=_utf16_order if jcs else None)):
            if index:
                out.append(",")
            (_encode_json_string if jcs else _encode_string)(key, out)
            out.append(":")
            _encode(value[key], out, depth + 1, jcs)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out, depth + 1, jcs)
        out.append("]")
    else:
        raise CanonicalEncodingError(
            f"{type(value).__name__} cannot be encoded canonically (floats are not allowed)"
        )


def encode_canonical(value: Any) -> bytes:
    """The bytes TUF signs for ``value`` (OLPC canonical JSON; may hold raw control chars)."""
    out: list[str] = []
    _encode(value, out, 0)
    return "".join(out).encode("utf-8")


def _plain_json(value: Any, depth: int) -> bool:
    """True when ``json.dumps`` writes ``value`` exactly as JCS does (checked, not assumed).

    That holds for dicts with string keys of the Basic Multilingual Plane (whose
    code point order is their UTF-16 order), lists, tuples, strings (the
    standard library escapes exactly the quote, the backslash and control characters, in
    ``JSON.stringify``'s forms), ``None``, booleans and integers within the
    JSON-safe range.  Anything else takes the general encoder.
    """
    if depth > 200:
        return False
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return bool(-_JSON_SAFE_INTEGER <= value <= _JSON_SAFE_INTEGER)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) <= "\uffff"):
                return False
            if not _plain_json(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(_plain_json(item, depth + 1) for item in value)
    return False


def encode_canonical_json(value: Any) -> bytes:
    """The RFC 8785 (JCS) bytes of ``value``, integers only: valid JSON, reproducible.

    Plain values (:func:`_plain_json`) are written by the standard library's C
    encoder, which gives the same bytes (``tests/unit/catalog/test_canonical_json.py``
    compares the two on generated values); everything else by :func:`_encode`.
    """
    if _plain_json(value, 0):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode("utf-8")
    out: list[str] = []
    _encode(value, out, 0, jcs=True)
    return "".join(out).encode("utf-8")
