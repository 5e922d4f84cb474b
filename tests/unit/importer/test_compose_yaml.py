"""The bounded YAML loader: Compose's anchors and merge keys pass, hostile YAML is refused."""

from __future__ import annotations

import pytest

from pipeline.importer.compose_yaml import MAX_EXPANDED_NODES, load_yaml
from pipeline.importer.reasons import ImportRefused

FILE = "store/app/docker-compose.yml"


def refusal(data: bytes) -> str:
    with pytest.raises(ImportRefused) as caught:
        load_yaml(data, FILE)
    reason = caught.value.reason
    assert reason.code == "I001"
    assert "\n" not in str(reason)
    return str(reason)


def test_anchors_and_merge_keys_resolve_with_lines() -> None:
    document = load_yaml(
        b"""x-base: &base
  restart: always
  environment: &env
    A: "1"
services:
  web:
    <<: *base
    image: nginx:1.27
    environment:
      <<: *env
      B: "2"
""",
        FILE,
    )
    web = document.data["services"]["web"]
    assert web == {"image": "nginx:1.27", "environment": {"A": "1", "B": "2"}, "restart": "always"}
    assert document.line_of(("services", "web", "image")) == 8
    assert document.line_of(("services", "web", "restart")) == 6  # merged: the service's line


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    previous = "a"
    for name in "bcdefg":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
        previous = name
    message = refusal("\n".join(lines).encode())
    assert f"more than {MAX_EXPANDED_NODES} YAML nodes once aliases are expanded" in message
    assert message.startswith(f"{FILE}:")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: 1\na: 2\n", f"{FILE}:2: YAML syntax: duplicate key (I001)"),
        (b"a: !!python/object:os.system x\n", "YAML tag tag:yaml.org,2002:python/object:os.system"),
        (b"a: !custom x\n", "YAML tag !custom is not allowed"),
        (b"a: 1\n---\nb: 2\n", f"{FILE}:2: holds more than one YAML document (I001)"),
        (b"a: &x [*x]\n", "refers to an anchor that is not defined before it (or to itself)"),
        (b"a: *nowhere\n", "refers to an anchor that is not defined before it"),
        (b"\xff\xfe", f"{FILE}:1: not valid UTF-8 (byte 0) (I001)"),
        (b"a: [" * 50, "nesting deeper than 40 levels"),
        (b"a: \xee\x80\x80\n", "holds the reserved character U+E000"),
        (b"services:\n  web:\n    image: [unclosed\n", "YAML syntax:"),
        (b"? [a, b]\n: c\n", "is not a string"),
    ],
)
def test_hostile_or_broken_yaml_is_one_line_with_its_place(data: bytes, expected: str) -> None:
    assert expected in refusal(data)


def test_a_file_over_the_size_cap_is_refused_unread() -> None:
    assert "the limit is 1048576" in refusal(b"#" * (1 << 20) + b"\n")
