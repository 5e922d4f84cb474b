"""The real Quadlet generator turns a registry's network unit, and the units of an app on
it, into services that create that network isolated and start the app on it; an official
app beside it stays on archy-net."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.app_network import registry_network
from catalog.unit_check import check_app_units
from pipeline.render import render_app, write_units
from tests.realparts.quadlet import parse_dryrun, quadlet_problems, run_quadlet_dryrun
from tests.support.catalogs import EXAMPLE_DID, simple_manifest

pytestmark = pytest.mark.integration

DEV_NET = registry_network(EXAMPLE_DID)


def _exec_start(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return line


def test_the_generator_puts_each_registrys_app_on_its_own_isolated_network(
    quadlet_bin: Path, tmp_path: Path
) -> None:
    official = simple_manifest("web", port=18081)
    guest = simple_manifest("guest", port=18082)
    guest_units = render_app(guest, network=DEV_NET)
    assert check_app_units(guest, guest_units, data_root="/var/lib/archipelago",
                           network=DEV_NET) == []  # fmt: skip
    write_units(render_app(official), tmp_path)
    write_units(guest_units, tmp_path)

    stdout, stderr, returncode = run_quadlet_dryrun(tmp_path, quadlet=quadlet_bin)
    assert (returncode, quadlet_problems(stderr)) == (0, []), stderr
    services = parse_dryrun(stdout)
    assert sorted(services) == sorted([
        "archy-net-network.service",
        f"{DEV_NET}-network.service",
        "archy-web_web.service",
        "archy-guest_guest.service",
    ])  # fmt: skip
    for network in ("archy-net", DEV_NET):
        create = _exec_start(services[f"{network}-network.service"])
        assert "network create --ignore --opt isolate=true " in create, create
        assert create.endswith(f" {network}"), create
    guest_start = _exec_start(services["archy-guest_guest.service"])
    assert f"--network {DEV_NET} " in guest_start, guest_start
    assert "archy-net" not in guest_start
    assert f"Requires={DEV_NET}-network.service" in services["archy-guest_guest.service"]
    web_start = _exec_start(services["archy-web_web.service"])
    assert "--network archy-net " in web_start and DEV_NET not in web_start, web_start
