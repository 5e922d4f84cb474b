"""A node set up with its own data root gets units that mount it, not the catalog's default
(the Quadlet engine's units, through the real generator; the podman engine's arguments)."""

from __future__ import annotations

from pathlib import Path

from catalog.runtime_names import DEFAULT_DATA_ROOT
from catalog.unit_check import check_app_units
from catalog.unit_data_root import units_for_data_root
from node_runtime.engines.podman_args import run_arguments
from node_runtime.engines.quadlet_engine import write_app_units
from node_runtime.plan.actions import StartMember, WriteUnits
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.reconcile import plan_reconcile
from pipeline.appset import load_app_folder
from tests.realparts import REPO_ROOT
from tests.realparts.quadlet import (
    parse_dryrun,
    quadlet_problems,
    require_quadlet,
    run_quadlet_dryrun,
    unit_values,
)
from tests.support.catalogs import catalog_of

DATA_ROOT = "/srv/x"


def _indeedhub_plan() -> tuple[WriteUnits, list[StartMember]]:
    manifest = load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest
    catalog = catalog_of([manifest])
    plan = plan_reconcile(catalog, {"indeedhub"}, ObservedState(), {}, data_root=DATA_ROOT,
                          architecture="amd64").app("indeedhub")  # fmt: skip
    [write] = [a for a in plan.actions if isinstance(a, WriteUnits)]
    return write, [a for a in plan.actions if isinstance(a, StartMember)]


def test_quadlet_units_mount_the_nodes_data_root(tmp_path: Path) -> None:
    require_quadlet()
    write, _ = _indeedhub_plan()
    write_app_units(tmp_path, "indeedhub", dict(write.units))
    stdout, stderr, status = run_quadlet_dryrun(tmp_path)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    service = parse_dryrun(stdout)["archy-indeedhub_indeedhub-postgres.service"]
    [start] = unit_values(service, "Service", "ExecStart")
    assert f"-v {DATA_ROOT}/indeedhub/postgres:/var/lib/postgresql/data" in start
    assert DEFAULT_DATA_ROOT not in stdout


def test_podman_engine_arguments_mount_the_nodes_data_root() -> None:
    _, starts = _indeedhub_plan()
    volumes = [arg for s in starts for arg in run_arguments(s.spec) if arg.startswith("--volume")]
    assert f"--volume={DATA_ROOT}/indeedhub/postgres:/var/lib/postgresql/data:Z" in volumes
    assert not [arg for arg in volumes if DEFAULT_DATA_ROOT in arg]


def test_only_volume_lines_move_and_the_unit_check_accepts_the_result() -> None:
    manifest = load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest
    app = catalog_of([manifest]).apps["indeedhub"]
    moved = units_for_data_root(manifest, app.units, DATA_ROOT)
    assert check_app_units(manifest, moved, data_root=DATA_ROOT) == []
    for name, text in app.units.items():
        before, after = text.splitlines(), moved[name].splitlines()
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert all(a.split("=")[0] == b.split("=")[0] in ("Volume", "Label") for a, b in changed)
    assert units_for_data_root(manifest, app.units, DEFAULT_DATA_ROOT) == app.units
