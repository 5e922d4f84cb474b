"""Host paths are judged by where they really point, however they are spelled."""

from __future__ import annotations

import json
import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.hostpaths import canonical, engine_location, resolve_components
from pipeline.policy import check_app
from tests.unit.policy.cases import DIGEST, manifest_text, source_of

SEGMENTS = st.sampled_from(
    [
        "",
        ".",
        "..",
        "var",
        "lib",
        "archipelago",
        "demo",
        "other",
        "run",
        "podman",
        "podman.sock",
        "user",
        "1000",
        "mnt",
        "media",
    ]
)
HOST_PATHS = st.builds(
    lambda absolute, parts: ("/" if absolute else "") + "/".join(parts),
    st.booleans(),
    st.lists(SEGMENTS, min_size=1, max_size=8),
)


def _volume_problems(host_path: str) -> set[str]:
    text = manifest_text(
        "demo",
        f"""\
containers:
  - name: demo
    image: example/demo:1.0{DIGEST}
    volumes:
      - name: data
        path: /data
        host_path: {json.dumps(host_path)}
permissions:
  host_paths: [/mnt/media]
""",
    )
    problems = check_app(source_of(text, "demo.yml"), require_digests=True)
    field = "containers[0].volumes[0].host_path"
    return {p.rule for p in problems if p.field == field and p.severity == "error"}


@settings(max_examples=300, deadline=None)
@given(HOST_PATHS)
def test_a_host_path_passes_only_if_it_really_points_into_the_data_dir_or_a_grant(
    host_path: str,
) -> None:
    rules = _volume_problems(host_path)
    where = posixpath.normpath(posixpath.join("/var/lib/archipelago/demo", host_path))
    where = "/" + where.lstrip("/")
    inside = where == "/var/lib/archipelago/demo" or where.startswith("/var/lib/archipelago/demo/")
    if not rules:
        assert ".." not in host_path.split("/")
        assert inside or where == "/mnt/media"
    engine = where == "/run/podman" or where.startswith(("/run/podman/", "/run/user/"))
    if engine or where in ("/", "/run", "/var", "/run/user"):
        assert "P002" in rules


@given(st.text(alphabet="/.ab", max_size=30))
def test_canonical_agrees_with_posixpath_for_absolute_paths(path: str) -> None:
    absolute = "/" + path
    assert canonical(absolute) == "/" + posixpath.normpath(absolute).lstrip("/")
    assert canonical(canonical(absolute)) == canonical(absolute)
    assert resolve_components(absolute) == [p for p in canonical(absolute).split("/") if p]


def test_engine_locations_match_one_component_per_star() -> None:
    assert engine_location("/run/user/1000/podman/podman.sock", containing=True)
    assert engine_location("/run/user", containing=True) == "/run/user, which holds /run/user/*"
    assert engine_location("/run/username", containing=True) is None
    assert engine_location("/home/alice/media", containing=True) is None
    assert engine_location("/home/alice", containing=True)
    assert engine_location("/srv/app/docker.sock", containing=False)
