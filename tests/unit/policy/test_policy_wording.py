"""The exact lines a user reads for every policy case, wording and order included.

``test_policy_cases.py`` checks where each problem is (file, line, field, rule) and leaves the
wording out; this one pins the wording, the hint after it and the order of the report, so a
changed refusal message cannot pass unnoticed.  ``policy_case_lines.txt`` holds them: a
``== case`` header, then one ``severity: file:line: field message (rule)`` line per problem.
After a deliberate change of wording, rewrite it with
``python -m tests.unit.policy.test_policy_wording`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.policy import check_all
from tests.unit.policy.cases import Case, all_cases

LINES_FILE = Path(__file__).with_name("policy_case_lines.txt")


def report_lines(case: Case) -> list[str]:
    """What ``archy validate`` reports for the case, in the order it reports it."""
    return [f"{p.severity}: {p}" for p in check_all(case.sources(), require_digests=True)]


def render_all() -> str:
    blocks = [f"== {case.name}\n" + "".join(f"{line}\n" for line in report_lines(case))
              for case in all_cases()]  # fmt: skip
    return "".join(blocks)


def recorded() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {}
    current: list[str] = []
    for line in LINES_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("== "):
            current = cases.setdefault(line[3:], [])
        else:
            current.append(line)
    return cases


@pytest.mark.parametrize("case", all_cases(), ids=lambda case: case.name)
def test_a_case_reports_exactly_the_recorded_lines_in_order(case: Case) -> None:
    assert report_lines(case) == recorded()[case.name]


def test_every_case_is_recorded_and_every_record_is_a_case() -> None:
    assert sorted(recorded()) == sorted(case.name for case in all_cases())


if __name__ == "__main__":
    LINES_FILE.write_text(render_all(), encoding="utf-8")
    print(f"wrote {LINES_FILE}")
