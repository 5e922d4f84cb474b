"""P021 at a node's own data root: the host dirs of an app's volumes sit side by side there
too, every volume is checked (a refused or relative one does not end the check), and the
refusal names the field and says what to do."""

from __future__ import annotations

from typing import Any

from catalog.manifest import Manifest
from catalog.spec_problems import ProblemCollector, SpecProblem
from catalog.volume_layout import VolumeHost, check_volume_layout, volume_host_sides
from tests.support.catalogs import simple_manifest, with_member_changes

ROOT = "/srv/x"
SIDE_BY_SIDE = "give every volume a dir of its own, side by side in the app's data dir"


def _vault(*volumes: dict[str, Any]) -> Manifest:
    return with_member_changes(simple_manifest("vault"), "vault", volumes=list(volumes))


def _problems(manifest: Manifest, data_root: str = ROOT) -> list[SpecProblem]:
    collect = ProblemCollector()
    check_volume_layout(manifest, data_root, collect)
    return collect.problems


def test_the_apps_own_dir_at_the_nodes_root_is_refused_after_a_volume_that_passes() -> None:
    manifest = _vault(
        {"name": "data", "path": "/data"},
        {"name": "all", "path": "/all", "host_path": f"{ROOT}/vault"},
    )
    assert _problems(manifest) == [
        SpecProblem(
            ("containers", 0, "volumes", 1, "host_path"),
            f"host path {ROOT}/vault is the app's data dir itself, which holds the node's "
            "files for the app and every other volume; mount a sub-directory (leave "
            "host_path out: the volume name is the sub-directory)",
            "P021",
        )
    ]


def test_a_volume_inside_a_named_volume_at_the_nodes_root_is_refused_both_ways() -> None:
    manifest = _vault(
        {"name": "data", "path": "/data"},
        {"name": "inner", "path": "/inner", "host_path": f"{ROOT}/vault/data/inner"},
    )
    assert volume_host_sides(manifest, ROOT) == [
        VolumeHost(("containers", 0, "volumes", 0, "name"), f"{ROOT}/vault/data"),
        VolumeHost(("containers", 0, "volumes", 1, "host_path"), f"{ROOT}/vault/data/inner"),
    ]
    assert _problems(manifest) == [
        SpecProblem(
            ("containers", 0, "volumes", 0, "name"),
            f"host path {ROOT}/vault/data holds {ROOT}/vault/data/inner, the host path of "
            "containers[0].volumes[1].host_path: this container could replace that dir with "
            f"a symlink and redirect the other mount; {SIDE_BY_SIDE}",
            "P021",
        ),
        SpecProblem(
            ("containers", 0, "volumes", 1, "host_path"),
            f"host path {ROOT}/vault/data/inner lies inside {ROOT}/vault/data, the host path "
            "of containers[0].volumes[0].name, whose container could replace it with a "
            f"symlink; {SIDE_BY_SIDE}",
            "P021",
        ),
    ]
    # at the default root the named volume is /var/lib/archipelago/vault/data: the two
    # dirs are apart (the host path outside the data dir is P003's, not P021's)
    assert _problems(manifest, "/var/lib/archipelago") == []


def test_a_relative_host_path_is_left_out_and_the_volumes_after_it_are_still_checked() -> None:
    manifest = _vault(
        {"name": "rel", "path": "/rel", "host_path": "rel/dir"},
        {"name": "data", "path": "/data"},
        {"name": "all", "path": "/all", "host_path": f"{ROOT}/vault"},
    )
    assert volume_host_sides(manifest, ROOT) == [
        VolumeHost(("containers", 0, "volumes", 1, "name"), f"{ROOT}/vault/data"),
        VolumeHost(("containers", 0, "volumes", 2, "host_path"), f"{ROOT}/vault"),
    ]
    assert [(p.location, p.rule) for p in _problems(manifest)] == [
        (("containers", 0, "volumes", 2, "host_path"), "P021")
    ]
