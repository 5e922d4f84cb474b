"""An app that ``archy validate`` accepts is an app that rendering (and the build) accepts.

Checked over every policy case, every app of the repository and test trees, and
manifests hypothesis builds from hostile paths and values.  Rendering is
``render_app`` (what ``archy app render`` and the catalog build call after the
policy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.loader import ManifestSource
from catalog.problems import ManifestError
from pipeline.appset import load_app_folders
from pipeline.policy import check_all
from pipeline.render import render_app
from tests.integration.render.test_escaping import HOSTILE
from tests.unit.policy.cases import DIGEST, all_cases, manifest_text, source_of

REPO = Path(__file__).resolve().parents[3]


def refused_files(sources: list[ManifestSource]) -> set[str]:
    return {p.file for p in check_all(sources) if p.severity == "error"}


def renders(source: ManifestSource) -> bool:
    try:
        render_app(source)
    except ManifestError:
        return False
    return True


def test_every_policy_case_that_validates_renders() -> None:
    outcomes = set()
    for case in all_cases():
        sources = case.sources()
        refused = refused_files(sources)
        for source in sources:
            valid = source.filename not in refused
            outcomes.add((valid, renders(source)))
            assert renders(source) or not valid, source.filename
    # The cases hold all three kinds: valid, refused by both, refused by the policy only.
    assert outcomes == {(True, True), (False, False), (False, True)}


@pytest.mark.parametrize("apps_dir", ["apps", "tests/apps", "tests/integration/lifecycle/apps"])
def test_every_app_in_the_repository_that_validates_renders(apps_dir: str) -> None:
    apps, problems = load_app_folders([REPO / apps_dir])
    assert not problems
    sources = [app.source for app in apps]
    refused = refused_files(sources)
    if apps_dir == "apps":
        assert refused == set()
    assert all(renders(source) for source in sources if source.filename not in refused)


SEGMENTS = st.sampled_from(
    ["", ".", "..", "data", "demo", "var", "lib", "archipelago", "mnt", "media", "a%h", "x:y",
     "c,d", "sp ace", "q'uote", "ü"]
)  # fmt: skip
PATHS = st.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    st.booleans(),
    st.lists(SEGMENTS, min_size=1, max_size=5),
)


def _absolute(path: str) -> str:
    return path if path.startswith("/") else f"/{path}"


HOST_PATHS = st.one_of(
    st.none(),
    PATHS,
    st.sampled_from(
        ["/var/lib/archipelago/demo", "/var/lib/archipelago/demo/data/inner", "/mnt/media"]
    ),
)
TEXT = st.one_of(
    st.sampled_from([*HOSTILE, "a\x00b", "\x80", "ok"]),
    st.text(max_size=12),
)
VOLUMES = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["data", "cache", "media"]), "path": PATHS.map(_absolute)},
        optional={"host_path": HOST_PATHS, "read_only": st.booleans()},
    ),
    max_size=3,
)
MEMBERS = st.fixed_dictionaries(
    {"volumes": VOLUMES},
    optional={
        "env": st.dictionaries(st.sampled_from(["A", "B_2"]), TEXT, max_size=2),
        "command": st.lists(TEXT, max_size=3),
        "entrypoint": st.lists(TEXT, min_size=1, max_size=2),
        "devices": st.lists(st.sampled_from(["/dev/ttyUSB0", "/dev/a%b", "/dev/x,y"]), max_size=1),
    },
)


def hostile_manifest(members: list[dict[str, Any]]) -> str:
    containers = [
        {"name": f"demo-{index}", "image": f"example/demo:1.0{DIGEST}", **member}
        for index, member in enumerate(members)
    ]
    permissions = {
        "host_paths": ["/mnt/media", "/var/lib/archipelago/demo"],
        "devices": ["/dev/ttyUSB0", "/dev/a%b", "/dev/x,y"],
    }
    rest = f"containers: {json.dumps(containers)}\npermissions: {json.dumps(permissions)}\n"
    return manifest_text("demo", rest)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(members=st.lists(MEMBERS, min_size=1, max_size=2))
def test_a_generated_manifest_that_validates_renders(members: list[dict[str, Any]]) -> None:
    try:
        source = source_of(hostile_manifest(members), "apps/demo/manifest.yml")
    except ManifestError:
        return  # the schema refused it: neither validates nor renders
    if source.filename not in refused_files([source]):
        render_app(source)  # raises ManifestError, failing the test, if render refuses


def test_the_generated_manifests_include_valid_and_refused_ones() -> None:
    """The property above is not vacuous: both kinds occur among such manifests."""
    valid = source_of(hostile_manifest([{"volumes": [{"name": "data", "path": "/data"}]}]), "a")
    hostile = source_of(
        hostile_manifest([{"volumes": [{"name": "data", "path": "/a%h"}], "command": [""]}]), "b"
    )
    assert refused_files([valid]) == set() and renders(valid)
    assert refused_files([hostile]) == {"b"} and not renders(hostile)
