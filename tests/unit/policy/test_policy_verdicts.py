"""check_all with remembered verdicts (the build cache's ``AppVerdicts``): an app whose
per-app rules found no error is recorded with its warnings, and a remembered app is not
checked again; an app with an error is never remembered; the cross-app rules always run."""

from __future__ import annotations

from catalog.loader import ManifestSource
from catalog.problems import Problem
from pipeline.policy import check_all, check_app
from tests.unit.policy.cases import CASES_DIR, load_case_file


class Verdicts:
    """SPY, not the build cache: an in-memory ``pipeline.policy.AppVerdicts`` that records what
    check_all asks and records (the real one, ``pipeline.build_cache.PolicyVerdicts``, is
    tested in tests/unit/build; its answers alone cannot show that an app was not checked)."""

    def __init__(self, given: dict[tuple[str, bool], list[Problem]] | None = None) -> None:
        self.given = given or {}
        self.asked: list[tuple[str, bool]] = []
        self.recorded: dict[tuple[str, bool], list[Problem]] = {}

    def known(self, app: ManifestSource, require_digests: bool) -> list[Problem] | None:
        self.asked.append((app.filename, require_digests))
        return self.given.get((app.filename, require_digests))

    def record(self, app: ManifestSource, require_digests: bool, found: list[Problem]) -> None:
        self.recorded[(app.filename, require_digests)] = found


def _apps() -> tuple[ManifestSource, ManifestSource, ManifestSource]:
    warned = load_case_file(CASES_DIR / "P017-fail.yml")  # a warning, no error
    broken = load_case_file(CASES_DIR / "P001-fail.yml")  # an error
    clean = load_case_file(CASES_DIR / "P017-pass.yml")
    return warned, broken, clean


def test_apps_without_an_error_are_recorded_with_their_warnings_and_the_report_is_unchanged() -> (
    None
):
    warned, broken, clean = _apps()
    assert [p.severity for p in check_app(warned)] == ["warning"]
    assert {p.severity for p in check_app(broken)} == {"error"}
    verdicts = Verdicts()
    report = check_all([warned, broken, clean], verdicts=verdicts)
    assert report == check_all([warned, broken, clean])
    assert verdicts.asked == [(warned.filename, False), (broken.filename, False),
                              (clean.filename, False)]  # fmt: skip
    assert verdicts.recorded == {
        (warned.filename, False): check_app(warned),
        (clean.filename, False): [],
    }


def test_a_remembered_app_is_not_checked_again_and_its_warnings_are_reported() -> None:
    warned, broken, clean = _apps()
    remembered = Problem(warned.filename, 3, "id", "remembered warning", "P017", "warning")
    verdicts = Verdicts({(warned.filename, True): [remembered], (clean.filename, True): []})
    report = check_all([warned, broken, clean], require_digests=True, verdicts=verdicts)
    # the three cases share the id 'demo': the cross-app rule (P016) still runs for all
    mine = [p for p in report if p.file == warned.filename]
    assert [p for p in mine if p.rule != "P016"] == [remembered]
    assert [p.rule for p in mine if p.rule == "P016"] == ["P016"]
    assert [p for p in report if p.file == broken.filename and p.rule != "P016"] == check_app(
        broken, require_digests=True
    )
    assert verdicts.asked == [(warned.filename, True), (broken.filename, True),
                              (clean.filename, True)]  # fmt: skip
    assert verdicts.recorded == {}  # the remembered ones are not written again; the error never
