"""The manifest loader: valid input parses; every kind of bad input is one clear problem."""

from __future__ import annotations

import pytest

from catalog.loader import parse_manifest, parse_manifest_source
from catalog.problems import ManifestError
from tests.support.sample_manifest import VALID_MANIFEST

FILE = "apps/demo-web/manifest.yml"


def refused(data: bytes | str, folder: str | None = "demo-web") -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(ManifestError) as caught:
        parse_manifest(raw, FILE, folder)
    return [str(problem) for problem in caught.value.problems]


def test_a_valid_manifest_parses_with_defaults() -> None:
    manifest = parse_manifest(VALID_MANIFEST.encode(), FILE, "demo-web")
    assert manifest.id == "demo-web"
    assert manifest.containers[0].ports[0].host_port == 18080
    assert manifest.containers[0].health is not None
    assert manifest.containers[0].health.interval == "30s"
    assert manifest.to_document()["schema"] == 1


def test_lines_are_recorded_for_every_field() -> None:
    source = parse_manifest_source(VALID_MANIFEST.encode(), FILE, "demo-web")
    assert source.line_of("containers", 0, "ports", 0, "host") == 21
    assert source.line_of("containers", 0, "env", "TOKEN") == 18


def test_unknown_field_names_line_path_and_suggests_the_right_name() -> None:
    text = VALID_MANIFEST.replace("        expose: lan", "        exposee: lan")
    assert refused(text) == [
        f"{FILE}:22: containers[0].ports[0].exposee: unknown field; did you mean 'expose'?"
    ]


def test_wrong_type_says_what_was_expected() -> None:
    text = VALID_MANIFEST.replace('version: "1.2.3"', "version: 1.2")
    assert refused(text) == [
        f'{FILE}:4: version: expected text; quote numbers and versions (e.g. "80")'
    ]


def test_missing_field_is_named() -> None:
    text = VALID_MANIFEST.replace("license: MIT\n", "")
    assert refused(text) == [f"{FILE}:1: license: required field is missing; add it"]


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = VALID_MANIFEST.replace("license: MIT\n", "").replace("revision: 1", "revision: -1")
    problems = refused(text)
    assert len(problems) == 2
    assert any("revision" in problem for problem in problems)


def test_id_must_equal_its_folder() -> None:
    assert refused(VALID_MANIFEST, folder="other") == [
        f"{FILE}:2: id: id 'demo-web' must equal its folder name 'other'"
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"schema: [1\n", "YAML syntax"),
        (b"a: 1\na: 2\n", "duplicate key"),
        (b"\xff\xfe\x00", "not valid UTF-8"),
        (b"x: " + b"y" * (1 << 20), "the limit is 1 MiB"),
        (b"a: &a [1, 2]\nb: [*a, *a]\n", "anchors"),
        (b"a: *unknown\n", "YAML"),
        (b"- 1\n- 2\n", "a YAML mapping"),
        (b"a: 1\n---\nb: 2\n", "exactly one YAML document"),
        (b"x: !!python/object/apply:os.system ['true']\n", "tags"),
        (b"[" * 10000, "nesting"),
        (b"", "a YAML mapping"),
        (b"1: x\n", "not a string"),
    ],
)
def test_bad_input_is_one_clear_problem(data: bytes, expected: str) -> None:
    problems = refused(data)
    assert len(problems) == 1
    assert expected in problems[0]
    assert problems[0].startswith(FILE)


def test_billion_laughs_is_refused_before_expansion() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 9)}]")
    problems = refused("\n".join(lines) + "\n")
    assert "anchors" in problems[0]
