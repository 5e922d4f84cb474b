"""Every JSON file a registry publishes is RFC 8259 JSON that any reader accepts.

The catalog embeds rendered units (newlines, quotes, ``%``); TUF metadata may carry
free text.  The published bytes must parse with Python's strict ``json``, ``jq`` and
a browser's ``JSON.parse``, and stay byte-reproducible (RFC 8785 form, integers only).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.canonical import CanonicalEncodingError, encode_canonical, encode_canonical_json
from catalog.catalog_model import CatalogError, parse_catalog
from tests.support.repos import make_repository, manifest_yaml

CONTROL_TEXT = 'line one\nline two\ttab "quoted" back\\slash é 😀'


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    origin = tmp_path_factory.mktemp("origin")
    make_repository(
        origin,
        {
            "demo": manifest_yaml("demo", host_port=18080),
            "other": manifest_yaml("other").replace(
                "description: Does very little.",
                f"description: {json.dumps(CONTROL_TEXT, ensure_ascii=False)}",
            ),
        },
    )
    files = sorted(p for p in origin.rglob("*.json") if p.is_file())
    assert any(p.name.endswith("app-catalog.json") for p in files)
    assert any(p.name == "timestamp.json" for p in files)
    return files


def test_the_catalog_holds_unit_newlines_and_still_parses_strictly(published: list[Path]) -> None:
    catalog_file = next(p for p in published if p.name.endswith("app-catalog.json"))
    data = catalog_file.read_bytes()
    document = json.loads(data)  # strict: a raw control character would raise
    assert "\n" in next(iter(document["apps"]["demo"]["units"].values()))
    assert document["apps"]["other"]["manifest"]["description"] == CONTROL_TEXT
    assert parse_catalog(data).to_canonical() == data


def test_every_published_json_file_parses_with_python_json(published: list[Path]) -> None:
    for path in published:
        json.loads(path.read_bytes())


def test_every_published_json_file_parses_with_jq(published: list[Path]) -> None:
    jq = shutil.which("jq")
    assert jq is not None, "jq is missing: scripts/setup-test-env installs it"
    for path in published:
        done = subprocess.run([jq, "-e", "type", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip() == '"object"', (path, done.stderr)


def test_every_published_json_file_parses_with_chromium_json_parse(
    published: list[Path], tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is missing: scripts/setup-test-env installs it"
    # Each file's exact text goes in as a JS string literal; the page reports what parsed.
    texts = [path.read_text(encoding="utf-8") for path in published]
    script = (
        "const texts = " + json.dumps(texts) + ";\n"
        "document.getElementById('out').textContent = texts.map((t) => {\n"
        "  try { JSON.parse(t); return 'ok'; } catch (e) { return 'bad: ' + e.message; }\n"
        "}).join('|');\n"
    )
    page = tmp_path / "parse.html"
    page.write_text(f"<!doctype html><pre id='out'>not run</pre><script>{script}</script>")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = done.stdout.split('<pre id="out">', 1)[1].split("</pre>", 1)[0].split("|")
    assert results == ["ok"] * len(published), dict(zip(map(str, published), results, strict=True))


def test_a_catalog_with_a_raw_newline_in_a_string_is_refused() -> None:
    document = {"schema": 1, "apps": {}, "x": "a\nb"}
    with pytest.raises(CatalogError, match="not JSON"):
        parse_catalog(encode_canonical(document))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_canonical_json_is_valid_json_and_reproducible(value: object) -> None:
    data = encode_canonical_json(value)
    parsed = json.loads(data)
    assert parsed == value
    assert encode_canonical_json(parsed) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), st.integers(0, 9), min_size=2, max_size=6))
def test_keys_sort_by_utf16_code_units_as_rfc8785_says(value: dict[str, int]) -> None:
    keys = list(json.loads(encode_canonical_json(value)))
    assert keys == sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))


def test_integers_beyond_what_json_numbers_hold_are_refused() -> None:
    with pytest.raises(CanonicalEncodingError, match="beyond"):
        encode_canonical_json({"n": 2**53})
    assert encode_canonical_json({"n": 2**53 - 1}) == b'{"n":9007199254740991}'


def test_control_characters_escape_as_json_stringify_does() -> None:
    assert encode_canonical_json('\b\f\n\r\t\x00\x1f"\\\x7f') == (
        b'"\\b\\f\\n\\r\\t\\u0000\\u001f\\"\\\\\x7f"'
    )
