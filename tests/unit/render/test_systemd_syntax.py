"""systemd's unit syntax as the project writes and reads it, value by value: each escape,
each refusal with its exact message, each reader rule (comments, continuations, quotes,
C escapes, specifiers, ``$$``, the ``;`` separator).  The real Quadlet generator checks
the round trip in tests/integration/render/test_escaping.py; these pin every branch."""

from __future__ import annotations

import pytest

from catalog.systemd_syntax import (
    UnitEntry,
    UnitSyntaxError,
    expand_specifiers,
    parse_unit,
    plain_text_value,
    quote_word,
    raw_value,
    split_command_line,
    split_words,
    unit_text_problem,
)


def refusal(call: object, *args: object, **kwargs: object) -> str:
    assert callable(call)
    with pytest.raises(UnitSyntaxError) as caught:
        call(*args, **kwargs)
    return str(caught.value)


def test_what_no_unit_can_carry_is_named() -> None:
    assert unit_text_problem("a\x00b") == "contains a NUL character"
    assert unit_text_problem("\x80") == "contains the control character U+0080"
    assert unit_text_problem("\ud800") == "is not valid Unicode text (lone surrogate)"
    assert unit_text_problem("\x81 \x7f ünï \U0001f600") is None


def test_a_word_is_quoted_with_c_escapes_and_doubled_specifiers() -> None:
    assert quote_word('50% $HOME "q" \\ \n\t') == '"50%% $$HOME \\"q\\" \\\\ \\n\\t"'
    assert quote_word("a b") == '"a b"'  # a space stays a space inside the quotes
    assert quote_word("\x01\x1f\x7f\x81") == '"\\x01\\x1f\\x7f\x81"'
    assert quote_word("\a\b\f\r\v") == '"\\a\\b\\f\\r\\v"'


def test_a_word_no_unit_can_carry_is_refused_with_its_first_60_characters() -> None:
    word = "x" * 59 + "\x00" + "y" * 10
    assert refusal(quote_word, word) == f"value {word[:60]!r} contains a NUL character"
    assert refusal(quote_word, "\x80") == "value '\\x80' contains the control character U+0080"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\nb", "contains a line break or another control character"),
        ("a\x1fb", "contains a line break or another control character"),
        ("a\x7fb", "contains a line break or another control character"),
        ("a\x9fb", "contains a line break or another control character"),
        (" a", "starts or ends with whitespace"),
        ("a ", "starts or ends with whitespace"),
        ("a\\", "ends with a backslash (which continues the line)"),
        ("", "is empty"),
        ("a\x00", "contains a NUL character"),
    ],
)
def test_a_raw_value_refuses_what_raw_text_cannot_carry(text: str, problem: str) -> None:
    assert refusal(raw_value, text) == f"value {text!r} {problem}"


def test_a_raw_value_is_kept_as_written_but_for_specifiers_and_dollars() -> None:
    assert raw_value("/srv/a%b$c:/x:Z") == "/srv/a%%b$$c:/x:Z"
    assert raw_value("\xa0a\u3000") == "\xa0a\u3000"  # not systemd whitespace, not control
    long = "x" * 70 + "\n"
    assert refusal(raw_value, long) == (
        f"value {long[:60]!r} contains a line break or another control character"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a\x1fb\tc\x7fd\x9fe\xa0f", "a b c d e\xa0f"),
        ("a  b", "a  b"),  # runs of spaces are kept
        ("aXX XXb", "aXX XXb"),
        ("  a \\\\ \n", "a"),  # edge whitespace and trailing backslashes go
        ("\\a\\", "\\a"),  # only the trailing ones
        ("aX\\", "aX"),
        ("\u3000a\u3000\\", "\u3000a\u3000"),  # not systemd whitespace
        ("100% sure", "100%% sure"),
        ("$HOME", "$HOME"),  # Description= expands no variables
    ],
)
def test_free_text_loses_controls_and_edge_whitespace(text: str, value: str) -> None:
    assert plain_text_value(text) == value


def test_a_unit_is_read_as_systemd_reads_it() -> None:
    text = (
        "Top=before any section\n"
        "[Unit]\n"
        "  Description = a  b \n"
        "# comment\n"
        "; comment\n"
        "[Container]\n"
        "Exec=one \\\n"
        "# a comment inside a continuation is skipped\n"
        "; so is this one\n"
        "  two\n"
        "Label=k=v\n"
        "Even=x\\\\\n"
        "Odd=x\\\\\\\n"
        "y\n"
        "\u3000Key=v\u3000\n"
        "Last=a=b \\"
    )
    assert parse_unit(text) == [
        UnitEntry("", "Top", "before any section"),
        UnitEntry("Unit", "Description", "a  b"),
        UnitEntry("Container", "Exec", "one  two"),
        UnitEntry("Container", "Label", "k=v"),
        UnitEntry("Container", "Even", "x\\\\"),
        UnitEntry("Container", "Odd", "x\\\\ y"),
        UnitEntry("Container", "\u3000Key", "v\u3000"),
        UnitEntry("Container", "Last", "a=b"),
    ]


