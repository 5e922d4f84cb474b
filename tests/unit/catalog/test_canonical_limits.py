"""What a caller of the two canonical encoders sees at their limits: the nesting depth
they write and the one they refuse (with its message), the refusal of a value JSON cannot
carry, and the key order that tells TUF's signing form from the file form."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from catalog.canonical import CanonicalEncodingError, encode_canonical, encode_canonical_json

ENCODERS = [encode_canonical, encode_canonical_json]


def nested(levels: int, kind: str) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.fixture
def deep_stack() -> Iterator[None]:
    """Room for 200 nested calls when each call is wrapped (the mutation runs wrap every
    function of the module in a trampoline of a few frames)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.usefixtures("deep_stack")
@pytest.mark.parametrize("encode", ENCODERS)
@pytest.mark.parametrize("kind", ["list", "dict"])
def test_two_hundred_levels_are_written_and_one_more_is_refused(
    encode: Callable[[Any], bytes], kind: str
) -> None:
    opening, closing = ("[", "]") if kind == "list" else ('{"k":', "}")
    assert encode(nested(200, kind)) == (opening * 200 + "0" + closing * 200).encode()
    with pytest.raises(CanonicalEncodingError) as refused:
        encode(nested(201, kind))
    assert str(refused.value) == "value nests deeper than 200 levels"


@pytest.mark.parametrize("encode", ENCODERS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1: "a"}, "object key 1 is not a string"),
        ({"a": {"b": [1, 2.5]}}, "float cannot be encoded canonically (floats are not allowed)"),
        ([b"raw"], "bytes cannot be encoded canonically (floats are not allowed)"),
    ],
)
def test_a_value_json_cannot_carry_is_refused_with_its_type(
    encode: Callable[[Any], bytes], value: Any, message: str
) -> None:
    with pytest.raises(CanonicalEncodingError) as refused:
        encode(value)
    assert str(refused.value) == message


def test_keys_sort_by_code_point_for_signing_and_by_utf16_units_in_files() -> None:
    # U+E000 is below U+1F600 as a code point, above it as UTF-16 (D83D DE00)
    keys = {"\U0001f600": 2, "\ue000": 1}
    assert encode_canonical(keys) == '{"\ue000":1,"\U0001f600":2}'.encode()
    assert encode_canonical_json(keys) == '{"\U0001f600":2,"\ue000":1}'.encode()
    # the same inside a list, and beside a key that needs escaping in files only
    value = [{"\ue000": 1, "\U0001f600": 2, "a\n": 3}]
    assert encode_canonical_json(value) == '[{"a\\n":3,"\U0001f600":2,"\ue000":1}]'.encode()
    assert encode_canonical(value) == '[{"a\n":3,"\ue000":1,"\U0001f600":2}]'.encode()


def test_a_key_holding_a_lone_surrogate_is_refused_as_text_utf8_cannot_hold() -> None:
    # an astral key sends the object to the general encoder, which sorts by UTF-16 units
    with pytest.raises(UnicodeEncodeError):
        encode_canonical_json({"\U0001f600": 1, "\ud800": 2})


@pytest.mark.usefixtures("deep_stack")
def test_the_general_encoder_also_writes_two_hundred_levels() -> None:
    # an astral key keeps the value off the standard library's fast path
    value: Any = {"\U0001f600": 0}
    for _ in range(199):
        value = [value]
    assert encode_canonical_json(value) == ("[" * 199 + '{"\U0001f600":0}' + "]" * 199).encode()
    with pytest.raises(CanonicalEncodingError):
        encode_canonical_json([value])
