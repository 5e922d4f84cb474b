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
    result = script.collect(tmp_path, "signing/x.py", {"eq": "same behaviour"})
    assert result.as_json() == {
        "mutants": 6, "killed": 2, "survived": 2, "no_tests": 1, "equivalent": 1
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
