"""What a user reads of a refused manifest: ``file:line: field: message (rule)``, sorted."""

from __future__ import annotations

import pytest

from catalog.problems import ManifestError, Problem, format_field_path

FILE = "apps/demo-web/manifest.yml"


@pytest.mark.parametrize(
    ("location", "text"),
    [
        ((), ""),
        (("id",), "id"),
        (("containers", 1, "volumes", 0, "path"), "containers[1].volumes[0].path"),
        ((0,), "[0]"),
        ((0, "name"), "[0].name"),
        (("env", "A", "B"), "env.A.B"),
        (("a", 2, 3), "a[2][3]"),
    ],
)
def test_a_field_path_reads_as_the_user_wrote_it(
    location: tuple[str | int, ...], text: str
) -> None:
    assert format_field_path(location) == text


def test_a_problem_names_file_line_field_message_and_rule() -> None:
    problem = Problem(FILE, 14, "containers[1].image", "not an image", "P004")
    assert str(problem) == f"{FILE}:14: containers[1].image: not an image (P004)"


def test_a_problem_without_line_field_or_rule_leaves_them_out() -> None:
    assert str(Problem(FILE, None, "", "file is too big")) == f"{FILE}: file is too big"
    assert str(Problem(FILE, 3, "", "bad")) == f"{FILE}:3: bad"
    assert str(Problem(FILE, None, "id", "bad")) == f"{FILE}: id: bad"


def test_line_zero_is_still_a_line() -> None:
    assert str(Problem(FILE, 0, "", "bad")) == f"{FILE}:0: bad"


def test_a_problem_as_json_keeps_every_part() -> None:
    assert Problem(FILE, 2, "id", "bad id", "P001", "warning").as_json() == {
        "file": FILE,
        "line": 2,
        "field": "id",
        "message": "bad id",
        "rule": "P001",
        "severity": "warning",
    }
    assert Problem(FILE, None, "", "x").as_json() == {
        "file": FILE,
        "line": None,
        "field": "",
        "message": "x",
        "rule": None,
        "severity": "error",
    }


def test_a_refusal_lists_every_problem_sorted_by_file_line_field_and_message() -> None:
    problems = [
        Problem("b.yml", 1, "a", "x"),
        Problem(FILE, 9, "z", "x"),
        Problem(FILE, None, "", "whole file"),
        Problem(FILE, 2, "b", "y"),
        Problem(FILE, 2, "b", "a"),
        Problem(FILE, 2, "a", "z"),
        Problem(FILE, 1, "z", "z"),
    ]
    error = ManifestError(problems)
    assert [str(problem) for problem in error.problems] == [
        f"{FILE}: whole file",
        f"{FILE}:1: z: z",
        f"{FILE}:2: a: z",
        f"{FILE}:2: b: a",
        f"{FILE}:2: b: y",
        f"{FILE}:9: z: x",
        "b.yml:1: a: x",
    ]
    assert str(error) == "\n".join(str(problem) for problem in error.problems)


def test_a_problem_without_a_line_sorts_with_line_zero_before_line_one() -> None:
    error = ManifestError([Problem(FILE, 1, "a", "m"), Problem(FILE, None, "b", "m")])
    assert [problem.line for problem in error.problems] == [None, 1]
    error = ManifestError([Problem(FILE, None, "b", "m"), Problem(FILE, 0, "a", "m")])
    assert [problem.field for problem in error.problems] == ["a", "b"]


def test_a_refusal_from_a_generator_keeps_every_problem() -> None:
    error = ManifestError(Problem(FILE, line, "", "m") for line in (3, 1, 2))
    assert [problem.line for problem in error.problems] == [1, 2, 3]
    assert str(error) == f"{FILE}:1: m\n{FILE}:2: m\n{FILE}:3: m"
