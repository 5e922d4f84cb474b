"""Every app in apps/ renders to units the real Quadlet generator converts without a warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.appset import find_app_folders
from pipeline.render import render_app_folder, write_units
from tests.realparts import REPO_ROOT
from tests.realparts.quadlet import quadlet_problems, run_quadlet_dryrun

pytestmark = pytest.mark.integration

APP_FOLDERS = find_app_folders([REPO_ROOT / "apps"])
TEST_APP_FOLDERS = find_app_folders([REPO_ROOT / "tests" / "apps"])


def test_the_app_set_is_not_empty() -> None:
    assert APP_FOLDERS, f"no app folders under {REPO_ROOT / 'apps'}"


@pytest.mark.parametrize("folder", APP_FOLDERS + TEST_APP_FOLDERS, ids=lambda folder: folder.name)
def test_every_unit_of_the_app_converts_without_warnings(
    quadlet_bin: Path, tmp_path: Path, folder: Path
) -> None:
    units = render_app_folder(folder)
    write_units(units, tmp_path)
    stdout, stderr, returncode = run_quadlet_dryrun(tmp_path, quadlet=quadlet_bin)
    assert quadlet_problems(stderr) == [], stderr
    assert returncode == 0, stderr
    generated = {line[3:-3] for line in stdout.split("\n") if line.startswith("---")}
    expected = {
        name.removesuffix(".container") + ".service"
        for name in units
        if name.endswith(".container")
    } | {"archy-net-network.service"}
    assert generated == expected


def test_apps_whose_old_unit_names_collided_get_two_services_from_the_real_generator(
    quadlet_bin: Path, tmp_path: Path
) -> None:
    """Issue 12, finding 4: app ``core`` with member ``lightning-lightningd`` once wrote
    core-lightning's ``archy-core-lightning-lightningd.container``."""
    core = tmp_path / "apps" / "core"
    core.mkdir(parents=True)
    text = (REPO_ROOT / "apps" / "core-lightning" / "manifest.yml").read_text(encoding="utf-8")
    text = text.replace("id: core-lightning", "id: core", 1)
    (core / "manifest.yml").write_text(
        text.replace("- name: lightningd", "- name: lightning-lightningd", 1), encoding="utf-8"
    )
    units_dir = tmp_path / "units"
    written = write_units(render_app_folder(REPO_ROOT / "apps" / "core-lightning"), units_dir)
    written += write_units(render_app_folder(core), units_dir)
    assert len({path.name for path in written}) == len(written) - 1  # archy-net.network twice
    stdout, stderr, returncode = run_quadlet_dryrun(units_dir, quadlet=quadlet_bin)
    assert (returncode, quadlet_problems(stderr)) == (0, []), stderr
    generated = {line[3:-3] for line in stdout.split("\n") if line.startswith("---")}
    assert generated == {
        "archy-core-lightning_lightningd.service",
        "archy-core_lightning-lightningd.service",
        "archy-net-network.service",
    }
