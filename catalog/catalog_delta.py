"""Catalog deltas: the change from one ``app-catalog.json`` to the next, as a small patch.

A node that holds catalog A and is told (by signed targets metadata) that the
current catalog is B fetches the patch named ``catalog-deltas/<A's blake3>.patch``
instead of B: a zlib-compressed JSON document listing what to set and what
to delete in A's JSON document.  Applying it re-encodes the result with the
catalog's own encoding (``encode_canonical_json``, RFC 8785 restricted to
integers); the node keeps the result only if its BLAKE3 and length are
those the signed metadata gives for B, so a wrong, stale or hostile patch
can cost a download but never change what the node accepts (it then fetches
B whole).  Why this design and not per-app documents or zstd targets:
``docs/catalog-deltas.md``.

The patch document::

    {"format": "archy-catalog-delta/1",
     "base":   {"blake3": A, "length": len(A)},
     "result": {"blake3": B, "length": len(B)},
     "ops": [[["apps", "lnd"], {...}], [["apps", "old-app"]], ...]}

An op ``[path, value]`` sets ``path`` (object keys, outermost first) to
``value``; ``[path]`` deletes it.  Objects are compared down to
``DIFF_DEPTH`` levels (the catalog's per-app entries sit at level 2), below
which a changed value is replaced whole.

Pure functions over bytes.  Public API: ``DELTA_FORMAT``, ``DELTA_DIR``,
``delta_target_name(base_blake3)``, ``make_delta(base, result) -> bytes``,
``apply_delta(base, delta, max_result_length) -> bytes``, ``DeltaError``.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from catalog.address import blake3_hex, is_blake3_hex
from catalog.canonical import CanonicalEncodingError, encode_canonical_json

DELTA_FORMAT = "archy-catalog-delta/1"
DELTA_DIR = "catalog-deltas"
DIFF_DEPTH = 3
MAX_OPS = 100_000

JSON = Any
Path = list[str]


class DeltaError(ValueError):
    """The delta cannot be applied to this base (malformed, for another base, or wrong)."""


def delta_target_name(base_blake3: str) -> str:
    """The target name of the delta that turns the catalog ``base_blake3`` into the current one."""
    return f"{DELTA_DIR}/{base_blake3}.patch"


def _load_document(data: bytes, what: str) -> dict[str, JSON]:
    try:
        document = json.loads(data.decode("utf-8"), strict=False)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DeltaError(f"{what} is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise DeltaError(f"{what} is not a JSON object")
    return document


def _same(a: JSON, b: JSON) -> bool:
    """Equal as JSON (``1`` and ``true`` differ, unlike Python's ``==``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _diff(old: dict[str, JSON], new: dict[str, JSON], path: Path, ops: list[JSON]) -> None:
    for key in sorted(old.keys() - new.keys()):
        ops.append([[*path, key]])
    for key in sorted(new.keys()):
        value = new[key]
        if key not in old:
            ops.append([[*path, key], value])
            continue
        before = old[key]
        if _same(before, value):
            continue
        if isinstance(before, dict) and isinstance(value, dict) and len(path) + 1 < DIFF_DEPTH:
            _diff(before, value, [*path, key], ops)
        else:
            ops.append([[*path, key], value])


def make_delta(base: bytes, result: bytes) -> bytes:
    """The compressed patch turning catalog bytes ``base`` into ``result`` (both canonical)."""
    old = _load_document(base, "the base catalog")
    new = _load_document(result, "the new catalog")
    ops: list[JSON] = []
    _diff(old, new, [], ops)
    document = {
        "format": DELTA_FORMAT,
        "base": {"blake3": blake3_hex(base), "length": len(base)},
        "result": {"blake3": blake3_hex(result), "length": len(result)},
        "ops": ops,
    }
    patch = encode_canonical_json(document)
    if _apply_ops(old, ops) != result:
        raise DeltaError("the new catalog is not canonical JSON; no delta can reproduce it")
    return zlib.compress(patch, 9)


def _decompress(delta: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(delta, limit + 1)
    except zlib.error as error:
        raise DeltaError(f"the delta is not zlib data: {error}") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise DeltaError(f"the delta inflates to more than {limit} bytes")
    if not inflater.eof or inflater.unused_data:
        raise DeltaError("the delta is truncated or has trailing bytes")
    return data


def _apply_ops(document: dict[str, JSON], ops: list[JSON]) -> bytes:
    for op in ops:
        if not isinstance(op, list) or len(op) not in (1, 2):
            raise DeltaError("an op is not [path] or [path, value]")
        path = op[0]
        if (
            not isinstance(path, list)
            or not path
            or len(path) > DIFF_DEPTH
            or not all(isinstance(key, str) for key in path)
        ):
            raise DeltaError(f"op path {path!r} is not 1 to {DIFF_DEPTH} object keys")
        parent: JSON = document
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
            if not isinstance(parent, dict):
                raise DeltaError(f"op path {path!r} does not lead to an object in the base")
        if len(op) == 2:
            parent[path[-1]] = op[1]
        elif parent.pop(path[-1], _MISSING) is _MISSING:
            raise DeltaError(f"op deletes {path!r}, which the base does not have")
    try:
        return encode_canonical_json(document)
    except CanonicalEncodingError as error:
        raise DeltaError(f"the patched catalog cannot be encoded: {error}") from None


_MISSING = object()


def apply_delta(base: bytes, delta: bytes, max_result_length: int) -> bytes:
    """The catalog ``delta`` makes of ``base``; raise :class:`DeltaError` if it does not fit.

    The caller still checks the result against the signed BLAKE3 and length;
    this function only refuses what is visibly wrong (another base, a size
    above ``max_result_length``, malformed ops).
    """
    patch = _load_document(_decompress(delta, max(max_result_length, 1 << 16) * 2), "the delta")
    if patch.get("format") != DELTA_FORMAT:
        raise DeltaError(f"the delta's format is {patch.get('format')!r}, not {DELTA_FORMAT}")
    declared_base = patch.get("base")
    declared_result = patch.get("result")
    if not isinstance(declared_base, dict) or not isinstance(declared_result, dict):
        raise DeltaError("the delta names no base or result")
    base_blake3 = declared_base.get("blake3")
    if not isinstance(base_blake3, str) or not is_blake3_hex(base_blake3):
        raise DeltaError("the delta's base is not a BLAKE3 hex digest")
    if base_blake3 != blake3_hex(base) or declared_base.get("length") != len(base):
        raise DeltaError("the delta is for another base catalog")
    ops = patch.get("ops")
    if not isinstance(ops, list) or len(ops) > MAX_OPS:
        raise DeltaError(f"the delta's ops are not a list of at most {MAX_OPS}")
    result = _apply_ops(_load_document(base, "the base catalog"), ops)
    if len(result) > max_result_length:
        raise DeltaError(f"the patched catalog is longer than {max_result_length} bytes")
    return result
