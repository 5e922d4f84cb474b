"""systemd unit-file syntax: escaping values into units, and reading units back.

Values reach a Quadlet ``.container`` unit along two paths, and each needs its
own escaping (systemd.syntax(7), podman-systemd.unit(5)):

* **word keys** (``Exec=``, ``Environment=``, ``Label=``, ``Secret=``,
  ``PodmanArgs=``): Quadlet splits the value into words the way systemd splits
  ``ExecStart=`` (quotes, C escapes).  :func:`quote_word` writes one word as a
  double-quoted C-escaped string, so spaces, quotes, backslashes and newlines
  stay inside it.
* **raw keys** (``HealthCmd=``, ``Entrypoint=``, ``Volume=``, ``User=`` …):
  Quadlet takes the text as it is.  :func:`raw_value` refuses what raw text
  cannot carry (line breaks and other control characters, edge whitespace, a
  trailing backslash, which would continue the line).

Either way, Quadlet copies the word into the generated ``ExecStart=`` line,
where systemd expands ``%`` specifiers and ``$`` variables.  So both
functions double ``%`` and ``$``; systemd turns ``%%`` and ``$$`` back into
one character, and the program receives exactly the original text.

The readers (:func:`split_command_line`, :func:`parse_unit`) model what
systemd does with a generated unit, so tests can check the round trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What systemd (and Quadlet's copy of its parser) treats as word separators.
WHITESPACE = " \t\n\r"

_C_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}

_C_UNESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "s": " ",
}


class UnitSyntaxError(ValueError):
    """A value cannot be written into a unit, or a unit line cannot be read."""


def unit_text_problem(text: str) -> str | None:
    """Why ``text`` can never reach a container through a unit file, or None.

    NUL cannot be part of a program argument; U+0080 is mangled by Quadlet's
    escaper (it writes the byte ``\\x80``, which is not UTF-8); lone
    surrogates are not text at all.
    """
    if "\x00" in text:
        return "contains a NUL character"
    if "\x80" in text:
        return "contains the control character U+0080"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (lone surrogate)"
    return None


def escape_percent_and_dollar(text: str) -> str:
    """``%`` -> ``%%`` (specifiers) and ``$`` -> ``$$`` (variable expansion)."""
    return text.replace("%", "%%").replace("$", "$$")


def escape_specifiers(text: str) -> str:
    """``%`` -> ``%%``: for plain systemd keys such as ``Description=``."""
    return text.replace("%", "%%")


def quote_word(word: str) -> str:
    """One argument as a double-quoted word for a Quadlet word key.

    ``quote_word('a "b"\\nExecStartPre=x')`` -> ``"a \\"b\\"\\nExecStartPre=x"``: the
    line break becomes ``\\n`` inside the quotes, so it cannot start a new key.
    """
    problem = unit_text_problem(word)
    if problem is not None:
        raise UnitSyntaxError(f"value {word[:60]!r} {problem}")
    out = ['"']
    for char in escape_percent_and_dollar(word):
        escaped = _C_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def quote_words(words: list[str] | tuple[str, ...]) -> str:
    """Several arguments, each quoted, separated by one space."""
    return " ".join(quote_word(word) for word in words)


def raw_value(text: str) -> str:
    """Text for a raw Quadlet key, `%` and `$` doubled; refuses what raw text cannot carry."""
    problem = unit_text_problem(text)
    if problem is None:
        if any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in text):
            problem = "contains a line break or another control character"
        elif text != text.strip(WHITESPACE):
            problem = "starts or ends with whitespace"
        elif text.endswith("\\"):
            problem = "ends with a backslash (which continues the line)"
        elif not text:
            problem = "is empty"
    if problem is not None:
        raise UnitSyntaxError(f"value {text[:60]!r} {problem}")
    return escape_percent_and_dollar(text)


def plain_text_value(text: str) -> str:
    """Free text (e.g. ``Description=``) made safe: controls become spaces, ``%`` doubled."""
    cleaned = "".join(
        " " if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F else char for char in text
    )
    cleaned = " ".join(cleaned.split(" ")).strip(WHITESPACE).rstrip("\\").strip(WHITESPACE)
    return escape_specifiers(cleaned)


# -- reading units back -----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEntry:
    """One ``Key=value`` line of a unit (continuations joined), with its section."""

    section: str
    key: str
    value: str


_SECTION = re.compile(r"^\[([^\[\]]+)\]$")


def parse_unit(text: str) -> list[UnitEntry]:
    """The entries of a unit file, as systemd reads them (comments, continuations).

    A line ending in a backslash continues on the next line (the backslash is
    replaced by a space, as systemd does).  Raises UnitSyntaxError on a line
    that is neither a section, a comment nor ``Key=value``.
    """
    entries: list[UnitEntry] = []
    section = ""
    pending = ""
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(WHITESPACE)
        if pending:
            if line.startswith(("#", ";")):
                continue
            line = pending + line
            pending = ""
        elif not line or line.startswith(("#", ";")):
            continue
        trailing_backslashes = len(line) - len(line.rstrip("\\"))
        if trailing_backslashes % 2 == 1:
            pending = line[:-1] + " "
            continue
        match = _SECTION.match(line)
        if match is not None:
            section = match.group(1)
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise UnitSyntaxError(f"line {number}: {line[:80]!r} is not Key=value")
        entries.append(UnitEntry(section, key.strip(WHITESPACE), value.strip(WHITESPACE)))
    if pending:
        entries_line = pending.rstrip()
        key, _, value = entries_line.partition("=")
        entries.append(UnitEntry(section, key.strip(), value.strip()))
    return entries


def unit_keys(text: str) -> list[tuple[str, str]]:
    """The (section, key) of every entry of a unit, in order."""
    return [(entry.section, entry.key) for entry in parse_unit(text)]


def expand_specifiers(text: str, specifiers: dict[str, str] | None = None) -> str:
    """systemd's specifier expansion: ``%%`` -> ``%``, ``%X`` from ``specifiers``.

    An unknown specifier raises UnitSyntaxError, so a test notices a ``%``
    that escaped escaping.
    """
    known = specifiers or {}
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        if index + 1 >= len(text):
            raise UnitSyntaxError("a lone % ends the value")
        code = text[index + 1]
        if code == "%":
            out.append("%")
        elif code in known:
            out.append(known[code])
        else:
            raise UnitSyntaxError(f"unexpanded specifier %{code}")
        index += 2
    return "".join(out)


def _c_unescape(text: str, index: int) -> tuple[str, int]:
    """Decode the escape that starts after the backslash at ``index``; (char, next index)."""
    code = text[index]
    if code in _C_UNESCAPES:
        return _C_UNESCAPES[code], index + 1
    if code == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[index + 1 : index + 3]):
        value = int(text[index + 1 : index + 3], 16)
        if value == 0:
            raise UnitSyntaxError("\\x00 is not allowed")
        return chr(value), index + 3
    if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 1 : index + 5]):
        return chr(int(text[index + 1 : index + 5], 16)), index + 5
    if code == "U" and re.fullmatch(r"[0-9a-fA-F]{8}", text[index + 1 : index + 9]):
        value = int(text[index + 1 : index + 9], 16)
        if value > 0x10FFFF:  # systemd refuses it; chr() would raise ValueError
            raise UnitSyntaxError(f"\\U{text[index + 1 : index + 9]} is not a Unicode code point")
        return chr(value), index + 9
    if code in "01234567" and re.fullmatch(r"[0-7]{3}", text[index : index + 3]):
        return chr(int(text[index : index + 3], 8)), index + 3
    raise UnitSyntaxError(f"unknown escape \\{code}")


def split_words(text: str, *, refuse_separator: bool = False) -> list[str]:
    """Split a value into words like systemd's ``extract_first_word`` (unquote, C-unescape).

    ``refuse_separator``: raise on a word that is a lone unquoted ``;``, which
    ``ExecStart=`` reads as the end of one command and the start of another.
    """
    words: list[str] = []
    index = 0
    length = len(text)
    while True:
        while index < length and text[index] in WHITESPACE:
            index += 1
        if index >= length:
            return words
        if (
            refuse_separator
            and text[index] == ";"
            and (index + 1 == length or text[index + 1] in WHITESPACE)
        ):
            raise UnitSyntaxError("an unquoted ';' separates commands in ExecStart=")
        if (
            refuse_separator
            and text.startswith("\\;", index)
            and (index + 2 == length or text[index + 2] in WHITESPACE)
        ):
            words.append(";")  # systemd's escaped separator: a literal ';' word
            index += 2
            continue
        word: list[str] = []
        quote = ""
        while index < length:
            char = text[index]
            if char == "\\":
                if index + 1 >= length:
                    raise UnitSyntaxError("a trailing backslash ends the value")
                decoded, index = _c_unescape(text, index + 1)
                word.append(decoded)
                continue
            if quote:
                if char == quote:
                    quote = ""
                else:
                    word.append(char)
                index += 1
                continue
            if char in "\"'":
                quote = char
                index += 1
                continue
            if char in WHITESPACE:
                break
            word.append(char)
            index += 1
        if quote:
            raise UnitSyntaxError("unbalanced quotes")
        words.append("".join(word))


def _expand_dollars(word: str) -> str:
    """``$$`` -> ``$``; any other ``$`` would be a variable, which escaping must prevent."""
    out: list[str] = []
    index = 0
    while index < len(word):
        if word[index] == "$":
            if word[index + 1 : index + 2] != "$":
                raise UnitSyntaxError(f"unescaped $ in {word[:60]!r} (systemd would expand it)")
            out.append("$")
            index += 2
            continue
        out.append(word[index])
        index += 1
    return "".join(out)


def split_command_line(line: str, specifiers: dict[str, str] | None = None) -> list[str]:
    """The argv systemd runs for an ``ExecStart=`` value.

    In systemd's order: specifiers on the whole line, then word splitting with
    quotes and C escapes, then ``$$`` -> ``$`` in each word.  A lone unquoted
    ``;`` (systemd's command separator) raises UnitSyntaxError.
    """
    expanded = expand_specifiers(line, specifiers)
    return [_expand_dollars(word) for word in split_words(expanded, refuse_separator=True)]
