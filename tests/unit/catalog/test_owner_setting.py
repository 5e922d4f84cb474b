"""Owner settings: a declaration that contradicts itself is refused; a value is checked by one rule.

The rule (``owner_setting_problem``) is what both the publisher (a default) and the node
(``archy-node configure``) apply; its message never quotes the value, which may be a secret.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from catalog.loader import parse_manifest
from catalog.owner_setting import OwnerSetting, owner_setting_problem, setting_text
from catalog.problems import ManifestError
from tests.support.sample_manifest import VALID_MANIFEST

FILE = "apps/demo-web/manifest.yml"


def setting(**fields: Any) -> OwnerSetting:
    return OwnerSetting.model_validate({"name": "domain", "help": "the domain", **fields})


def refusal(**fields: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        setting(**fields)
    errors = caught.value.errors(include_url=False)
    assert len(errors) == 1
    return str(errors[0]["msg"]).removeprefix("Value error, ")


def test_a_plain_declaration_has_its_defaults() -> None:
    declared = setting()
    assert (declared.type, declared.required, declared.default) == ("string", False, None)
    assert (declared.pattern, declared.choices) == (None, [])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"required": True, "default": "x"},
            "setting 'domain': required and default exclude each other",
        ),
        ({"type": "enum"}, "setting 'domain': choices go with type enum, and only with it"),
        (
            {"type": "string", "choices": ["a"]},
            "setting 'domain': choices go with type enum, and only with it",
        ),
        (
            {"type": "integer", "pattern": "[0-9]+"},
            "setting 'domain': pattern only for string and secret",
        ),
        (
            {"type": "boolean", "pattern": "x"},
            "setting 'domain': pattern only for string and secret",
        ),
        (
            {"type": "enum", "choices": ["a"], "pattern": "a"},
            "setting 'domain': pattern only for string and secret",
        ),
        (
            {"pattern": "("},
            "setting 'domain': pattern is not a regex (missing ), unterminated subpattern at "
            "position 0)",
        ),
        (
            {"type": "secret", "default": "hunter2"},
            "setting 'domain': a secret setting has no default",
        ),
        ({"type": "integer", "default": "ten"}, "setting 'domain': default must be a whole number"),
        ({"type": "boolean", "default": 1}, "setting 'domain': default must be true or false"),
        (
            {"type": "enum", "choices": ["a", "b"], "default": "c"},
            "setting 'domain': default must be one of a, b",
        ),
        ({"pattern": "[a-z]+", "default": "ABC"}, "setting 'domain': default must match [a-z]+"),
        ({"default": ""}, "setting 'domain': default must not be empty"),
        (
            {"default": "two\nlines"},
            "setting 'domain': default must be one line of at most 4000 characters",
        ),
    ],
)
def test_a_declaration_that_contradicts_itself_is_refused_with_its_reason(
    fields: dict[str, Any], message: str
) -> None:
    assert refusal(**fields) == message


@pytest.mark.parametrize(
    "fields",
    [
        {"required": True},
        {"default": "example.org"},
        {"type": "secret", "pattern": "[a-f0-9]{32}"},
        {"type": "secret", "required": True},
        {"type": "string", "pattern": "[a-z.]+", "default": "example.org"},
        {"type": "integer", "default": 8080},
        {"type": "integer", "default": -5},
        {"type": "boolean", "default": True},
        {"type": "boolean", "default": False},
        {"type": "enum", "choices": ["main", "test"], "default": "test"},
        {"type": "enum", "choices": ["main"]},
    ],
)
def test_a_consistent_declaration_is_taken(fields: dict[str, Any]) -> None:
    declared = setting(**fields)
    for key, value in fields.items():
        assert getattr(declared, key) == value


def test_a_value_is_handed_over_as_text() -> None:
    assert setting_text(True) == "true"
    assert setting_text(False) == "false"
    assert setting_text(0) == "0"
    assert setting_text(-12) == "-12"
    assert setting_text("x y") == "x y"


@pytest.mark.parametrize(
    ("fields", "text", "problem"),
    [
        ({}, "example.org", None),
        ({}, "", "must not be empty"),
        ({"type": "secret"}, "", "must not be empty"),
        ({"type": "secret"}, "s3cret value", None),
        ({}, "a\x00b", "must be one line of at most 4000 characters"),
        ({}, "a\nb", "must be one line of at most 4000 characters"),
        ({}, "x" * 4000, None),
        ({}, "x" * 4001, "must be one line of at most 4000 characters"),
        ({"type": "integer"}, "0", None),
        ({"type": "integer"}, "-42", None),
        ({"type": "integer"}, "9" * 18, None),
        ({"type": "integer"}, "9" * 19, "must be a whole number"),
        ({"type": "integer"}, "+1", "must be a whole number"),
        ({"type": "integer"}, "1.5", "must be a whole number"),
        ({"type": "integer"}, "12a", "must be a whole number"),
        ({"type": "integer"}, "a12", "must be a whole number"),
        ({"type": "integer"}, "", "must be a whole number"),
        ({"type": "integer"}, "--1", "must be a whole number"),
        ({"type": "boolean"}, "true", None),
        ({"type": "boolean"}, "false", None),
        ({"type": "boolean"}, "True", "must be true or false"),
        ({"type": "boolean"}, "yes", "must be true or false"),
        ({"type": "boolean"}, "", "must be true or false"),
        ({"type": "enum", "choices": ["main", "test"]}, "main", None),
        ({"type": "enum", "choices": ["main", "test"]}, "Main", "must be one of main, test"),
        ({"type": "enum", "choices": ["main", "test"]}, "", "must be one of main, test"),
        ({"pattern": "[a-z]+"}, "abc", None),
        ({"pattern": "[a-z]+"}, "abc1", "must match [a-z]+"),
        ({"pattern": "[a-z]+"}, "1abc", "must match [a-z]+"),
        ({"type": "secret", "pattern": "[a-f0-9]{4}"}, "beef", None),
        ({"type": "secret", "pattern": "[a-f0-9]{4}"}, "BEEF", "must match [a-f0-9]{4}"),
    ],
)
def test_a_value_is_checked_by_the_one_rule(
    fields: dict[str, Any], text: str, problem: str | None
) -> None:
    assert owner_setting_problem(setting(**fields), text) == problem


def test_a_refused_secret_value_is_never_quoted_back() -> None:
    declared = setting(type="secret", pattern="[a-f0-9]{4}")
    for text in ("hunter2", "x" * 4001, "pass\nword"):
        problem = owner_setting_problem(declared, text)
        assert problem is not None
        assert "hunter2" not in problem and "pass" not in problem and "xxxx" not in problem


def test_the_user_reads_the_refusal_with_its_file_line_and_field() -> None:
    text = VALID_MANIFEST + (
        "owner_settings:\n"
        "  - name: network\n"
        "    type: enum\n"
        "    choices: [main, test]\n"
        "    default: regtest\n"
        "    help: which network\n"
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text.encode(), FILE, "demo-web")
    assert [str(problem) for problem in caught.value.problems] == [
        f"{FILE}:32: owner_settings[0]: setting 'network': default must be one of main, test"
    ]
