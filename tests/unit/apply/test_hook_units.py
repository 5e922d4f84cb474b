"""Under Quadlet, a member's hooks run from its unit: the node's own drop-in, which the real
Quadlet generator turns into an ``ExecStartPost=`` of the member's service (and only of it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from catalog.systemd_syntax import split_words
from node_runtime.apply.hook_dropins import app_hooks_dropins, node_program
from node_runtime.engines.quadlet_engine import HOOKS_DROPIN, remove_app_units, write_app_units
from node_runtime.plan.app_plan import hooked_members
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


def test_indeedhubs_frontend_unit_runs_its_hooks_after_every_start(tmp_path: Path) -> None:
    require_quadlet()
    manifest = load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest
    app = catalog_of([manifest]).apps["indeedhub"]
    state_root, sources = tmp_path / "state", [str(tmp_path / "hook sources")]
    members = hooked_members(manifest)
    assert members == ["indeedhub-frontend"]
    units_dir = tmp_path / "units"
    dropins = app_hooks_dropins("indeedhub", members, node_program(), state_root, sources)
    assert write_app_units(units_dir, "indeedhub", app.units, dropins)
    assert not write_app_units(units_dir, "indeedhub", app.units, dropins)  # written once

    stdout, stderr, status = run_quadlet_dryrun(units_dir)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    services = parse_dryrun(stdout)
    frontend = services["archy-indeedhub_indeedhub-frontend.service"]
    [post] = unit_values(frontend, "Service", "ExecStartPost")
    assert post.startswith("-")  # a failed hook never fails the unit
    argv = split_words(post[1:])
    assert argv == [
        *node_program(), "run-hooks", "--state-root", str(state_root),
        f"--hook-source-dir={sources[0]}", "indeedhub", "indeedhub-frontend",
    ]  # fmt: skip
    others = [name for name in services if name.endswith(".service") and name != (
        "archy-indeedhub_indeedhub-frontend.service")]  # fmt: skip
    assert others and all(
        unit_values(services[name], "Service", "ExecStartPost") == [] for name in others
    )

    # the command the unit runs is this node's own: on a node where nothing is applied
    # yet it refuses in one line (exit 1), never a usage error or a traceback
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        "error: 'indeedhub' is not applied on this node; no hooks to run"
    ), done.stderr
    assert argv[0] == sys.executable


def test_the_hooks_drop_in_goes_with_the_hooks_and_the_owners_drop_ins_stay(
    tmp_path: Path,
) -> None:
    manifest = load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest
    app = catalog_of([manifest]).apps["indeedhub"]
    dropins = app_hooks_dropins(
        "indeedhub", ["indeedhub-frontend"], node_program(), tmp_path / "s", []
    )
    write_app_units(tmp_path, "indeedhub", app.units, dropins)
    folder = tmp_path / "archy-indeedhub_indeedhub-frontend.container.d"
    (folder / "10-owner.conf").write_text("[Service]\nEnvironment=OWNER=1\n")
    assert write_app_units(tmp_path, "indeedhub", app.units, {})  # an update without hooks
    assert sorted(p.name for p in folder.iterdir()) == ["10-owner.conf"]
    write_app_units(tmp_path, "indeedhub", app.units, dropins)
    assert remove_app_units(tmp_path, "indeedhub")
    assert sorted(p.name for p in folder.iterdir()) == ["10-owner.conf"]
    assert not (folder / HOOKS_DROPIN).exists()


def test_an_adopted_members_unit_carries_a_condition_that_keeps_it_from_replacing_it(
    tmp_path: Path,
) -> None:
    require_quadlet()
    manifest = load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest
    app = catalog_of([manifest]).apps["indeedhub"]
    dropins = app_hooks_dropins(
        "indeedhub", ["indeedhub-frontend"], node_program(), tmp_path / "s", [],
        adopted=["indeedhub-postgres", "indeedhub-frontend"],
    )  # fmt: skip
    write_app_units(tmp_path / "units", "indeedhub", app.units, dropins)
    stdout, stderr, status = run_quadlet_dryrun(tmp_path / "units")
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    services = parse_dryrun(stdout)
    postgres = services["archy-indeedhub_indeedhub-postgres.service"]
    frontend = services["archy-indeedhub_indeedhub-frontend.service"]
    [condition] = unit_values(postgres, "Service", "ExecCondition")
    assert unit_values(postgres, "Service", "ExecStartPost") == []
    assert unit_values(frontend, "Service", "ExecCondition") == [
        condition.replace("indeedhub-postgres", "indeedhub-frontend")
    ]
    assert len(unit_values(frontend, "Service", "ExecStartPost")) == 1
    assert unit_values(services["archy-indeedhub_indeedhub-redis.service"], "Service",
                       "ExecCondition") == []  # fmt: skip
    argv = [word.replace("$$", "$") for word in split_words(condition)]
    assert argv[:2] == ["/bin/sh", "-c"]
    assert argv[2].endswith('test "$label" = archy-indeedhub_indeedhub-postgres.service')
