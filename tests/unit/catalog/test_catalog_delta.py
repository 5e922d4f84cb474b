"""Catalog deltas as pure functions: applying a delta gives exactly the new catalog's bytes.

Property test over random sequences of catalog changes (apps added, removed,
changed; top-level fields changed), and refusals for deltas that are
malformed, for another base, or inflate beyond the signed length.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_delta import DeltaError, apply_delta, delta_target_name, make_delta

APP_IDS = [f"app-{n}" for n in range(8)]

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6), st.just('x\ny"\\')
)
value = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abcde"), inner, max_size=3)
    ),
    max_leaves=8,
)
app_entry = st.dictionaries(st.sampled_from(["version", "units", "icon", "x"]), value, max_size=4)
catalog_document = st.fixed_dictionaries(
    {
        "schema": st.just(1),
        "source": st.dictionaries(st.sampled_from(["commit", "dirty"]), leaf, max_size=2),
        "apps": st.dictionaries(st.sampled_from(APP_IDS), app_entry, max_size=6),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(catalog_document, min_size=2, max_size=5))
def test_applying_a_delta_gives_the_same_bytes_as_the_full_catalog(
    sequence: list[dict[str, Any]],
) -> None:
    held = encode_canonical_json(sequence[0])
    for document in sequence[1:]:
        full = encode_canonical_json(document)
        delta = make_delta(held, full)
        assert apply_delta(held, delta, len(full)) == full
        held = full


def catalog(apps: dict[str, Any]) -> bytes:
    return encode_canonical_json({"schema": 1, "apps": apps})


def test_a_one_app_change_is_small_and_named_by_its_base() -> None:
    big = {f"app-{n}": {"units": "u" * 2000 + str(n), "version": "1"} for n in range(200)}
    old = catalog(big)
    new = catalog({**big, "app-7": {"units": "changed", "version": "2"}})
    delta = make_delta(old, new)
    assert len(delta) < 300 < len(old) // 1000
    assert delta_target_name(blake3_hex(old)) == f"catalog-deltas/{blake3_hex(old)}.patch"


def test_a_delta_for_another_base_is_refused() -> None:
    a, b, c = catalog({"x": {"v": 1}}), catalog({"x": {"v": 2}}), catalog({"y": {"v": 3}})
    with pytest.raises(DeltaError, match=r"^the delta is for another base catalog$"):
        apply_delta(c, make_delta(a, b), len(b))


def patch_bytes(document: dict[str, Any]) -> bytes:
    return zlib.compress(encode_canonical_json(document))


def base_fields(base: bytes) -> dict[str, Any]:
    return {
        "format": "archy-catalog-delta/1",
        "base": {"blake3": blake3_hex(base), "length": len(base)},
        "result": {"blake3": "0" * 64, "length": 1},
    }


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        ([[["apps", "x", "v", "deep"], 1]], r"is not 1 to 3 object keys"),
        ([[["apps", "nope", "v"], 1]], r"does not lead to an object"),
        ([[["apps", "gone"]]], r"which the base does not have"),
        ([[[], 1]], r"is not 1 to 3 object keys"),
        (["not an op"], r"is not \[path\] or \[path, value\]"),
    ],
)
def test_malformed_ops_are_refused(ops: list[Any], message: str) -> None:
    base = catalog({"x": {"v": 1}})
    with pytest.raises(DeltaError, match=message):
        apply_delta(base, patch_bytes({**base_fields(base), "ops": ops}), 10_000)


def test_a_delta_that_inflates_past_the_signed_length_is_refused() -> None:
    base = catalog({"x": {"v": 1}})
    bomb = patch_bytes({**base_fields(base), "ops": [[["pad"], "0" * 400_000]]})
    with pytest.raises(DeltaError, match="inflates to more than"):
        apply_delta(base, bomb, 100)


@pytest.mark.parametrize(
    ("delta", "message"),
    [
        (b"not zlib", "is not zlib data"),
        (zlib.compress(b"[1]"), "is not a JSON object"),
        (zlib.compress(b'{"format":"other/9"}'), "format is 'other/9'"),
        (zlib.compress(b"{}")[:-3], "truncated"),
    ],
)
def test_garbage_deltas_are_refused(delta: bytes, message: str) -> None:
    with pytest.raises(DeltaError, match=message):
        apply_delta(catalog({}), delta, 10_000)
