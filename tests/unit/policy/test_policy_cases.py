"""Every rule, failing and passing, as the app author sees it: rule id, field path, line.

The manifests are the files under ``cases/``; the ``# expect`` markers on their
lines say what must be reported (see ``cases.py``).
"""

from __future__ import annotations

import pytest

from pipeline.policy import check_all
from pipeline.policy_rules import RULES
from tests.unit.policy.cases import Case, all_cases, seen

CASES = all_cases()


@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=lambda c: c.name)
def test_a_failing_case_reports_exactly_its_marked_problems(case: Case) -> None:
    problems = check_all(case.sources(), require_digests=True)
    assert seen(problems) == case.expected()
    assert case.rule in {problem.rule for problem in problems}


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=lambda c: c.name)
def test_a_passing_case_reports_nothing(case: Case) -> None:
    assert case.expected() == []
    assert check_all(case.sources(), require_digests=True) == []


@pytest.mark.parametrize("rule", sorted(r for r in RULES if RULES[r].scope != "node"))
def test_every_rule_has_a_failing_and_a_passing_case(rule: str) -> None:
    kinds = {case.fails for case in CASES if case.rule == rule}
    assert kinds == {True, False}


def test_cross_app_cases_are_marked_in_their_file_names() -> None:
    for case in CASES:
        if len(case.files) > 1:
            assert all("-crossapp" in path.name for path in case.files)
        if RULES[case.rule].scope == "catalog":
            assert "-crossapp" in case.name, case.name


def test_every_problem_says_what_is_wrong_and_then_what_to_do() -> None:
    for case in CASES:
        for problem in check_all(case.sources(), require_digests=True):
            wrong, _, remedy = problem.message.partition("; ")
            assert wrong and remedy, problem.message
            assert problem.rule in RULES
