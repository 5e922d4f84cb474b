"""A delta the node refuses, and the exact line it gives (``catalog.catalog_delta``): each
refusal costs only the download, then the node fetches the catalog whole."""

from __future__ import annotations

import json
import zlib
from typing import Any

import pytest

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_delta import DELTA_FORMAT, MAX_OPS, DeltaError, apply_delta, make_delta

BASE = encode_canonical_json({"apps": {"a": {"v": 1}}, "schema": 1})
RESULT = encode_canonical_json({"apps": {"a": {"v": 2}, "b": {"v": 1}}, "schema": 1})


def patch(**fields: Any) -> bytes:
    document = {
        "format": DELTA_FORMAT,
        "base": {"blake3": blake3_hex(BASE), "length": len(BASE)},
        "result": {"blake3": blake3_hex(RESULT), "length": len(RESULT)},
        "ops": [],
    }
    document.update(fields)
    return zlib.compress(json.dumps(document).encode())


TOO_MANY = f"the delta's ops are not a list of at most {MAX_OPS}"


def refusal(delta: bytes, base: bytes = BASE, limit: int = 1 << 20) -> str:
    with pytest.raises(DeltaError) as refused:
        apply_delta(base, delta, limit)
    return str(refused.value)


def test_a_delta_applies_and_names_its_base_and_result() -> None:
    delta = make_delta(BASE, RESULT)
    assert apply_delta(BASE, delta, len(RESULT)) == RESULT
    document = json.loads(zlib.decompress(delta))
    assert document["base"] == {"blake3": blake3_hex(BASE), "length": len(BASE)}
    assert document["result"] == {"blake3": blake3_hex(RESULT), "length": len(RESULT)}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"base": None}, "the delta names no base or result"),
        ({"result": "x"}, "the delta names no base or result"),
        ({"base": {"blake3": 7, "length": 1}}, "the delta's base is not a BLAKE3 hex digest"),
        ({"base": {"blake3": "AB" * 32}}, "the delta's base is not a BLAKE3 hex digest"),
        ({"ops": {"a": 1}}, TOO_MANY),
        ({"ops": [[["schema"]]] * (MAX_OPS + 1)}, TOO_MANY),
    ],
)  # fmt: skip
def test_a_malformed_delta_is_refused_with_what_is_wrong(
    fields: dict[str, Any], message: str
) -> None:
    assert refusal(patch(**fields)) == message


def test_as_many_ops_as_allowed_are_applied() -> None:
    ops = [[["apps", "a", "v"], 2]] * (MAX_OPS - 1) + [[["apps", "b"], {"v": 1}]]
    assert apply_delta(BASE, patch(ops=ops), 1 << 24) == RESULT  # room for the inflated ops


def test_a_delta_that_is_not_json_or_not_an_object_names_what_it_is() -> None:
    assert refusal(zlib.compress(b"[1]")) == "the delta is not a JSON object"
    assert refusal(zlib.compress(b"{")).startswith("the delta is not JSON: ")
    assert refusal(patch(ops=[]), base=b"[]") == "the delta is for another base catalog"
    assert refusal(patch(), base=b"{").startswith("the delta is for another base catalog")


def test_the_base_itself_is_read_as_the_base_catalog() -> None:
    broken = b"{"
    document = {"format": DELTA_FORMAT, "base": {"blake3": blake3_hex(broken), "length": 1},
                "result": {"blake3": blake3_hex(RESULT), "length": 1}, "ops": []}  # fmt: skip
    delta = zlib.compress(json.dumps(document).encode())
    assert refusal(delta, base=broken).startswith("the base catalog is not JSON: ")
    with pytest.raises(DeltaError) as refused:
        make_delta(broken, RESULT)
    assert str(refused.value).startswith("the base catalog is not JSON: ")
    with pytest.raises(DeltaError) as refused:
        make_delta(BASE, broken)
    assert str(refused.value).startswith("the new catalog is not JSON: ")


def test_a_delta_inflating_past_its_limit_or_cut_short_is_refused() -> None:
    limit = (1 << 16) * 2  # twice the least result limit
    exactly = zlib.compress(b" " * limit)
    assert refusal(exactly, limit=1).startswith("the delta is not JSON: ")  # inflated, then read
    over = zlib.compress(b" " * (limit + 1))
    assert refusal(over, limit=1) == f"the delta inflates to more than {limit} bytes"
    whole = patch()
    assert refusal(whole[:-4]) == "the delta is truncated or has trailing bytes"
    assert refusal(whole + b"extra") == "the delta is truncated or has trailing bytes"


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([5], "an op is not [path] or [path, value]"),
        ([[["schema", "x"], 1]], "op path ['schema', 'x'] does not lead to an object in the base"),
        ([[["schema"], 1.5]], "the patched catalog cannot be encoded: float cannot be encoded "
                              "canonically (floats are not allowed)"),
    ],
)  # fmt: skip
def test_an_op_the_base_cannot_take_is_refused(ops: list[Any], message: str) -> None:
    assert refusal(patch(ops=ops)) == message


def test_a_result_longer_than_the_signed_length_allows_is_refused() -> None:
    delta = make_delta(BASE, RESULT)
    assert refusal(delta, limit=len(RESULT) - 1) == (
        f"the patched catalog is longer than {len(RESULT) - 1} bytes"
    )


def test_a_raw_control_character_in_a_delta_string_is_read_and_written_escaped() -> None:
    document = patch(ops=[[["apps", "a", "v"], "PLACEHOLDER"]])
    text = zlib.decompress(document).replace(b"PLACEHOLDER", b"tab\there")
    assert apply_delta(BASE, zlib.compress(text), 1 << 20) == (
        b'{"apps":{"a":{"v":"tab\\there"}},"schema":1}'
    )


def test_only_what_changed_is_in_the_delta() -> None:
    base = {"apps": {"a": {"v": [1, {"k": 2}]}, "b": {"x": {"y": [1, 2]}}}, "schema": 1}
    result = {"apps": {"a": {"v": [1, {"k": 3}]}, "b": {"x": {"y": [1, 2]}}}, "schema": 1}
    delta = make_delta(encode_canonical_json(base), encode_canonical_json(result))
    assert json.loads(zlib.decompress(delta))["ops"] == [[["apps", "a", "v"], [1, {"k": 3}]]]


def test_a_new_catalog_that_is_not_canonical_has_no_delta() -> None:
    with pytest.raises(DeltaError) as refused:
        make_delta(BASE, b'{"schema": 1}')
    assert str(refused.value) == (
        "the new catalog is not canonical JSON; no delta can reproduce it"
    )
