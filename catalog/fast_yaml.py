"""The fast path of manifest parsing: libyaml's C parser, YAML 1.2 values, the same line map.

``catalog.loader`` reads manifests with ruamel's round-trip parser, which
names every problem's line but costs ~0.1 s per manifest in pure Python —
most of a 1,000-app build.  This module reads the same document with
libyaml (PyYAML's C parser and composer) and produces the same two things:
plain data and the line of every node.  It gives up — returns ``None`` — on
anything it cannot vouch for, and the caller then takes the round-trip path,
which also produces every refusal and its message:

- anything the screen refuses (anchors, aliases, tags, directives, more than
  one document, deep nesting, too many nodes), and any YAML error;
- a duplicate key, a key that is not a plain string, a merge key;
- a plain scalar that YAML 1.2 (ruamel's default) would read as a float, an
  int other than a plain decimal, a timestamp, or that YAML 1.1 would read
  as a bool (``yes``, ``on``): libyaml's resolver is YAML 1.1, so values are
  resolved here from the scalar's text, never from libyaml's tags.

What is left resolves the same in both: quoted and block scalars are
strings; ``true``/``false``, ``null``/``~``/empty, plain decimal integers;
every other plain scalar is a string.  ``tests/unit/catalog/test_fast_yaml.py``
compares both paths on every manifest in ``apps/`` and on generated documents.

Public API: ``load_plain(text) -> (data, lines) | None``.
"""

from __future__ import annotations

import re
from typing import Any

Location = tuple[str | int, ...]

MAX_DEPTH = 32
MAX_NODES = 50_000

_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_NOT_A_STRING = re.compile(  # ruamel's YAML 1.2 float, int, timestamp, merge and value
    r"""
    [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN)
    |[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?.*
    |<<
    |=
    """,
    re.X,
)
_YAML_11_BOOL = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO"}
_YAML_11_BOOL |= {"on", "On", "ON", "off", "Off", "OFF"}
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class _GiveUp(Exception):
    """The round-trip parser must read this document."""


def _resolve_plain(text: str) -> Any:
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _DECIMAL.fullmatch(text):
        return int(text)
    if text in _YAML_11_BOOL or _NOT_A_STRING.fullmatch(text):
        raise _GiveUp
    return text


def _screen(yaml: Any, text: str) -> None:
    """The loader's screen over libyaml's events; anything it refuses goes the slow way."""
    depth = nodes = documents = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        kind = type(event).__name__
        if kind == "DocumentStartEvent":
            documents += 1
            if documents > 1 or event.explicit or event.version or event.tags:
                raise _GiveUp
        elif kind == "AliasEvent":
            raise _GiveUp
        elif kind in ("ScalarEvent", "MappingStartEvent", "SequenceStartEvent"):
            nodes += 1
            if nodes > MAX_NODES or event.anchor is not None or event.tag is not None:
                raise _GiveUp
            if kind != "ScalarEvent":
                depth += 1
                if depth > MAX_DEPTH:
                    raise _GiveUp
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1


def _plain(yaml: Any, node: Any, location: Location, lines: dict[Location, int], line: int) -> Any:
    lines[location] = line
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.style else _resolve_plain(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [
            _plain(yaml, item, (*location, index), lines, item.start_mark.line + 1)
            for index, item in enumerate(node.value)
        ]
    plain: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _GiveUp
        key = key_node.value if key_node.style else _resolve_plain(key_node.value)
        if not isinstance(key, str) or key in plain:
            raise _GiveUp
        plain[key] = _plain(yaml, value_node, (*location, key), lines, key_node.start_mark.line + 1)
    return plain


def load_plain(text: str) -> tuple[Any, dict[Location, int]] | None:
    """(plain data, line of every node) as the round-trip path gives them, or None."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - the publisher's environment has it
        return None
    if not hasattr(yaml, "CSafeLoader"):
        return None  # PyYAML without libyaml: no faster than the round-trip parser
    try:
        _screen(yaml, text)
        loader = yaml.CSafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        if root is None:
            return None
        lines: dict[Location, int] = {}
        return _plain(yaml, root, (), lines, 1), lines
    except (_GiveUp, yaml.YAMLError, RecursionError):
        return None
