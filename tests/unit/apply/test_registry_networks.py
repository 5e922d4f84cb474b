"""Each registry's apps on a network of their own: the planner creates the network an app
needs, and removes a registry's network once none of its apps remains (never archy-net,
never one an app still uses)."""

from __future__ import annotations

from catalog.app_network import registry_network
from catalog.catalog_model import AppCatalog
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
