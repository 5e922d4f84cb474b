"""The C-encoder fast path of ``encode_canonical_json`` writes exactly what the general one does.

JCS (RFC 8785, integers only) sorts keys by UTF-16 code units and escapes
control characters as ``JSON.stringify`` does; the fast path is taken only for
values where the standard library's encoder provably agrees.  Compared on
generated values full of the characters where the two could differ: control
characters, quotes and backslashes, U+007F, U+2028, the U+E000–U+FFFF range
against characters beyond U+FFFF (whose UTF-16 order differs from code point
order), and integers at the edge of the JSON-safe range.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import canonical
from catalog.canonical import CanonicalEncodingError, encode_canonical_json

SAFE = 2**53 - 1
ALPHABET = st.sampled_from(
    ['"', "\\", "\x00", "\x1f", "\b", "\t", "\n", "\x7f", "\u2028", "\ue000", "\uffff",
     "\U0001f600", "é", "a", "Z", "0", " ", "/"]
)  # fmt: skip
text = st.text(ALPHABET, max_size=6)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-SAFE, max_value=SAFE),
    st.sampled_from([SAFE, -SAFE, SAFE + 1, -(SAFE + 1)]),
    text,
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(text, children, max_size=4),
    ),
    max_leaves=20,
)


def general(value: Any) -> bytes | str:
    """What the general encoder gives (or the refusal's type name)."""
    out: list[str] = []
    try:
        canonical._encode(value, out, 0, jcs=True)
    except CanonicalEncodingError:
        return "refused"
    return "".join(out).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(values)
def test_both_encoders_write_the_same_bytes_or_both_refuse(value: Any) -> None:
    try:
        fast: bytes | str = encode_canonical_json(value)
    except CanonicalEncodingError:
        fast = "refused"
    assert fast == general(value)


def test_keys_beyond_the_basic_plane_are_sorted_by_utf16_code_units() -> None:
    value = {"\U0001f600": 1, "\uffff": 2}
    assert not canonical._plain_json(value, 0)
    assert encode_canonical_json(value) == '{"\U0001f600":1,"\uffff":2}'.encode()


@pytest.mark.parametrize("value", [1.5, {1: "a"}, 2**53, b"x"])
def test_what_the_fast_path_cannot_write_is_still_refused(value: Any) -> None:
    with pytest.raises(CanonicalEncodingError):
        encode_canonical_json(value)
