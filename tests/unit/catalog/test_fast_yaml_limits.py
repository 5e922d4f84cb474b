"""The fast path's screen: it gives up exactly where the round-trip path refuses, never later.

A document the fast path answers is accepted as it reads it, so each limit of the
loader (anchors, tags, nesting, node count) must make the fast path give up at the
same point; the loader then refuses it with its own message.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from catalog.fast_yaml import MAX_DEPTH, MAX_NODES, load_plain
from catalog.loader import parse_yaml_document
from catalog.problems import ManifestError

FILE = "apps/x/manifest.yml"


def refusal(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_yaml_document(text.encode(), FILE)
    return [str(problem) for problem in caught.value.problems]


def nested_sequences(depth: int) -> str:
    """A mapping (one level) holding ``depth - 1`` nested flow sequences."""
    return "a: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


def nested_mappings(depth: int) -> str:
    """``depth`` nested block mappings."""
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth - 1)) + (
        "  " * (depth - 1) + "leaf: 1\n"
    )


def test_scalars_resolve_to_the_values_yaml_1_2_gives_them() -> None:
    text = (
        "t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: False\nf3: FALSE\n"
        "n1: null\nn2: Null\nn3: NULL\nn4: ~\nn5:\n"
        "i1: 0\ni2: -3\ni3: +4\ni4: 12345678901234567890\n"
        "s1: 1.27.3-alpine\ns2: '7'\ns3: \"true\"\ns4: latest\ns5: 'null'\n"
    )
    fast = load_plain(text)
    assert fast is not None
    assert fast[0] == {
        "t1": True, "t2": True, "t3": True, "f1": False, "f2": False, "f3": False,
        "n1": None, "n2": None, "n3": None, "n4": None, "n5": None,
        "i1": 0, "i2": -3, "i3": 4, "i4": 12345678901234567890,
        "s1": "1.27.3-alpine", "s2": "7", "s3": "true", "s4": "latest", "s5": "null",
    }  # fmt: skip
    assert [type(fast[0][key]) for key in ("t1", "f1", "i1")] == [bool, bool, int]


def test_a_quoted_key_is_text_whatever_it_looks_like() -> None:
    fast = load_plain("'1': a\n\"true\": b\n'null': c\n")
    assert fast is not None
    assert fast[0] == {"1": "a", "true": "b", "null": "c"}


def test_every_node_has_its_line() -> None:
    fast = load_plain("a: 1\nb:\n  - x\n  - c: 2\n    d: [3, 4]\n")
    assert fast is not None
    assert fast[1] == {
        (): 1,
        ("a",): 1,
        ("b",): 2,
        ("b", 0): 3,
        ("b", 1): 4,
        ("b", 1, "c"): 4,
        ("b", 1, "d"): 5,
        ("b", 1, "d", 0): 5,
        ("b", 1, "d", 1): 5,
    }


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\n",  # an anchor alone: the round-trip path refuses it
        "a: &x [1]\n",
        "&x a: 1\n",
        "a: !!str 1\n",
        "a: !local 1\n",
        "a: !!seq [1]\n",
        "!!map {a: 1}\n",
        "%YAML 1.1\n---\na: yes\n",
        "%TAG !e! tag:example.org,2000:\n---\na: 1\n",
    ],
)
def test_anchors_tags_and_directives_go_the_round_trip_way(text: str) -> None:
    assert load_plain(text) is None


@pytest.mark.parametrize(
    ("nested", "line"), [(nested_sequences, 1), (nested_mappings, MAX_DEPTH + 1)]
)
def test_the_fast_path_reads_as_deep_as_a_manifest_may_go_and_no_deeper(
    nested: Callable[[int], str], line: int
) -> None:
    assert load_plain(nested(MAX_DEPTH)) is not None
    assert load_plain(nested(MAX_DEPTH + 1)) is None
    assert refusal(nested(MAX_DEPTH + 1)) == [f"{FILE}:{line}: nesting deeper than 32 levels"]


def test_depth_is_counted_down_when_a_mapping_or_a_sequence_closes() -> None:
    # siblings that close before the deep branch: the deepest point is what counts
    closed = "x: [[[]]]\nw: {p: {q: {}}}\nz: [{}, []]\n"
    assert load_plain(closed + nested_sequences(MAX_DEPTH)) is not None
    # a sequence closing inside three mappings, then a branch that reaches MAX_DEPTH + 1
    deep = "a:\n  b:\n    c: []\n    d: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2) + "\n"
    assert load_plain(deep) is None
    assert refusal(deep) == [f"{FILE}:4: nesting deeper than 32 levels"]
    shallow = "a:\n  b:\n    c: []\n    d: " + "[" * (MAX_DEPTH - 3) + "]" * (MAX_DEPTH - 3) + "\n"
    assert load_plain(shallow) is not None


def test_the_fast_path_reads_as_many_nodes_as_a_manifest_may_hold_and_no_more() -> None:
    # the mapping, its key and the list are three nodes
    at_limit = "a: [" + ",".join(["1"] * (MAX_NODES - 3)) + "]\n"
    fast = load_plain(at_limit)
    assert fast is not None
    assert len(fast[0]["a"]) == MAX_NODES - 3
    over = "a: [" + ",".join(["1"] * (MAX_NODES - 2)) + "]\n"
    assert load_plain(over) is None
