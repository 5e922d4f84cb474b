"""Each registry's apps on a network of their own: the planner creates the network an app
needs, and removes a registry's network once none of its apps remains (never archy-net,
never one an app still uses)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from catalog.app_network import registry_network
from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from node_runtime.engines.container_engine import CommandResult, EngineError
from node_runtime.engines.quadlet_engine import (
    QuadletEngine,
    network_unit_networks,
    remove_network_unit,
)
from node_runtime.plan.actions import CreateNetwork, RemoveContainer, RemoveNetwork, StartMember
from node_runtime.plan.observed import ObservedContainer, ObservedState
from node_runtime.plan.reconcile import plan_reconcile
from node_runtime.store.applied import AppliedApp
from tests.support.catalogs import EXAMPLE_DID, catalog_app, catalog_of, simple_manifest

DATA = "/var/lib/archipelago"
DEV_NET = registry_network(EXAMPLE_DID)


def node_catalog() -> AppCatalog:
    """The merged catalog a node with one third-party registry sees: web (official) and
    notes (the registry EXAMPLE_DID signs)."""
    catalog = catalog_of([simple_manifest("web", port=18081)])
    notes = catalog_app(simple_manifest("notes", port=18500), did=EXAMPLE_DID)
    return catalog.model_copy(update={"apps": {**catalog.apps, "notes": notes}})


def test_a_third_party_app_starts_on_its_registrys_network_which_is_created_first() -> None:
    plan = plan_reconcile(node_catalog(), {"web", "notes"}, ObservedState(), {},
                          data_root=DATA, architecture="amd64")  # fmt: skip
    assert set(plan.network) == {CreateNetwork("archy-net"), CreateNetwork(DEV_NET)}
    networks = {
        action.spec.app_id: action.spec.network
        for action in plan.actions
        if isinstance(action, StartMember)
    }
    assert networks == {"web": "archy-net", "notes": DEV_NET}
    assert plan.network_removals == ()


def test_the_registrys_network_goes_after_its_last_apps_containers() -> None:
    catalog = node_catalog()
    applied = {"notes": AppliedApp.of(catalog.apps["notes"], DATA)}
    notes = ObservedContainer("notes", "id-notes", True, "notes", "notes")
    observed = ObservedState(
        containers={"notes": notes}, networks=frozenset({"archy-net", DEV_NET})
    )
    plan = plan_reconcile(catalog, {"web"}, observed, applied, data_root=DATA,
                          architecture="amd64")  # fmt: skip
    assert plan.network_removals == (RemoveNetwork(DEV_NET),)
    kinds = [type(action) for action in plan.actions]
    assert kinds[-1] is RemoveNetwork
    assert RemoveContainer in kinds[:-1]


def test_a_network_in_use_and_archy_net_are_never_removed() -> None:
    observed = ObservedState(networks=frozenset({"archy-net", DEV_NET}))
    plan = plan_reconcile(node_catalog(), {"notes"}, observed, {}, data_root=DATA,
                          architecture="amd64")  # fmt: skip
    assert plan.network_removals == ()  # notes uses DEV_NET; archy-net is never removed
    plan = plan_reconcile(node_catalog(), set(), observed, {}, data_root=DATA,
                          architecture="amd64")  # fmt: skip
    assert plan.network_removals == (RemoveNetwork(DEV_NET),)


def test_a_plan_for_one_app_still_keeps_the_networks_other_installed_apps_use() -> None:
    observed = ObservedState(networks=frozenset({"archy-net", DEV_NET}))
    plan = plan_reconcile(node_catalog(), {"web", "notes"}, observed, {}, data_root=DATA,
                          architecture="amd64", only={"web"})  # fmt: skip
    assert plan.network_removals == ()
    plan = plan_reconcile(node_catalog(), {"web"}, observed, {}, data_root=DATA,
                          architecture="amd64", only={"web"})  # fmt: skip
    assert plan.network_removals == (RemoveNetwork(DEV_NET),)


def test_an_installed_app_the_node_refuses_still_holds_its_network() -> None:
    catalog = node_catalog()
    bent = catalog.apps["notes"].model_copy(update={"units": {}})  # refused: units missing
    catalog = catalog.model_copy(update={"apps": {**catalog.apps, "notes": bent}})
    observed = ObservedState(networks=frozenset({"archy-net", DEV_NET}))
    plan = plan_reconcile(catalog, {"web", "notes"}, observed, {}, data_root=DATA,
                          architecture="amd64")  # fmt: skip
    assert plan.app("notes").change == "refused"
    assert plan.network_removals == ()


def test_a_third_party_app_at_another_data_root_keeps_its_registrys_network() -> None:
    # the units are moved to the node's root for the app's own network: its config hash
    # still matches what the renderer writes there, so the app is installed, not refused
    plan = plan_reconcile(node_catalog(), {"notes"}, ObservedState(), {},
                          data_root="/srv/other", architecture="amd64")  # fmt: skip
    assert (plan.app("notes").change, plan.app("notes").reason) == ("install", None)
    assert plan.network == (CreateNetwork(DEV_NET),)
    assert [a.spec.network for a in plan.actions if isinstance(a, StartMember)] == [DEV_NET]


def test_a_host_network_member_asks_for_no_network() -> None:
    document = simple_manifest("hostly", port=18600).to_document()
    document["containers"][0]["host_network"] = True
    document["permissions"]["host_network"] = True
    catalog = catalog_of([Manifest.model_validate(document)])
    plan = plan_reconcile(catalog, {"hostly"}, ObservedState(), {}, data_root=DATA,
                          architecture="amd64")  # fmt: skip
    assert plan.app("hostly").change == "install"
    assert [a.spec.network for a in plan.actions if isinstance(a, StartMember)] == ["host"]
    assert plan.network == ()  # no CreateNetwork("host"): podman has that one built in


class RecordingPodman:
    """A stand-in for podman (named as such): the Quadlet engine's podman calls, recorded;
    ``network inspect`` answers that archy-net is isolated.  Real podman runs these in
    ``tests/integration/registries/test_network_separation_podman.py``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        self.calls.append(tuple(args))
        if tuple(args[:2]) == ("network", "inspect"):
            return CommandResult(0, b"true\n", b"")
        return CommandResult(0, b"", b"")


