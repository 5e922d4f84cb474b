"""What stops a manifest from becoming containers: gathered, not raised, each with its rule."""

from __future__ import annotations

import pytest

from catalog.spec_problems import SAFE_PATH, ProblemCollector, RuntimeSpecError, SpecProblem

NAMED = (
    "may use only letters, digits and . _ @ + = ~ / - (':' and ',' would split the volume "
    "option, '%' is a systemd specifier, spaces and quotes would need a shell); rename the path"
)


def test_a_collector_starts_empty_and_keeps_problems_in_order_with_their_rules() -> None:
    collector = ProblemCollector()
    assert collector.problems == []
    collector.add(("containers", 0, "image"), "first")
    collector.add(("ports",), "second", "P010")
    assert collector.problems == [
        SpecProblem(("containers", 0, "image"), "first", "P023"),
        SpecProblem(("ports",), "second", "P010"),
    ]


def test_a_problem_defaults_to_rule_p023() -> None:
    assert SpecProblem(("a",), "m").rule == "P023"


def test_text_a_unit_cannot_carry_is_a_problem_and_plain_text_is_not() -> None:
    collector = ProblemCollector()
    collector.text(("containers", 0, "env", "A"), "fine text, with 'quotes' and $ and %")
    assert collector.problems == []
    collector.text(("containers", 0, "env", "A"), "nul\x00here")
    collector.text(("containers", 0, "command", 1), "\x80")
    collector.text(("name",), "\ud800")
    assert collector.problems == [
        SpecProblem(("containers", 0, "env", "A"), "contains a NUL character; remove it"),
        SpecProblem(
            ("containers", 0, "command", 1), "contains the control character U+0080; remove it"
        ),
        SpecProblem(("name",), "is not valid Unicode text (lone surrogate); remove it"),
    ]


@pytest.mark.parametrize(
    "path",
    ["/", "/data", "/a/b.c_d@e+f=g~h-i/J9", "/srv/..x", "/srv/x..", "/srv/.../x"],
)
def test_a_safe_path_is_no_problem(path: str) -> None:
    collector = ProblemCollector()
    collector.path(("volumes", 0, "path"), path, "container path")
    assert collector.problems == []
    assert SAFE_PATH.fullmatch(path)


@pytest.mark.parametrize(
    "path",
    ["data", "", "/a:b", "/a,b", "/a%b", "/a b", "/a'b", '/a"b', "/a\nb", "/é", "x/a", "/a\\b"],
)
def test_a_path_with_a_character_that_would_split_or_expand_is_refused(path: str) -> None:
    collector = ProblemCollector()
    collector.path(("containers", 1, "volumes", 0, "path"), path, "container path")
    assert collector.problems == [
        SpecProblem(
            ("containers", 1, "volumes", 0, "path"), f"container path {path!r} {NAMED}", "P023"
        )
    ]


@pytest.mark.parametrize("path", ["/srv/../etc", "/..", "/a/..", "/../a"])
def test_a_path_that_climbs_out_is_refused_under_its_rule(path: str) -> None:
    collector = ProblemCollector()
    collector.path(("volumes", 0, "host_path"), path, "host path")
    assert collector.problems == [
        SpecProblem(
            ("volumes", 0, "host_path"),
            f"host path {path!r} must not contain '..'; write it without",
            "P003",
        )
    ]
    other = ProblemCollector()
    other.path(("hooks",), path, "source", dots_rule="P020")
    assert other.problems == [
        SpecProblem(("hooks",), f"source {path!r} must not contain '..'; write it without", "P020")
    ]


def test_a_refusal_lists_every_problem_with_its_field_path_and_rule() -> None:
    error = RuntimeSpecError(
        [
            SpecProblem(("containers", 0, "image"), "no image", "P023"),
            SpecProblem(("ui",), "no member", "P010"),
        ]
    )
    assert str(error) == "containers[0].image: no image (P023); ui: no member (P010)"
    assert error.problems == [
        SpecProblem(("containers", 0, "image"), "no image", "P023"),
        SpecProblem(("ui",), "no member", "P010"),
    ]
    assert isinstance(error, ValueError)


def test_a_refusal_from_a_tuple_keeps_a_list() -> None:
    problem = SpecProblem(("a",), "m")
    error = RuntimeSpecError((problem,))
    assert error.problems == [problem]
    assert str(error) == "a: m (P023)"
