"""``archy schema``: checked with the jsonschema package, it accepts every app and every
passing policy case, and rejects the failing cases of every rule a schema can express."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from pipeline.schema_export import SCHEMA_RULES
from tests.unit.policy.cases import all_cases

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    printed = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "schema"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    schema = json.loads(printed)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def document(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


APP_MANIFESTS = sorted((ROOT / "apps").glob("*/manifest.yml"))
CASES = all_cases()
PASSING = [path for case in CASES if not case.fails for path in case.files]
SCHEMA_FAILING = [
    case
    for case in CASES
    if case.fails
    and case.rule in SCHEMA_RULES
    and any(severity == "error" for *_, severity in case.expected())
]


def test_the_rules_the_schema_covers_have_failing_cases() -> None:
    assert {case.rule for case in SCHEMA_FAILING} == SCHEMA_RULES


@pytest.mark.parametrize("path", APP_MANIFESTS, ids=lambda path: path.parent.name)
def test_every_app_is_accepted(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    errors = [error.message for error in validator.iter_errors(document(path))]
    assert errors == []


@pytest.mark.parametrize("path", PASSING, ids=lambda path: path.stem)
def test_passing_policy_cases_are_accepted(
    validator: jsonschema.Draft202012Validator, path: Path
) -> None:
    assert [error.message for error in validator.iter_errors(document(path))] == []


@pytest.mark.parametrize("case", SCHEMA_FAILING, ids=lambda case: case.name)
def test_failing_policy_cases_are_rejected(
    validator: jsonschema.Draft202012Validator, case: Any
) -> None:
    assert any(list(validator.iter_errors(document(path))) for path in case.files), (
        f"the schema accepted {case.name}, which archy validate refuses"
    )
