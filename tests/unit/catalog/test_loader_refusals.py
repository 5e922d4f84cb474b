"""Every refusal of the manifest loader, exactly as the user reads it: file, line, field."""

from __future__ import annotations

import pytest

from catalog import loader
from catalog.loader import (
    MAX_MANIFEST_BYTES,
    parse_manifest,
    parse_manifest_source,
    parse_yaml_document,
    plain_scalar,
)
from catalog.manifest import Capability, Health, Port
from catalog.problems import ManifestError, Problem
from tests.support.sample_manifest import VALID_MANIFEST

FILE = "apps/demo-web/manifest.yml"


def refused(data: bytes | str, folder: str | None = "demo-web") -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(ManifestError) as caught:
        parse_manifest(raw, FILE, folder)
    return [str(problem) for problem in caught.value.problems]


def round_trip_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The round-trip parser reads the document (as for any the fast path gives up on)."""
    monkeypatch.setattr(loader, "load_plain", lambda text: None)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"schema: [1\n", f"{FILE}:2: YAML syntax: expected ',' or ']', but got '<stream end>'"),
        (b"a: 1\n  b: 2\n", f"{FILE}:2: YAML syntax: mapping values are not allowed here"),
        (b"a: 'x\n", f"{FILE}:2: YAML syntax: found unexpected end of stream"),
        (b"a: 1\na: 2\n", f'{FILE}:2: YAML syntax: duplicate key "a"'),
        (b"a: 1\nb:\n  c: 1\n  c: 2\n", f'{FILE}:4: YAML syntax: duplicate key "c"'),
        (b"ok: 1\n\xff", f"{FILE}:2: not valid UTF-8 (byte 6); save as UTF-8"),
        (b"\xff\xfe\x00", f"{FILE}:1: not valid UTF-8 (byte 0); save as UTF-8"),
        (b"a: 1\n\nb: \xc3(\n", f"{FILE}:3: not valid UTF-8 (byte 9); save as UTF-8"),
        (
            b"a: &a [1, 2]\nb: [*a, *a]\n",
            f"{FILE}:1: YAML anchors (&name) are not allowed in manifests",
        ),
        (b"a: 1\nb: &b x\n", f"{FILE}:2: YAML anchors (&name) are not allowed in manifests"),
        (b"a: 1\nb: *unknown\n", f"{FILE}:2: YAML aliases (*name) are not allowed in manifests"),
        (b"a: 1\n---\nb: 2\n", f"{FILE}:2: a manifest holds exactly one YAML document"),
        (
            b"x: !!python/object/apply:os.system ['true']\n",
            f"{FILE}:1: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) are not "
            "allowed in manifests",
        ),
        (b"a: 1\nb: !foo x\n", f"{FILE}:2: YAML tags (!foo) are not allowed in manifests"),
        (
            b"a: !!str 1\n",
            f"{FILE}:1: YAML tags (tag:yaml.org,2002:str) are not allowed in manifests",
        ),
        (b"a: ! [1]\n", f"{FILE}:1: YAML tags (!) are not allowed in manifests"),
        (b"[" * 10000, f"{FILE}:1: nesting deeper than 32 levels"),
        (b"1: x\n", f"{FILE}:1: top level: key 1 is not a string"),
        (b"a:\n  b:\n    2: x\n", f"{FILE}:3: a.b: key 2 is not a string"),
        (b"{a: 1, [b]: 2}\n", f"{FILE}:1: top level: key ('b',) is not a string"),
        (b"- 1\n- 2\n", f"{FILE}:1: a manifest is a YAML mapping of fields (schema: 1, id: …)"),
        (b"", f"{FILE}:1: a manifest is a YAML mapping of fields (schema: 1, id: …)"),
        (b"just text\n", f"{FILE}:1: a manifest is a YAML mapping of fields (schema: 1, id: …)"),
    ],
)
def test_hostile_or_broken_yaml_is_one_exact_line(data: bytes, line: str) -> None:
    assert refused(data) == [line]


def test_a_file_over_one_mebibyte_is_refused_before_it_is_read() -> None:
    data = b"x: " + b"y" * MAX_MANIFEST_BYTES
    assert refused(data) == [f"{FILE}: file is {len(data)} bytes; the limit is 1 MiB"]
    at_limit = b"x: " + b"y" * (MAX_MANIFEST_BYTES - 4) + b"\n"
    assert len(at_limit) == MAX_MANIFEST_BYTES
    document, _ = parse_yaml_document(at_limit, FILE)
    assert len(document["x"]) == MAX_MANIFEST_BYTES - 4


def test_a_long_syntax_message_is_cut_at_300_characters() -> None:
    key = "k" * 400
    problems = refused(f"{key}: 1\n{key}: 2\n")
    assert problems == [f"{FILE}:2: YAML syntax: {('duplicate key ' + chr(34) + key)[:300]}"]


def test_a_non_specific_tag_on_a_scalar_is_read_as_the_round_trip_parser_reads_it() -> None:
    document, lines = parse_yaml_document(b"a: ! x\n", FILE)
    assert document == {"a": "x"}
    assert lines == {(): 1, ("a",): 1}


def test_the_round_trip_path_gives_plain_values_and_every_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    round_trip_only(monkeypatch)
    text = b"a: yes\nb: 1.5\nc: 0o17\nd: true\ne: null\nf:\n  - 1\n  - x\ng: {h: false}\n"
    document, lines = parse_yaml_document(text, FILE)
    assert document == {
        "a": "yes",
        "b": 1.5,
        "c": 15,
        "d": True,
        "e": None,
        "f": [1, "x"],
        "g": {"h": False},
    }
    assert [type(document[key]) for key in "abcd"] == [str, float, int, bool]
    assert type(document["g"]["h"]) is bool
    assert type(document["f"][0]) is int
    assert type(document) is dict and type(document["f"]) is list
    assert lines == {
        (): 1,
        ("a",): 1,
        ("b",): 2,
        ("c",): 3,
        ("d",): 4,
        ("e",): 5,
        ("f",): 6,
        ("f", 0): 7,
        ("f", 1): 8,
        ("g",): 9,
        ("g", "h"): 9,
    }


def test_plain_scalar_turns_parser_values_into_plain_python() -> None:
    assert plain_scalar(None) is None
    assert plain_scalar(True) is True
    assert plain_scalar(False) is False
    assert plain_scalar([1]) == [1]

    class Text(str):
        pass

    class Number(int):
        pass

    class Fraction(float):
        pass

    for value, kind in ((Text("x"), str), (Number(3), int), (Fraction(0.5), float)):
        plain = plain_scalar(value)
        assert type(plain) is kind and plain == value


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: yes\n" + "b: " + "[" * 32 + "]" * 32 + "\n", "2: nesting deeper than 32 levels"),
        ("a: yes\nb: 1\n---\nc: 2\n", "3: a manifest holds exactly one YAML document"),
    ],
)
def test_the_round_trip_path_has_the_same_limits(text: str, line: str) -> None:
    assert refused(text) == [f"{FILE}:{line}"]


def test_the_round_trip_path_reads_as_deep_as_a_manifest_may_go() -> None:
    text = "a: yes\nb: " + "[" * 30 + "]" * 30 + "\nc:\n  d: []\ne: " + "[" * 31 + "]" * 31 + "\n"
    document, _ = parse_yaml_document(text.encode(), FILE)
    assert document["a"] == "yes"


def test_the_round_trip_path_counts_every_node(monkeypatch: pytest.MonkeyPatch) -> None:
    round_trip_only(monkeypatch)
    over = "a: [" + ",".join(["1"] * 49_998) + "]\n"
    assert refused(over) == [f"{FILE}:1: more than 50000 YAML nodes"]


def test_a_missing_field_is_named_at_the_line_of_its_parent() -> None:
    text = VALID_MANIFEST.replace("    image: docker.io/library/nginx:1.27.3\n", "")
    assert refused(text) == [f"{FILE}:14: containers[0].image: required field is missing; add it"]
    text = VALID_MANIFEST.replace(
        "      - container: 80\n        host: 18080\n", "      - host: 18080\n"
    )
    assert refused(text) == [
        f"{FILE}:20: containers[0].ports[0].container: required field is missing; add it"
    ]


def test_an_unknown_field_lists_the_allowed_ones_when_none_is_close() -> None:
    assert refused(VALID_MANIFEST + "zzzz: 1\n") == [
        f"{FILE}:31: zzzz: unknown field; allowed: architectures, category, containers, "
        "description, generated_secrets, homepage, hooks, icon, id, license, migration, name, "
        "owner_settings, permissions, provides, release_notes, requires, revision, schema, "
        "settings, source, summary, ui, version"
    ]
    hooks = "hooks:\n  post_install:\n    - exec: {container: demo-web, command: [x], user: root}\n"
    assert refused(VALID_MANIFEST + hooks) == [
        f"{FILE}:33: hooks.post_install[0].exec.user: unknown field; allowed: command, container"
    ]
    assert refused(VALID_MANIFEST + "requires:\n  - app: bitcoin\n    setting: {a: 1}\n") == [
        f"{FILE}:33: requires[0].setting: unknown field; did you mean 'settings'?"
    ]
    assert refused(VALID_MANIFEST + "migration: {frm: ['1.0']}\n") == [
        f"{FILE}:31: migration.frm: unknown field; did you mean 'from'?"
    ]


def test_an_unknown_field_inside_a_union_names_the_users_field_and_its_siblings() -> None:
    # pydantic names the union member it tried ("Capability"); the user never wrote it
    text = VALID_MANIFEST + "provides:\n  - capability: web\n    aliass: x\n"
    assert refused(text) == [
        f'{FILE}:32: provides[0]: expected text; quote numbers and versions (e.g. "80")',
        f"{FILE}:33: provides[0].aliass: unknown field; did you mean 'alias'?",
    ]
    text = VALID_MANIFEST.replace("{secret: api-token}", "{secret: api-token, form: x}")
    problems = refused(text)
    assert (
        f"{FILE}:18: containers[0].env.TOKEN.form: unknown field; did you mean 'from'? or "
        + ("unknown field; allowed: setting")
        in problems
    )
    assert not any("SecretRef" in problem or "SettingRef" in problem for problem in problems)
    assert not any(problem.endswith("allowed: ") for problem in problems)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("revision: 1", "revision: one", "5: revision: expected a whole number"),
        (
            "path: /usr/share/nginx/html",
            "path: /usr/share/nginx/html\n        read_only: 1",
            "26: containers[0].volumes[0].read_only: expected true or false",
        ),
        (
            "architectures: [amd64, arm64]",
            "architectures: amd64",
            "12: architectures: expected a list (- item)",
        ),
        (
            "    env:\n      MODE: production\n      TOKEN: {secret: api-token}\n",
            "    env: [a]\n",
            "16: containers[0].env: expected a mapping (key: value)",
        ),
        (
            "ui: {container: demo-web, port: 80}",
            "ui: web",
            "28: ui: expected a mapping (key: value)",
        ),
        (
            "MODE: production",
            "MODE: 5",
            '17: containers[0].env.MODE: expected text; quote numbers and versions (e.g. "80") '
            "or expected a mapping (key: value)",
        ),
        (
            "      http: {port: 80, path: /}",
            "      interval: 5s",
            "26: containers[0].health: health needs exactly one of http, tcp or cmd",
        ),
        ("schema: 1", "schema: 2", "1: schema: Input should be 1"),
        (
            "  - name: api-token\n",
            "  - name: api-token\n  - name: api-token\n",
            "1: generated_secrets declares a name twice",
        ),
    ],
)
def test_a_wrong_value_says_what_was_expected(old: str, new: str, line: str) -> None:
    text = VALID_MANIFEST.replace(old, new)
    assert text != VALID_MANIFEST
    assert refused(text) == [f"{FILE}:{line}"]


def test_a_manifest_in_another_folder_is_refused_with_the_line_of_its_id() -> None:
    assert refused(VALID_MANIFEST, folder="other") == [
        f"{FILE}:2: id: id 'demo-web' must equal its folder name 'other'"
    ]
    assert parse_manifest(VALID_MANIFEST.encode(), FILE, None).id == "demo-web"


def test_problems_in_several_fields_are_all_reported_in_line_order() -> None:
    text = VALID_MANIFEST.replace("revision: 1", "revision: -1").replace("license: MIT\n", "")
    assert refused(text) == [
        f"{FILE}:1: license: required field is missing; add it",
        f"{FILE}:5: revision: Input should be greater than or equal to 0",
    ]


def test_a_source_names_the_line_of_a_field_or_of_its_nearest_parent() -> None:
    source = parse_manifest_source(VALID_MANIFEST.encode(), FILE, "demo-web")
    assert source.filename == FILE
    assert source.manifest.id == "demo-web"
    assert source.line_of("containers", 0, "ports", 0, "host") == 21
    assert source.line_of("containers", 0, "ports", 0, "nothing", 3) == 20
    assert source.line_of("nothing") == 1
    assert source.line_of() == 1
    assert source.problem(("containers", 0, "image"), "bad", "P004") == Problem(
        FILE, 15, "containers[0].image", "bad", "P004"
    )
    assert source.problem(("ui", "port"), "bad") == Problem(FILE, 28, "ui.port", "bad", None)


def test_a_whole_file_problem_has_an_empty_field_not_none() -> None:
    for data in (b"a: 1\na: 2\n", b"ok: 1\n\xff", b"a: &x 1\n", b"- 1\n", b"x" * (1 << 21)):
        with pytest.raises(ManifestError) as caught:
            parse_manifest(data, FILE, "demo-web")
        assert [problem.as_json()["field"] for problem in caught.value.problems] == [""]


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("a b", '"a b"'),
        ("found duplicate key x", '"found duplicate key x"'),
        ("with value", '"with value"'),
    ],
)
def test_a_duplicate_key_is_named_as_written(key: str, shown: str) -> None:
    assert refused(f"{key}: 1\n{key}: 2\n") == [f"{FILE}:2: YAML syntax: duplicate key {shown}"]


def test_a_control_character_is_refused_as_yaml_syntax() -> None:
    assert refused(b"a: 1\nb: \x07\n") == [
        f"{FILE}: YAML syntax: unacceptable character #x0007: special characters are not "
        'allowed in "<file>", position 8'
    ]


def test_nesting_too_deep_for_the_parser_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a fake: the screen refuses nesting past 32 levels first, so the parser's own recursion
    # limit can only be reached with the screen switched off
    round_trip_only(monkeypatch)
    monkeypatch.setattr(loader, "_screen_events", lambda text: None)
    data = b"a: " + b"[" * 600 + b"]" * 600 + b"\n"
    assert refused(data) == [f"{FILE}: nesting is too deep"]
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data, FILE, "demo-web")
    assert caught.value.problems[0].as_json()["field"] == ""


def test_a_parser_boolean_becomes_a_plain_boolean() -> None:
    from ruamel.yaml.scalarbool import ScalarBoolean

    for value in (False, True):
        plain = plain_scalar(ScalarBoolean(value))
        assert type(plain) is bool and plain is value


def test_the_round_trip_path_counts_depth_down_when_a_node_closes() -> None:
    deep = "a: yes\nb:\n  c:\n    d: []\n    e: " + "[" * 30 + "]" * 30 + "\n"
    assert refused(deep) == [f"{FILE}:5: nesting deeper than 32 levels"]


def test_the_round_trip_screen_takes_as_many_nodes_as_a_manifest_may_hold() -> None:
    loader._screen_events("a: [" + ",".join(["1"] * 49_997) + "]\n")


def test_a_list_inside_a_union_list_is_refused_not_a_crash() -> None:
    assert refused(VALID_MANIFEST + "provides: [[web]]\n") == [
        f'{FILE}:31: provides[0]: expected text; quote numbers and versions (e.g. "80") or '
        "expected a mapping (key: value)"
    ]


def test_the_model_under_a_location_is_found_through_lists_dicts_and_unions() -> None:
    # what an unknown field's "allowed:" list is read from, for the shapes a schema may take
    assert loader._element_type(list[Port] | None, 0) is Port
    assert loader._element_type(dict[str, Port] | None, "k") is Port
    assert loader._element_type(int | list[Port], 0) is Port
    assert loader._element_type(list[Port], "k") is None
    assert loader._element_type(dict[str, Port], 0) is None
    assert loader._element_type(Port | None, 0) is None
    assert loader._model_at(("containers", 0, "health")) is Health
    assert loader._model_at(("provides", 0, "Capability")) is Capability
    assert loader._model_at(("provides", 0, "Capability", "alias")) is None
    assert loader._model_at(("nothing",)) is None
    assert loader._model_at(("containers", "x")) is None
