"""scripts/mutation's own logic: how mutants are counted, the equivalents file, usage errors
(the mutmut runs themselves are on demand: docs/testing.md)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.realparts import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts/mutation"


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("mutation_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("mutation_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_script"] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


def test_each_exit_code_is_counted_once_and_equivalents_leave_the_score(tmp_path: Path) -> None:
    script = load_script()
    meta = tmp_path / "mutants/signing/x.py.meta"
    meta.parent.mkdir(parents=True)
    codes = {"k1": 1, "k2": -24, "s": 0, "n": 33, "never": None, "eq": 0}
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    assert script.exit_codes(tmp_path, "signing/x.py") == codes
    assert script.exit_codes(tmp_path, "signing/y.py") == {}
    result = script.collect(codes, {"eq": "same behaviour"})
    assert result.as_json() == {
        "mutants": 6, "killed": 2, "survived": 2, "no_tests": 1, "equivalent": 1,
        "seconds": 0.0, "cached": False,
    }  # fmt: skip
    assert sorted(result.survivors) == ["n", "never", "s"]
    assert script.score({"signing/x.py": result}) == 0.4  # 2 killed of 5 that count


def test_an_equivalent_mutant_without_a_reason_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = load_script()
    listing = tmp_path / "equivalents.txt"
    listing.write_text("# comment\na__mutmut_1  # returns the same value\nb__mutmut_2\n")
    monkeypatch.setattr(script, "EQUIVALENTS", listing)
    with pytest.raises(SystemExit, match=r"equivalents.txt:3: an equivalent mutant needs a reason"):
        script.read_equivalents()
    listing.write_text("a__mutmut_1  # returns the same value\n")
    assert script.read_equivalents() == {"a__mutmut_1": "returns the same value"}


def test_the_shipped_equivalents_file_gives_every_mutant_a_reason() -> None:
    load_script().read_equivalents()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("nope.py", "scripts/mutation: nope.py: no such module\n"),
        ("pipeline/cli.py", "scripts/mutation: no fast tests are known for pipeline/cli.py; "
         "add it to AREA_TESTS\n"),
    ],
)  # fmt: skip
def test_a_path_it_cannot_mutate_is_a_usage_error(path: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), path], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr, done.stdout) == (2, message, "")


def fake_checkout(root: Path) -> None:
    (root / "signing").mkdir(parents=True)
    (root / "signing/x.py").write_text("def f():\n    return 1\n")
    (root / "tests/unit").mkdir(parents=True)
    (root / "tests/unit/test_x.py").write_text("def test_f(): ...\n")
    (root / "tests/other").mkdir()
    (root / "tests/other/test_other.py").write_text("def test_g(): ...\n")
    (root / "tests/conftest.py").write_text("")


def test_a_result_is_reused_until_the_module_or_a_test_that_covered_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = load_script()
    checkout, scratch = tmp_path / "checkout", tmp_path / "scratch"
    fake_checkout(checkout)
    fake_checkout(scratch)
    monkeypatch.setattr(script, "ROOT", checkout)
    monkeypatch.setattr(script, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(script, "AREA_TESTS", {"signing/": ["tests/unit"]})
    stats = scratch / "mutants/mutmut-stats.json"
    stats.parent.mkdir()
    by_function = {
        "signing.x.f": ["tests/unit/test_x.py::test_f", "tests/unit/test_x.py::test_f2"],
        "signing.xy.g": ["tests/other/test_other.py::test_g"],  # another module's
    }
    stats.write_text(json.dumps({"tests_by_mangled_function_name": by_function}))
    tests = script.covering_tests(scratch, "signing/x.py")
    assert tests == ["tests/unit/test_x.py"]
    codes = {"signing.x.x_f__mutmut_1": 1, "signing.x.x_f__mutmut_2": 0}
    script.store_codes("signing/x.py", scratch, codes, tests, 12.34)
    assert script.cached_codes("signing/x.py") == (codes, 12.3)
    result = script.run_module("signing/x.py", 1, {})  # from the cache: mutmut never runs
    assert (result.killed, result.survived, result.cached, result.seconds) == (1, 1, True, 12.3)

    (checkout / "tests/other/test_other.py").write_text("def test_g(): assert 1\n")
    assert script.cached_codes("signing/x.py") == (codes, 12.3)  # did not cover the module
    (checkout / "tests/unit/cases.txt").write_text("a case the covering test reads\n")
    assert script.cached_codes("signing/x.py") is None
    (checkout / "tests/unit/cases.txt").unlink()
    assert script.cached_codes("signing/x.py") == (codes, 12.3)
    (checkout / "tests/unit/test_x.py").write_text("def test_f(): assert 1\n")
    assert script.cached_codes("signing/x.py") is None
    (checkout / "tests/unit/test_x.py").write_text("def test_f(): ...\n")
    assert script.cached_codes("signing/x.py") == (codes, 12.3)
    (checkout / "signing/x.py").write_text("def f():\n    return 2\n")
    assert script.cached_codes("signing/x.py") is None
    (checkout / "signing/x.py").write_text("def f():\n    return 1\n")
    (checkout / "tests/conftest.py").write_text("import os\n")
    assert script.cached_codes("signing/x.py") is None
    assert script.cached_codes("signing/other.py") is None  # never measured


def test_a_recheck_runs_only_the_mutants_not_killed_and_keeps_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = load_script()
    checkout, scratch = tmp_path / "checkout", tmp_path / "scratch"
    fake_checkout(checkout)
    fake_checkout(scratch)
    monkeypatch.setattr(script, "ROOT", checkout)
    monkeypatch.setattr(script, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(script, "AREA_TESTS", {"signing/": ["tests/unit"]})
    old = {"k": 1, "s1": 0, "s2": 0, "n": 33, "eq": 0}
    script.store_codes("signing/x.py", scratch, old, ["tests/unit/test_x.py"], 5.0)
    (checkout / "tests/unit/test_x.py").write_text("def test_f(): assert 1\n")  # a new test
    asked: list[list[str] | None] = []

    def measure(module: str, workers: int, only: list[str] | None = None) -> tuple[Path, bool]:
        asked.append(only)
        meta = scratch / "mutants/signing/x.py.meta"
        meta.parent.mkdir(parents=True, exist_ok=True)
        codes = {"k": None, "s1": 1, "s2": 0, "n": 1, "eq": None}  # mutmut ran only ``only``
        meta.write_text(json.dumps({"exit_code_by_key": codes}))
        return scratch, True

    monkeypatch.setattr(script, "measure", measure)
    result = script.run_module("signing/x.py", 1, {"eq": "same"}, recheck=True)
    assert asked == [["n", "s1", "s2"]]
    assert (result.killed, result.survived, result.equivalent) == (3, 1, 1)
    assert result.survivors == ["s2"]
    # nothing left to kill: no run, and the result is kept under the checkout's key
    killed_all = {"k": 1, "eq": 0}
    script.store_codes("signing/x.py", scratch, killed_all, ["tests/unit/test_x.py"], 7.0)
    (checkout / "tests/unit/test_x.py").write_text("def test_f(): assert 2\n")
    result = script.run_module("signing/x.py", 1, {"eq": "same"}, recheck=True)
    assert (len(asked), result.killed, result.cached) == (1, 1, True)
    assert script.cached_codes("signing/x.py") == (killed_all, 7.0)
    # the source changed: a recheck is a whole run
    (checkout / "signing/x.py").write_text("def f():\n    return 2\n")
    script.run_module("signing/x.py", 1, {}, recheck=True)
    assert asked[-1] == []
