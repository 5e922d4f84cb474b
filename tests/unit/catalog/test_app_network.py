"""A network per registry, named from what the catalog signs: the renderer puts a third
party's app on ``archy-<hex>-net`` and the node's unit check accepts it there only."""

from __future__ import annotations

import pytest

from catalog.app_network import (
    app_network,
    is_app_network,
    networks_named_by_units,
    registry_network,
)
from catalog.runtime_names import DEFAULT_DATA_ROOT
from catalog.unit_check import check_app_units
from pipeline.render import render_app
from signing.developer import sign_manifest, third_party_catalog_problems
from signing.did_key import DidKeySigner
from tests.support.catalogs import EXAMPLE_DID, catalog_app, catalog_of, simple_manifest

OTHER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
DEV_NET = registry_network(EXAMPLE_DID)


def test_a_registrys_network_is_named_from_its_did_key_and_never_archy_net() -> None:
    assert DEV_NET.startswith("archy-") and DEV_NET.endswith("-net") and len(DEV_NET) == 26
    assert registry_network(EXAMPLE_DID) == DEV_NET  # the same did, the same network
    assert registry_network(OTHER_DID) != DEV_NET
    assert is_app_network(DEV_NET) and is_app_network("archy-net")
    for name in ("podman", "archy-net2", "archy-ABCDEF0123456789-net", "archy-web_web"):
        assert not is_app_network(name), name


def test_an_entry_without_a_developer_is_on_archy_net_a_signed_one_on_its_registrys() -> None:
    manifest = simple_manifest("notes", port=18500)
    assert app_network(catalog_app(manifest)) == "archy-net"
    assert app_network(catalog_app(manifest, did=EXAMPLE_DID)) == DEV_NET


def test_the_renderer_writes_the_registrys_network_unit_and_joins_it() -> None:
    units = render_app(simple_manifest("notes", port=18500), network=DEV_NET)
    assert sorted(units) == sorted(["archy-notes_notes.container", f"{DEV_NET}.network"])
    assert units[f"{DEV_NET}.network"].splitlines()[-2:] == [
        f"NetworkName={DEV_NET}",
        "Options=isolate=true",
    ]
    assert f"\nNetwork={DEV_NET}.network\n" in units["archy-notes_notes.container"]
    assert networks_named_by_units(units) == [DEV_NET]


def test_the_unit_check_accepts_an_app_only_on_the_network_it_is_told() -> None:
    manifest = simple_manifest("notes", port=18500)
    on_dev = render_app(manifest, network=DEV_NET)
    assert check_app_units(manifest, on_dev, data_root=DEFAULT_DATA_ROOT, network=DEV_NET) == []
    problems = check_app_units(manifest, render_app(manifest), data_root=DEFAULT_DATA_ROOT,
                               network=DEV_NET)  # fmt: skip
    assert "unit archy-net.network: not a unit the renderer writes for this app" in problems
    assert f"unit {DEV_NET}.network is missing" in problems
    problems = check_app_units(manifest, on_dev, data_root=DEFAULT_DATA_ROOT)
    assert f"unit {DEV_NET}.network: not a unit the renderer writes for this app" in problems


def test_a_registry_network_unit_without_isolation_is_refused_archy_nets_old_one_is_not() -> None:
    manifest = simple_manifest("notes", port=18500)
    on_dev = render_app(manifest, network=DEV_NET)
    name = f"{DEV_NET}.network"
    bare = {**on_dev, name: on_dev[name].replace("Options=isolate=true\n", "")}
    assert check_app_units(manifest, bare, data_root=DEFAULT_DATA_ROOT, network=DEV_NET) == [
        f"unit {name}: its entries are not the network {DEV_NET}'s"
    ]
    official = render_app(manifest)
    old = {**official, "archy-net.network": official["archy-net.network"].replace(
        "Options=isolate=true\n", "")}  # fmt: skip
    assert check_app_units(manifest, old, data_root=DEFAULT_DATA_ROOT) == []


@pytest.mark.parametrize("line", ["Network=archy-net.network", 'Network="archy-net.network"'])
def test_every_network_a_unit_names_is_found(line: str) -> None:
    units = render_app(simple_manifest("notes", port=18500), network=DEV_NET)
    text = units["archy-notes_notes.container"].replace(f"Network={DEV_NET}.network", line)
    found = networks_named_by_units({**units, "archy-notes_notes.container": text})
    assert found == sorted(["archy-net", DEV_NET])


def test_a_third_party_catalog_signed_by_two_did_keys_is_refused() -> None:
    first, second = DidKeySigner.from_seed(b"\x01" * 32), DidKeySigner.from_seed(b"\x02" * 32)
    catalog = catalog_of([simple_manifest("aa", port=18501), simple_manifest("bb", port=18502)])
    apps = {
        app_id: app.model_copy(update={"developer": sign_manifest(signer, app.manifest)})
        for (app_id, app), signer in zip(sorted(catalog.apps.items()), (first, second), strict=True)
    }
    mixed = catalog.model_copy(update={"apps": apps})
    assert third_party_catalog_problems(mixed) == [
        f"apps.bb.developer.did: {second.did}, but apps.aa is signed by {first.did}; every "
        "entry of a registry is signed by one did:key"
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Network=host\n", []),  # the host's network: no network the node creates
        ('  Network = "host"  \n', []),
        ("Network=HOST\n", ["HOST"]),  # systemd values are case-sensitive: not the host
        ("Network=odd=name.network\n", ["odd=name"]),  # split at the first '='
        ('Network="boxX"\nNetwork=boxX\n', ["boxX"]),  # only the quotes are taken off
        ('Environment="Network=archy-net"\n', []),  # a value holding 'Network=' names none
    ],
)
def test_a_network_line_is_read_as_systemd_reads_it(text: str, found: list[str]) -> None:
    assert networks_named_by_units({"archy-x_x.container": text}) == found
