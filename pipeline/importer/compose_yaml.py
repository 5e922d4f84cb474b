"""Read a Compose or store YAML file safely: anchors and merge keys yes, bombs no.

Compose files legitimately use anchors, aliases and ``<<`` merge keys, so the
manifest loader (which refuses them) does not fit.  This one allows them
within bounds, checked on the event stream before anything is built:
the file size, the nesting depth, and the number of nodes *after* every alias
is expanded (a "billion laughs" file is refused by count, before the parser
builds anything).  Duplicate keys, several documents, explicit tags other than
YAML's core ones, and non-string keys are refused.  Every error is one
:class:`~pipeline.importer.reasons.ImportRefused` naming the file and line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    NodeEvent,
    ScalarEvent,
)

from catalog.loader import plain_scalar
from pipeline.importer.reasons import ImportRefused, refuse

MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 40
MAX_EXPANDED_NODES = 100_000
# Characters the importer uses internally to mark secrets; never allowed in a source.
RESERVED_CHARACTERS = ("\ue000", "\ue001")
CORE_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
        "!",
    }
)

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """Plain data (dicts, lists, scalars) and the source line of every node."""

    data: Any
    lines: dict[Location, int]
    filename: str

    def line_of(self, location: Location) -> int | None:
        """The line of ``location`` or of its nearest parent that has one."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(location[:end])
            if line is not None:
                return line
        return None


def _line(event: Any) -> int | None:
    mark = getattr(event, "start_mark", None)
    return None if mark is None else int(mark.line) + 1


def _screen(text: str, filename: str) -> None:
    """One pass over the events: depth, tags, documents, and the expanded size of aliases."""
    anchored_sizes: dict[str, int] = {}
    open_frames: list[tuple[str | None, int]] = []  # (anchor, expanded nodes so far)
    expanded = 0
    documents = 0

    def count(amount: int, event: Any) -> None:
        nonlocal expanded
        expanded += amount
        if expanded > MAX_EXPANDED_NODES:
            raise refuse(
                "I001",
                f"more than {MAX_EXPANDED_NODES} YAML nodes once aliases are expanded "
                "(an alias bomb?)",
                filename,
                _line(event),
            )
        if open_frames:
            anchor, size = open_frames[-1]
            open_frames[-1] = (anchor, size + amount)

    for event in YAML(typ="rt").parse(io.StringIO(text)):
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise refuse("I001", "holds more than one YAML document", filename, _line(event))
        if isinstance(event, NodeEvent) and not isinstance(event, AliasEvent):
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in CORE_TAGS:
                raise refuse("I001", f"YAML tag {tag} is not allowed", filename, _line(event))
        if isinstance(event, AliasEvent):
            size = anchored_sizes.get(str(event.anchor))
            if size is None:
                raise refuse(
                    "I001",
                    f"alias *{event.anchor} refers to an anchor that is not defined before it "
                    "(or to itself)",
                    filename,
                    _line(event),
                )
            count(size, event)
        elif isinstance(event, ScalarEvent):
            count(1, event)
            if event.anchor is not None:
                anchored_sizes[str(event.anchor)] = 1
        elif isinstance(event, CollectionStartEvent):
            count(1, event)
            open_frames.append((None if event.anchor is None else str(event.anchor), 1))
            if len(open_frames) > MAX_DEPTH:
                raise refuse(
                    "I001", f"nesting deeper than {MAX_DEPTH} levels", filename, _line(event)
                )
        elif isinstance(event, CollectionEndEvent):
            anchor, size = open_frames.pop()
            if anchor is not None:
                anchored_sizes[anchor] = size
            if open_frames:
                parent_anchor, parent_size = open_frames[-1]
                open_frames[-1] = (parent_anchor, parent_size + size - 1)


def _plain_scalar(value: Any) -> Any:
    """A YAML scalar as a plain value; a kind Compose files have no use for (a date, …) as text."""
    plain = plain_scalar(value)
    if plain is None or isinstance(plain, bool | int | float | str):
        return plain
    return str(plain)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


class _Walk:
    """Copy ruamel's tree into plain data, recording lines; bounded like the screen."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.lines: dict[Location, int] = {}
        self.nodes = 0

    def copy(self, node: Any, location: Location, line: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_EXPANDED_NODES or len(location) > MAX_DEPTH:
            raise refuse(
                "I001", "the document is too large once aliases are expanded", self.filename, line
            )
        self.lines[location] = line
        if isinstance(node, CommentedMap):
            plain: dict[str, Any] = {}
            for key, value in node.items():
                try:
                    key_line = int(node.lc.key(key)[0]) + 1
                except (KeyError, TypeError):
                    key_line = line  # a key that came in through a << merge
                if not isinstance(key, str):
                    raise refuse("I001", f"key {key!r} is not a string", self.filename, key_line)
                plain[str(key)] = self.copy(value, (*location, str(key)), key_line)
            return plain
        if isinstance(node, CommentedSeq):
            items = []
            for index, value in enumerate(node):
                try:
                    item_line = int(node.lc.item(index)[0]) + 1
                except (KeyError, TypeError, IndexError):
                    item_line = line
                items.append(self.copy(value, (*location, index), item_line))
            return items
        return _plain_scalar(node)


def load_yaml(data: bytes, filename: str) -> YamlDocument:
    """Parse one YAML document within bounds; raise ImportRefused with file:line otherwise."""
    if len(data) > MAX_FILE_BYTES:
        raise refuse("I001", f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}", filename)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise refuse("I001", f"not valid UTF-8 (byte {error.start})", filename, line) from None
    for character in RESERVED_CHARACTERS:
        if character in text:
            line = text[: text.index(character)].count("\n") + 1
            raise refuse(
                "I001", f"holds the reserved character U+{ord(character):04X}", filename, line
            )
    try:
        _screen(text, filename)
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = False
        tree = yaml.load(text)
        walk = _Walk(filename)
        plain = walk.copy(tree, (), 1)
    except ImportRefused:
        raise
    except RecursionError:
        raise refuse("I001", "nesting is too deep", filename) from None
    except Exception as error:  # the third-party parser's many error types end here
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        error_line = None if mark is None else int(mark.line) + 1
        text_of_error = str(getattr(error, "problem", None) or error)
        if "duplicate key" in str(error):
            text_of_error = "duplicate key"
        message = " ".join(text_of_error.split())[:200]
        raise refuse("I001", f"YAML syntax: {message}", filename, error_line) from None
    return YamlDocument(plain, walk.lines, filename)
