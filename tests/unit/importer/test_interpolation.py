"""Compose interpolation, case by case as the Compose specification states it."""

from __future__ import annotations

import pytest

from pipeline.importer.interpolation import InterpolationError, interpolate

VARIABLES = {"SET": "value", "EMPTY": "", "FOO": "foo"}

CASES = [
    ("$SET", "value", []),
    ("${SET}", "value", []),
    ("pre-${SET}-post", "pre-value-post", []),
    ("${UNSET:-default}", "default", []),
    ("${EMPTY:-default}", "default", []),
    ("${EMPTY-default}", "", []),
    ("${UNSET-default}", "default", []),
    ("${SET:+alt}", "alt", []),
    ("${EMPTY:+alt}", "", []),
    ("${EMPTY+alt}", "alt", []),
    ("${UNSET+alt}", "", []),
    ("${UNSET:-${FOO}}", "foo", []),
    ("${UNSET:-${ALSO_UNSET:-deep}}", "deep", []),
    ("${UNSET:-$FOO-x}", "foo-x", []),
    ("$$SET", "$SET", []),
    ("$${SET}", "${SET}", []),
    ("a $ b", "a $ b", []),
    ("cost: $5", "cost: $5", []),
    ("trailing$", "trailing$", []),
    ("$UNSET and ${ALSO}", " and ", ["UNSET", "ALSO"]),
]


@pytest.mark.parametrize(("text", "expected", "unresolved"), CASES)
def test_interpolates_like_compose(text: str, expected: str, unresolved: list[str]) -> None:
    assert interpolate(text, VARIABLES) == (expected, unresolved)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${UNSET:?set it}", "required variable UNSET is missing a value: set it"),
        ("${EMPTY:?no empty}", "required variable EMPTY is missing a value: no empty"),
        ("${UNSET?gone}", "required variable UNSET is missing a value: gone"),
        ("${SET", "unterminated ${"),
        ("${1BAD}", "invalid interpolation format ${1BAD}"),
        ("${SET/foo/bar}", "invalid interpolation format ${SET/foo/bar}"),
    ],
)
def test_refuses_what_compose_refuses(text: str, message: str) -> None:
    with pytest.raises(InterpolationError, match=message.replace("$", r"\$").replace("{", r"\{")):
        interpolate(text, VARIABLES)


def test_set_but_empty_passes_the_plain_required_check() -> None:
    assert interpolate("${EMPTY?gone}", VARIABLES) == ("", [])
