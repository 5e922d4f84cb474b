"""The node's unit check and capability exports (issue 13): it accepts exactly the
capability alias and capability secret the renderer derives, and nothing else."""

from __future__ import annotations

from catalog.unit_check import check_app_units
from pipeline.appset import load_app_folder
from pipeline.render import render_app
from tests.realparts import REPO_ROOT

ROOT = "/var/lib/archipelago"


def test_the_providers_alias_and_the_dependents_capability_secret_pass() -> None:
    for app_id in ("bitcoin-core", "bitcoin-knots", "lnd", "electrs", "mempool"):
        model = load_app_folder(REPO_ROOT / "apps" / app_id).source.manifest
        units = render_app(model)
        assert check_app_units(model, units, data_root=ROOT) == [], app_id
        text = "\n".join(units.values())
        assert "archy-cap_bitcoin_rpc-password" in text, app_id
        assert "bitcoin-rpc-password" not in text, app_id


def test_an_alias_the_manifest_does_not_export_is_refused() -> None:
    model = load_app_folder(REPO_ROOT / "apps/lnd").source.manifest
    units = render_app(model)
    name = "archy-lnd_lnd.container"
    units[name] = units[name].replace(
        "Network=archy-net.network\n", "Network=archy-net.network\nNetworkAlias=bitcoind\n"
    )
    assert check_app_units(model, units, data_root=ROOT) == [
        f"unit {name}: [Container] NetworkAlias=bitcoind: not what the app's manifest asks for"
    ]


def test_another_capability_secret_in_a_dependents_unit_is_refused() -> None:
    model = load_app_folder(REPO_ROOT / "apps/lnd").source.manifest
    units = render_app(model)
    name = "archy-lnd_lnd.container"
    units[name] = units[name].replace(
        "archy-cap_bitcoin_rpc-password", "archy-cap_lightning_rpc-password"
    )
    problems = check_app_units(model, units, data_root=ROOT)
    assert problems == [
        f'unit {name}: [Container] Secret="archy-cap_lightning_rpc-password,type=env,'
        "target=BITCOIN_RPC_PASSWORD\": not what the app's manifest asks for",
        f'unit {name}: [Container] Secret="archy-cap_bitcoin_rpc-password,type=env,'
        'target=BITCOIN_RPC_PASSWORD" is missing',
    ]


def test_the_providers_unit_without_its_alias_is_refused() -> None:
    model = load_app_folder(REPO_ROOT / "apps/bitcoin-knots").source.manifest
    units = render_app(model)
    name = "archy-bitcoin-knots_bitcoind-knots.container"
    units[name] = units[name].replace("NetworkAlias=bitcoind\n", "")
    assert check_app_units(model, units, data_root=ROOT) == [
        f"unit {name}: [Container] NetworkAlias=bitcoind is missing"
    ]
