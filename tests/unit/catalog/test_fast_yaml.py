"""The libyaml fast path reads a manifest exactly as the round-trip path does, or not at all.

Whenever :func:`catalog.fast_yaml.load_plain` returns a result, the round-trip
parser (ruamel, YAML 1.2) must return the same plain data and the same line for
every node; whenever it cannot vouch for a document it returns None.  Checked on
every manifest in ``apps/`` (which must all take the fast path: that is the speed-up)
and on generated documents full of scalars YAML 1.1 and 1.2 read differently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog import loader
from catalog.fast_yaml import load_plain
from catalog.problems import ManifestError

REPOSITORY = Path(__file__).resolve().parents[3]
MANIFESTS = sorted((REPOSITORY / "apps").glob("*/manifest.yml"))


def round_trip(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[Any, int]] | None:
    """What the round-trip path alone gives (None when it refuses the document)."""
    with monkeypatch.context() as patched:
        patched.setattr(loader, "load_plain", lambda text: None)
        try:
            return loader.parse_yaml_document(text.encode(), "apps/x/manifest.yml")
        except ManifestError:
            return None


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.parent.name)
def test_every_manifest_in_apps_takes_the_fast_path_and_reads_the_same(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = path.read_text(encoding="utf-8")
    fast = load_plain(text)
    assert fast is not None
    assert fast == round_trip(text, monkeypatch)


TRICKY = [
    "yes", "No", "on", "OFF", "y", "true", "False", "TRUE", "null", "~", "Null",
    "0", "7", "-3", "+4", "007", "0o17", "0x1F", "0b101", "1_000", "1.0", "1.", ".5", "1e3",
    "-.inf", ".NaN", "1.2.3", "2024-01-01", "2024-1-1 10:00:00", "12:30", "1:20:30", "<<", "=",
    "v1.2", "latest", "a b", "-x", "+", "x:y", "http://h:80/p", "16.3", "1.27.3-alpine",
    "nginx:1.27", "127.0.0.1:5000/a/b:1.0", "0.0.0.0", "-", "é", "a#b", "NaN", "Infinity",
]  # fmt: skip
PLAIN_KEYS = ["name", "version", "port", "a-b", "x_y", "image", "env", "Yes it is"]
KEYS = st.one_of(
    st.sampled_from(PLAIN_KEYS),
    st.sampled_from(PLAIN_KEYS),
    st.sampled_from(["yes", "on", "1", "true", "null", "3.5", '"1"', "'true'"]),
)


def scalar_text(token: str, style: str) -> str:
    if style == "double":
        return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "single":
        return "'" + token.replace("'", "''") + "'"
    return token


# read alike by both YAML versions: what most documents are made of, so most take the fast path
ALIKE = [
    "true", "null", "~", "0", "7", "-3", "+4", "1.27.3-alpine", "nginx:1.27", "latest", "a b",
    "127.0.0.1:5000/a/b:1.0", "0.0.0.0", "x:y", "http://h:80/p", "-x", "é", "a#b", "v1.2", "Null",
]  # fmt: skip
scalars = st.builds(
    scalar_text,
    st.one_of(st.sampled_from(ALIKE), st.sampled_from(ALIKE), st.sampled_from(TRICKY)),
    st.sampled_from(["plain", "plain", "double", "single"]),
)


def block(value: Any, indent: int) -> str:
    """``value`` (scalars already YAML text) as block YAML at ``indent``."""
    pad = " " * indent
    if isinstance(value, list):
        return "".join(f"{pad}- {item}\n" for item in value)
    text = ""
    for key, item in value.items():
        if isinstance(item, str):
            text += f"{pad}{key}: {item}\n"
        else:
            text += f"{pad}{key}:\n" + block(item, indent + 2)
    return text


documents = st.recursive(
    st.dictionaries(KEYS, scalars, min_size=1, max_size=4),
    lambda children: st.dictionaries(
        KEYS,
        st.one_of(scalars, children, st.lists(scalars, min_size=1, max_size=3)),
        min_size=1,
        max_size=4,
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_whenever_the_fast_path_answers_the_round_trip_path_agrees(
    document: dict[str, Any],
) -> None:
    text = block(document, 0)
    fast = load_plain(text)
    if fast is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert fast == round_trip(text, monkeypatch), text


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n",  # YAML 1.1 bool, YAML 1.2 string
        "a: 0o17\n",
        "a: 1.5\n",
        "a: 2024-01-01\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: 1\na: 2\n",
        "1: x\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: 1\n---\nb: 2\n",
        "? [a]\n: 1\n",
        "<<: {a: 1}\n",
    ],
)
def test_documents_the_fast_path_cannot_vouch_for_go_the_round_trip_way(text: str) -> None:
    assert load_plain(text) is None
