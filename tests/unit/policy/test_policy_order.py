"""``check_app`` and ``check_app_set`` report in the documented order on their own (file,
line, field, rule), not only once ``check_all`` has sorted everything again."""

from __future__ import annotations

import pytest

from catalog.problems import Problem
from pipeline.crossapp import check_catalog
from pipeline.policy import check_all, check_app, check_app_set
from pipeline.policy_rules import problem_order
from tests.unit.policy.cases import Case, all_cases

SINGLE = [case for case in all_cases() if len(case.files) == 1]
GROUPS = [case for case in all_cases() if len(case.files) > 1]


@pytest.mark.parametrize("case", SINGLE, ids=lambda case: case.name)
def test_check_app_reports_in_the_same_order_as_check_all(case: Case) -> None:
    [source] = case.sources()
    alone = check_app(source, require_digests=True)
    assert alone == [p for p in check_all([source], require_digests=True) if p in alone]


def test_two_rules_on_one_field_come_in_rule_order_not_message_order() -> None:
    [case] = [case for case in SINGLE if case.name == "P002-fail-docker-socket"]
    [source] = case.sources()
    on_host_path = [p for p in check_app(source) if p.field.endswith("volumes[0].host_path")]
    assert [p.rule for p in on_host_path] == ["P002", "P003"]
    assert on_host_path[0].message > on_host_path[1].message  # message order would swap them


@pytest.mark.parametrize("case", GROUPS, ids=lambda case: case.name)
def test_check_app_set_reports_in_problem_order(case: Case) -> None:
    sources = case.sources()
    assert check_app_set(sources) == sorted(check_catalog(sources), key=problem_order)


def test_a_problem_of_the_whole_file_comes_before_the_files_first_line() -> None:
    whole_file = Problem("apps/demo/manifest.yml", None, "z", "unreadable", "P001")
    first_line = Problem("apps/demo/manifest.yml", 1, "a", "wrong", "P001")
    assert sorted([first_line, whole_file], key=problem_order) == [whole_file, first_line]


def test_a_problem_without_a_rule_comes_before_ruled_ones_on_its_field() -> None:
    no_rule = Problem("apps/demo/manifest.yml", 3, "id", "z: not a valid id", None)
    ruled = Problem("apps/demo/manifest.yml", 3, "id", "a: reserved", "P001")
    assert sorted([ruled, no_rule], key=problem_order) == [no_rule, ruled]