def test_a_line_that_is_not_key_value_is_refused_with_its_number() -> None:
    assert refusal(parse_unit, "[Unit]\n\noops\n") == "line 3: 'oops' is not Key=value"
    assert refusal(parse_unit, "=value") == "line 1: '=value' is not Key=value"
    long = "k" * 90
    assert refusal(parse_unit, long) == f"line 1: {long[:80]!r} is not Key=value"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a\tb\nc\rd  e ", ["a", "b", "c", "d", "e"]),
        ("   ", []),
        ('"a b" \'c d\' e"f g"h', ["a b", "c d", "ef gh"]),
        ("aXb X", ["aXb", "X"]),
        ('"it\'s" \'say "hi"\'', ["it's", 'say "hi"']),
        ("\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\\'\\s", ["\a\b\f\n\r\t\v\\\"' "]),
        ("\\x41\\x4a\\x4A\\x7e1", ["AJJ~1"]),
        ("\\u00e9\\u00E9f\\u20ac", ["ééf€"]),
        ("\\U0010FFFF", ["\U0010ffff"]),
        ("\\U0001f600\\U0001F600z", ["\U0001f600\U0001f600z"]),
        ("\\101\\1010 \\0777", ["AA0", "\x3f7"]),
        ("a ; b", ["a", ";", "b"]),  # a separator only for ExecStart=
        ("a\\n", ["a\n"]),
    ],
)
def test_words_are_split_unquoted_and_unescaped(text: str, words: list[str]) -> None:
    assert split_words(text) == words


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ab\\", "a trailing backslash ends the value"),
        ('"ab', "unbalanced quotes"),
        ("'a b", "unbalanced quotes"),
        ("\\x00", "\\x00 is not allowed"),
        ("\\x4", "unknown escape \\x"),
        ("\\x4g", "unknown escape \\x"),
        ("\\u00e", "unknown escape \\u"),
        ("\\u00eg", "unknown escape \\u"),
        ("\\U0001F60", "unknown escape \\U"),
        ("\\U00e9", "unknown escape \\U"),
        ("\\U00110000", "\\U00110000 is not a Unicode code point"),
        ("\\Uffffffff", "\\Uffffffff is not a Unicode code point"),
        ("\\U10000041", "\\U10000041 is not a Unicode code point"),
        ("\\U00110000z", "\\U00110000 is not a Unicode code point"),
        ("\\18", "unknown escape \\1"),
        ("\\7", "unknown escape \\7"),
        ("\\8", "unknown escape \\8"),
        ("\\q", "unknown escape \\q"),
        ("\\z12", "unknown escape \\z"),
        ("\\z1234", "unknown escape \\z"),
        ("\\z12345678", "unknown escape \\z"),
    ],
)
def test_a_value_systemd_cannot_split_is_refused(text: str, message: str) -> None:
    assert refusal(split_words, text) == message


def test_a_lone_unquoted_semicolon_separates_commands_and_an_escaped_one_is_a_word() -> None:
    separator = "an unquoted ';' separates commands in ExecStart="
    assert refusal(split_words, "a ; b", refuse_separator=True) == separator
    assert refusal(split_words, "a ;", refuse_separator=True) == separator
    assert split_words("a ;b", refuse_separator=True) == ["a", ";b"]
    assert split_words("a; b", refuse_separator=True) == ["a;", "b"]
    assert split_words('a ";"', refuse_separator=True) == ["a", ";"]
    assert split_words("a \\; b", refuse_separator=True) == ["a", ";", "b"]
    assert split_words("a \\;", refuse_separator=True) == ["a", ";"]
    assert refusal(split_words, "a \\;b", refuse_separator=True) == "unknown escape \\;"


def test_specifiers_are_expanded_and_a_stray_percent_is_refused() -> None:
    assert expand_specifiers("%%") == "%"
    assert expand_specifiers("a%%b%n", {"n": "x"}) == "a%bx"
    assert refusal(expand_specifiers, "100%") == "a lone % ends the value"
    assert refusal(expand_specifiers, "%") == "a lone % ends the value"
    assert refusal(expand_specifiers, "%h") == "unexpanded specifier %h"


def test_a_command_line_is_read_specifiers_first_then_words_then_dollars() -> None:
    assert split_command_line('echo "50%% $$HOME" \\; x') == ["echo", "50% $HOME", ";", "x"]
    assert split_command_line("%n $$x", {"n": "a b"}) == ["a", "b", "$x"]
    word = "$" + "x" * 70
    assert refusal(split_command_line, word) == (
        f"unescaped $ in {word[:60]!r} (systemd would expand it)"
    )
    assert refusal(split_command_line, "a ; b") == (
        "an unquoted ';' separates commands in ExecStart="
    )