class RecordingSystemctl:
    """No systemd user session exists here: what the Quadlet engine asks systemd for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        self.calls.append(tuple(args))
        return CommandResult(0, b"", b"")


def test_the_quadlet_engine_writes_a_registrys_network_unit_and_removes_it_with_the_network(
    tmp_path: Path,
) -> None:
    unit_dir = tmp_path / "systemd"
    catalog = node_catalog()
    podman, systemctl = RecordingPodman(), RecordingSystemctl()
    engine = QuadletEngine(podman, systemctl, unit_dir)
    engine.write_units("web", catalog.apps["web"].units)
    engine.write_units("notes", catalog.apps["notes"].units)
    assert network_unit_networks(unit_dir) == frozenset({"archy-net", DEV_NET})
    engine.remove_units("notes")
    assert (unit_dir / f"{DEV_NET}.network").is_file()  # units go; the network unit waits
    engine.remove_network(DEV_NET)
    assert sorted(p.name for p in unit_dir.iterdir()) == [
        "archy-net.network",
        "archy-web_web.container",
    ]
    assert systemctl.calls[-1] == ("daemon-reload",)
    assert podman.calls[-1] == ("network", "rm", DEV_NET)
    with pytest.raises(EngineError, match="not a registry's network"):
        engine.remove_network("archy-net")
    assert (unit_dir / "archy-net.network").is_file()


def test_a_network_unit_the_registry_did_not_write_is_never_removed(tmp_path: Path) -> None:
    unit_dir = tmp_path / "systemd"
    unit_dir.mkdir()
    foreign = unit_dir / f"{DEV_NET}.network"
    foreign.write_text("[Network]\nNetworkName=mine\n")
    with pytest.raises(EngineError, match="was not written by the registry"):
        remove_network_unit(unit_dir, DEV_NET)
    assert foreign.read_text() == "[Network]\nNetworkName=mine\n"
    assert network_unit_networks(unit_dir) == frozenset()
