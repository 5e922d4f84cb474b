"""Compose variable interpolation, as the Compose specification defines it.

``$VAR`` and ``${VAR}``; ``${VAR:-default}`` (unset or empty) and
``${VAR-default}`` (unset); ``${VAR:?error}`` / ``${VAR?error}``;
``${VAR:+replacement}`` / ``${VAR+replacement}``; nesting inside the
default, error or replacement; ``$$`` for a literal ``$``.  A ``$`` that does
not start a valid name or ``${`` stays as it is.  A variable with no value
and no default becomes the empty string, and the caller is told its name
(Compose warns).  Pure: the caller supplies the lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
MAX_NESTING = 16
MAX_RESULT_CHARS = 200_000

Lookup = Callable[[str], str | None]


class InterpolationError(ValueError):
    """A malformed ``${…}`` or a required variable without a value."""


@dataclass
class Interpolation:
    """Interpolates strings with one lookup, remembering what it could not resolve."""

    lookup: Lookup
    unresolved: list[str] = field(default_factory=list)

    def expand(self, text: str, depth: int = 0) -> str:
        if depth > MAX_NESTING:
            raise InterpolationError("interpolation nested too deeply")
        out: list[str] = []
        size = 0
        i = 0
        while i < len(text):
            char = text[i]
            if char != "$":
                j = text.find("$", i)
                j = len(text) if j < 0 else j
                out.append(text[i:j])
                size += j - i
                i = j
                continue
            following = text[i + 1 : i + 2]
            if following == "$":
                out.append("$")
                size += 1
                i += 2
                continue
            if following == "{":
                end = _closing_brace(text, i + 2)
                if end < 0:
                    raise InterpolationError(f"unterminated ${{ in {text[i : i + 40]!r}")
                piece = self._braced(text[i + 2 : end], depth)
                i = end + 1
            else:
                match = NAME.match(text, i + 1)
                if match is None:
                    out.append("$")
                    size += 1
                    i += 1
                    continue
                piece = self._value(match.group(0), None)
                i = match.end()
            out.append(piece)
            size += len(piece)
            if size > MAX_RESULT_CHARS:
                raise InterpolationError("interpolation result is too long")
        return "".join(out)

    def _value(self, name: str, default_applies: bool | None) -> str:
        value = self.lookup(name)
        if value is None and default_applies is None:
            if name not in self.unresolved:
                self.unresolved.append(name)
            return ""
        return value or ""

    def _braced(self, inner: str, depth: int) -> str:
        match = NAME.match(inner)
        if match is None:
            raise InterpolationError(f"invalid interpolation format ${{{inner}}}")
        name = match.group(0)
        rest = inner[match.end() :]
        if rest == "":
            return self._value(name, None)
        for operator in (":-", ":?", ":+", "-", "?", "+"):
            if rest.startswith(operator):
                argument = rest[len(operator) :]
                break
        else:
            raise InterpolationError(
                f"invalid interpolation format ${{{inner}}}; Compose supports only "
                "${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, "
                "${VAR:+alt} and ${VAR+alt}"
            )
        value = self.lookup(name)
        is_set = value is not None
        usable = is_set if ":" not in operator else bool(value)
        kind = operator[-1]
        if kind == "-":
            return value or "" if usable else self.expand(argument, depth + 1)
        if kind == "?":
            if usable:
                return value or ""
            message = self.expand(argument, depth + 1)
            raise InterpolationError(f"required variable {name} is missing a value: {message}")
        return self.expand(argument, depth + 1) if usable else ""


def _closing_brace(text: str, start: int) -> int:
    """The index of the ``}`` closing a ``${`` whose body starts at ``start``; -1 if none."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def interpolate(text: str, variables: dict[str, str]) -> tuple[str, list[str]]:
    """Interpolate ``text`` from ``variables``; return the result and the names left unset."""
    run = Interpolation(variables.get)
    return run.expand(text), run.unresolved
