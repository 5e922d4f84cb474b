"""Property: no Compose or store file makes the importer crash or write half an app.

Arbitrary bytes, arbitrary YAML-shaped documents and mutations of the fixture
apps go through the real import (reading, mapping, checking, writing) into a
target ``apps/``.  Every refusal is one line naming its file; a refused app
leaves the target untouched; an imported app validates.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from pipeline.importer.run import run_import
from pipeline.validation import validate_paths
from tests.unit.importer.harness import FIXTURES, TARGET, listing

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# One small app as the target keeps each example fast; the clash logic has its own tests.
SMALL_TARGET = Path(tempfile.mkdtemp(prefix="import-fuzz-target-"))
shutil.copytree(TARGET / "tor", SMALL_TARGET / "tor")
atexit.register(shutil.rmtree, SMALL_TARGET, True)
TARGET_FILES = listing(SMALL_TARGET)


def _dump(document: Any) -> bytes:
    stream = io.StringIO()
    YAML(typ="safe").dump(document, stream)
    return stream.getvalue().encode()


def check_import(store: str, files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        source = root / "source" / "fuzzed"
        source.mkdir(parents=True)
        for name, data in files.items():
            (source / name).write_bytes(data)
        apps = root / "apps"
        shutil.copytree(SMALL_TARGET, apps)
        run = run_import(store, [source], apps, force=False, validate_all=False)  # type: ignore[arg-type]
        (result,) = run.results
        if result.status == "refused":
            assert result.reasons
            for reason in result.reasons:
                assert "\n" not in str(reason)
                assert reason.file is None or reason.file.startswith(str(source))
            assert listing(apps) == TARGET_FILES
        else:
            assert validate_paths([apps]).ok


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.text(max_size=30),
    st.sampled_from(["${X:-1}", "$$", "${", "/var/run/docker.sock:/s", "8080:80", "a=b", "host"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.text(max_size=10),
                st.sampled_from(
                    [
                        "services",
                        "image",
                        "ports",
                        "volumes",
                        "environment",
                        "x-casaos",
                        "main",
                        "port_map",
                        "depends_on",
                        "healthcheck",
                        "user",
                        "command",
                        "app_proxy",
                    ]
                ),
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=30,
)
UMBREL_META = (FIXTURES / "umbrel" / "notes-single" / "umbrel-app.yml").read_bytes()


@FUZZ
@given(st.binary(max_size=1500))
def test_arbitrary_compose_bytes_never_crash(data: bytes) -> None:
    check_import("umbrel", {"umbrel-app.yml": UMBREL_META, "docker-compose.yml": data})


@FUZZ
@given(documents)
def test_arbitrary_yaml_shapes_never_crash(document: Any) -> None:
    check_import("casaos", {"docker-compose.yml": _dump(document)})


def _fixture(store: str, name: str) -> dict[str, Any]:
    loaded = YAML(typ="safe").load((FIXTURES / store / name / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


BASES = [
    _fixture("casaos", "photo-cloud"),
    _fixture("casaos", "filesync"),
    _fixture("casaos", "interp-demo"),
]


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(st.sampled_from(BASES))
    copy = YAML(typ="safe").load(_dump(document))
    service = next(iter(copy["services"].values()))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(
            st.sampled_from(
                [
                    "image",
                    "ports",
                    "volumes",
                    "environment",
                    "healthcheck",
                    "user",
                    "command",
                    "depends_on",
                    "deploy",
                    "devices",
                    "cap_add",
                    "network_mode",
                    "privileged",
                ]
            )
        )
        service[key] = draw(documents)
    if draw(st.booleans()):
        copy["x-casaos"][draw(st.sampled_from(["main", "port_map", "title", "architectures"]))] = (
            draw(documents)
        )
    return copy


@FUZZ
@given(mutated())
def test_mutated_fixture_apps_never_crash(document: dict[str, Any]) -> None:
    check_import("casaos", {"docker-compose.yml": _dump(document)})
