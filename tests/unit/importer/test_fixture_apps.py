"""Every fixture app imported on its own into the small target catalog: the exact result.

Each fixture under ``fixtures/umbrel`` and ``fixtures/casaos`` has a golden
summary (``expected/<store>/<app>.json``: exit code, status and every reason)
and, when imported, the exact manifest written (``<app>.manifest.yml``).  A
refused app leaves the target exactly as it was.  ``UPDATE_GOLDEN=1`` rewrites
the goldens (review the diff before committing).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.validation import validate_paths
from tests.unit.importer.harness import (
    EXPECTED,
    FIXTURES,
    TARGET,
    UPDATE,
    fresh_target,
    import_app,
    listing,
    without_tmp,
)

CASES = [
    (store, path.name)
    for store in ("umbrel", "casaos")
    for path in sorted((FIXTURES / store).iterdir())
    if path.is_dir()
]


def test_there_are_at_least_25_fixture_apps() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize(("store", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_fixture_app_imports_exactly_as_expected(store: str, name: str, tmp_path: Path) -> None:
    apps = fresh_target(tmp_path)
    outcome = import_app(store, name, apps)
    assert "Traceback" not in outcome.stderr
    summary = json.loads(without_tmp(outcome.stdout, apps))
    golden = EXPECTED / store / f"{name}.json"
    golden_manifest = EXPECTED / store / f"{name}.manifest.yml"
    result = {"exit_code": outcome.exit_code, "summary": summary}
    (app,) = summary["apps"]
    written = apps / app["id"] / "manifest.yml"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        if app["status"] != "refused":
            golden_manifest.write_bytes(written.read_bytes())
        elif golden_manifest.exists():
            golden_manifest.unlink()
    assert result == json.loads(golden.read_text())
    if app["status"] == "refused":
        assert outcome.exit_code == 1
        assert listing(apps) == listing(TARGET), "a refused app must leave nothing behind"
        assert all(reason["code"] for reason in app["reasons"])
        return
    assert outcome.exit_code == 0
    assert written.read_bytes() == golden_manifest.read_bytes()
    notes = (apps / app["id"] / "IMPORT.md").read_text()
    for reason in app["reasons"]:
        assert reason["message"] in without_tmp(notes, apps)
    report = validate_paths([apps])
    assert report.ok, [str(problem) for problem in report.errors]
