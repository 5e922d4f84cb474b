"""Parse ``manifest.yml`` bytes into a :class:`~catalog.manifest.Manifest`.

Pure: bytes in, a model or a :class:`~catalog.problems.ManifestError` out.
The YAML is read with line information, so every problem names its line:
through libyaml's C parser when :mod:`catalog.fast_yaml` can vouch for the
result, else with ruamel's round-trip parser (which gives every refusal).
Hostile input is refused before it can cost anything: over 1 MiB, not UTF-8,
anchors and aliases (the "billion laughs" bomb), explicit tags, duplicate keys,
more than one document, nesting deeper than a manifest ever needs.
"""

from __future__ import annotations

import difflib
import io
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from catalog.fast_yaml import load_plain
from catalog.manifest import Manifest
from catalog.problems import ManifestError, Problem, format_field_path

MAX_MANIFEST_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 50_000

Location = tuple[str | int, ...]


class _Refused(Exception):
    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line_of(event: Any) -> int | None:
    mark = getattr(event, "start_mark", None)
    return None if mark is None else int(mark.line) + 1


def _screen_events(text: str) -> None:
    """Walk the YAML event stream once and refuse what a manifest never needs."""
    depth = 0
    nodes = 0
    documents = 0
    for event in YAML(typ="rt").parse(io.StringIO(text)):
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Refused(_line_of(event), "a manifest holds exactly one YAML document")
        if isinstance(event, AliasEvent):
            raise _Refused(_line_of(event), "YAML aliases (*name) are not allowed in manifests")
        if isinstance(event, NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _Refused(_line_of(event), f"more than {MAX_NODES} YAML nodes")
            if event.anchor is not None:
                raise _Refused(_line_of(event), "YAML anchors (&name) are not allowed in manifests")
            tag = getattr(event, "tag", None)
            if tag is not None and not (isinstance(event, ScalarEvent) and tag == "!"):
                raise _Refused(_line_of(event), f"YAML tags ({tag}) are not allowed in manifests")
        if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(_line_of(event), f"nesting deeper than {MAX_DEPTH} levels")
        elif type(event).__name__ in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1


def plain_scalar(value: Any) -> Any:
    """ruamel's round-trip scalar subclasses -> plain Python values (anything else as it is)."""
    if value is None or isinstance(value, bool):
        return value
    if type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _to_plain(node: Any, location: Location, lines: dict[Location, int], line: int) -> Any:
    """Copy the round-trip tree into plain dicts and lists, recording each node's line."""
    lines[location] = line
    if isinstance(node, CommentedMap):
        plain: dict[str, Any] = {}
        for key, value in node.items():
            key_line = int(node.lc.key(key)[0]) + 1
            if not isinstance(key, str):
                raise _Refused(
                    key_line,
                    f"{format_field_path(location) or 'top level'}: key {key!r} is not a string",
                )
            plain[str(key)] = _to_plain(value, (*location, str(key)), lines, key_line)
        return plain
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            item_line = int(node.lc.item(index)[0]) + 1
            items.append(_to_plain(value, (*location, index), lines, item_line))
        return items
    return plain_scalar(node)


def parse_yaml_document(data: bytes, filename: str) -> tuple[Any, dict[Location, int]]:
    """Decode and parse one YAML document; return (plain data, line of every node)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            [Problem(filename, None, "", f"file is {len(data)} bytes; the limit is 1 MiB")]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ManifestError(
            [Problem(filename, line, "", f"not valid UTF-8 (byte {error.start}); save as UTF-8")]
        ) from None
    fast = load_plain(text)
    if fast is not None:
        return fast
    try:
        _screen_events(text)
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = False
        tree = yaml.load(text)
        lines: dict[Location, int] = {}
        plain = _to_plain(tree, (), lines, 1)
    except _Refused as refused:
        raise ManifestError([Problem(filename, refused.line, "", refused.message)]) from None
    except RecursionError:
        raise ManifestError([Problem(filename, None, "", "nesting is too deep")]) from None
    except Exception as error:  # the third-party parser's many error types end here
        error_line = _error_line(error)
        message = " ".join(str(getattr(error, "problem", None) or error).split())
        if "duplicate key" in str(error):
            message = "duplicate key " + _duplicate_key_name(str(error))
        raise ManifestError(
            [Problem(filename, error_line, "", f"YAML syntax: {message[:300]}")]
        ) from None
    return plain, lines


def _error_line(error: Exception) -> int | None:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    return None


def _duplicate_key_name(text: str) -> str:
    for part in text.split("\n"):
        if part.startswith("found duplicate key"):  # not a quoted line of the document
            return part.split("found duplicate key", 1)[1].split(" with value")[0].strip()
    return ""


@dataclass(frozen=True)
class ManifestSource:
    """A parsed manifest with where it came from, so later checks can name lines."""

    manifest: Manifest
    filename: str
    lines: Mapping[Location, int]

    def line_of(self, *location: str | int) -> int | None:
        """The line of ``location``, or of its nearest parent that has one."""
        return self.lines.get(_known_location(tuple(location), self.lines))

    def problem(self, location: Location, message: str, rule: str | None = None) -> Problem:
        return Problem(
            self.filename,
            self.line_of(*location),
            format_field_path(location),
            message,
            rule,
        )


def parse_manifest(data: bytes, filename: str, folder_id: str | None = None) -> Manifest:
    """Parse and check the shape of one manifest; raise ManifestError listing every problem."""
    return parse_manifest_source(data, filename, folder_id).manifest


def parse_manifest_source(
    data: bytes, filename: str, folder_id: str | None = None
) -> ManifestSource:
    """Like :func:`parse_manifest`, keeping the line of every field for later checks."""
    document, lines = parse_yaml_document(data, filename)
    if not isinstance(document, dict):
        raise ManifestError(
            [Problem(filename, 1, "", "a manifest is a YAML mapping of fields (schema: 1, id: …)")]
        )
    problems = []
    try:
        manifest = Manifest.model_validate(document)
    except ValidationError as error:
        problems = _problems_from_validation(error, document, lines, filename)
        manifest = None
    if manifest is not None and folder_id is not None and manifest.id != folder_id:
        problems.append(
            Problem(
                filename,
                lines.get(("id",)),
                "id",
                f"id {manifest.id!r} must equal its folder name {folder_id!r}",
            )
        )
    if problems or manifest is None:
        raise ManifestError(problems)
    return ManifestSource(manifest, filename, lines)


def _known_location(location: Location, lines: Mapping[Location, int]) -> Location:
    for end in range(len(location), -1, -1):
        if location[:end] in lines:
            return location[:end]
    return ()


def _model_at(location: Location) -> type[BaseModel] | None:
    """The pydantic model whose fields live at ``location`` in a manifest (a union member
    named in the location, as pydantic names the one it tried, picks that member)."""
    current: Any = Manifest
    for part in location:
        member = _union_member(current, part)
        if member is not None:
            current = member
            continue
        model = _unwrap_model(current)
        if model is not None and isinstance(part, str):
            field = next(
                (f for name, f in model.model_fields.items() if (f.alias or name) == part), None
            )
            if field is None:
                return None
            current = field.annotation
            continue
        current = _element_type(current, part)
        if current is None:
            return None
    return _unwrap_model(current)


def _union_member(annotation: Any, part: str | int) -> type[BaseModel] | None:
    """The model of a union that pydantic names ``part`` (``SecretRef``), or None."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    for arg in get_args(annotation):
        model = _unwrap_model(arg)
        if model is not None and model.__name__ == part:
            return model
    return None


def _written_location(location: Location, document: Any) -> Location:
    """``location`` without the union members pydantic names in it (``SecretRef``,
    ``constrained-str``): every part but the last must be in the document, as the user
    wrote it; the last is the field the problem is about (a missing one too)."""
    written: list[str | int] = []
    node = document
    for index, part in enumerate(location):
        child = _child(node, part)
        if child is _ABSENT and index < len(location) - 1:
            continue
        node = child
        written.append(part)
    return tuple(written)


_ABSENT = object()


def _child(node: Any, part: str | int) -> Any:
    """``node[part]`` where the document holds it, else ``_ABSENT``."""
    if isinstance(node, dict):
        return node.get(part, _ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType) or origin is typing.Annotated:
        for arg in get_args(annotation):
            found = _unwrap_model(arg)
            if found is not None:
                return found
    return None


def _element_type(annotation: Any, part: str | int) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _element_type(arg, part)
            if found is not None:
                return found
        return None
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict and isinstance(part, str):
        return get_args(annotation)[1]
    return None


_TYPE_HINTS = {
    "string_type": 'expected text; quote numbers and versions (e.g. "80")',
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "list_type": "expected a list (- item)",
    "dict_type": "expected a mapping (key: value)",
    "model_type": "expected a mapping (key: value)",
}


def _problems_from_validation(
    error: ValidationError, document: Any, lines: Mapping[Location, int], filename: str
) -> list[Problem]:
    grouped: dict[Location, list[str]] = {}
    for item in error.errors(include_url=False):
        tried: Location = tuple(item["loc"])
        location = _written_location(tried, document)
        known = _known_location(location, lines)
        kind = item["type"]
        if kind == "missing":
            field_location: Location = (
                (*known, location[len(known)]) if len(location) > len(known) else known
            )
            message = "required field is missing; add it"
        elif kind == "extra_forbidden":
            field_location = known
            parent = _model_at(tried[:-1])
            allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
            close = difflib.get_close_matches(str(known[-1]), allowed, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
            message = f"unknown field; {hint}"
        else:
            field_location = known
            message = _TYPE_HINTS.get(kind) or str(item["msg"]).removeprefix("Value error, ")
        grouped.setdefault(field_location, [])
        if message not in grouped[field_location]:
            grouped[field_location].append(message)
    problems = []
    for field_location, messages in grouped.items():
        line = lines.get(_known_location(field_location, lines))
        problems.append(
            Problem(filename, line, format_field_path(field_location), " or ".join(messages))
        )
    return problems
