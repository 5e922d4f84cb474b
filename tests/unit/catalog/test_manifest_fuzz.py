"""Property: no input makes the loader or validator raise anything but ManifestError.

At least 5,000 documents per run, from three sources: arbitrary bytes,
arbitrary YAML-shaped data, and mutations of a valid manifest (the inputs
most likely to get deep into the model and the policy).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from catalog.loader import parse_manifest_source
from catalog.problems import ManifestError
from pipeline.policy import check_all
from tests.support.sample_manifest import VALID_MANIFEST

FILE = "apps/demo-web/manifest.yml"
FUZZ = settings(
    max_examples=1700,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def load_and_validate(data: bytes) -> None:
    try:
        source = parse_manifest_source(data, FILE, "demo-web")
    except ManifestError as error:
        assert error.problems, "a ManifestError always carries its problems"
        for problem in error.problems:
            assert str(problem).startswith(FILE)
        return
    check_all([source], require_digests=False)


def _dump(document: Any) -> bytes:
    import io

    stream = io.StringIO()
    YAML(typ="safe").dump(document, stream)
    return stream.getvalue().encode()


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=6),
    ),
    max_leaves=40,
)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    load_and_validate(data)


@FUZZ
@given(documents)
def test_arbitrary_yaml_documents_never_crash(document: Any) -> None:
    load_and_validate(_dump(document))


def _base_document() -> dict[str, Any]:
    loaded = YAML(typ="safe").load(VALID_MANIFEST)
    assert isinstance(loaded, dict)
    return loaded


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


BASE_PATHS = _paths(_base_document())[1:]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(BASE_PATHS), documents), min_size=1, max_size=4))
def test_mutated_valid_manifests_never_crash(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = _base_document()
    for path, value in mutations:
        node: Any = document
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    load_and_validate(_dump(document))
