"""The rules between registries, as a pure function: each clash is one line with its code,
and apps of one registry are never checked against each other (their own catalog's
policy does that)."""

from __future__ import annotations

import pytest

from catalog.app_network import registry_network
from catalog.catalog_model import CatalogApp
from node_runtime.registries.clashes import PlacedApp, cross_registry_problems
from node_runtime.store.registry_state import registry_name_problem
from pipeline.render import render_app
from tests.support.catalogs import EXAMPLE_DID, catalog_app, simple_manifest, with_member_changes

OTHER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"

DATA_ROOT = "/var/lib/archipelago"


def app(app_id: str, **options: object) -> CatalogApp:
    """An official entry (on archy-net)."""
    return catalog_app(simple_manifest(app_id, **options))  # type: ignore[arg-type]


def dev_app(app_id: str, **options: object) -> CatalogApp:
    """A third-party entry of the registry EXAMPLE_DID signs (on its network)."""
    return catalog_app(simple_manifest(app_id, **options), did=EXAMPLE_DID)  # type: ignore[arg-type]


def problems(
    candidate: PlacedApp,
    installed: list[PlacedApp] = (),  # type: ignore[assignment]
    official: list[PlacedApp] = (),  # type: ignore[assignment]
    owners: dict[str, str] | None = None,
    allowed: dict[str, list[str]] | None = None,
) -> list[str]:
    return cross_registry_problems(
        candidate, installed, official, owners or {}, allowed or {}, DATA_ROOT
    )


def test_an_app_that_clashes_with_nothing_passes() -> None:
    web = PlacedApp(None, app("web", port=18081))
    assert problems(PlacedApp("dev", dev_app("notes", port=18500)), [web], [web]) == []


def test_the_same_port_in_the_same_registry_is_not_a_cross_registry_matter() -> None:
    assert problems(PlacedApp("dev", dev_app("aa", port=18500)),
                    [PlacedApp("dev", dev_app("bb", port=18500))]) == []  # fmt: skip


def test_a_port_of_another_registry_is_refused_in_either_direction() -> None:
    official = PlacedApp(None, app("web", port=18000))
    third = PlacedApp("dev", dev_app("notes", port=18000))
    assert problems(third, [official]) == [
        "dev/notes: host port 18000/tcp is published by official app web (P031)"
    ]
    assert problems(official, [third]) == [
        "official app web: host port 18000/tcp is published by dev/notes (P031)"
    ]


def test_an_official_id_is_refused_unless_the_registry_already_owns_it() -> None:
    official = PlacedApp(None, app("web", port=18000))
    third = PlacedApp("dev", dev_app("web", port=18500))
    assert problems(third, official=[official]) == [
        "dev/web: the id 'web' is an app of the official registry; an app of one registry "
        "never replaces or shadows another's (P030)"
    ]
    assert problems(third, official=[official], owners={"web": "dev"}) == []
    assert problems(third, owners={"web": "other"}) == [
        "dev/web: the id 'web' belongs to other/web on this node (its data and secrets are "
        "kept until purged) (P030)"
    ]


def test_a_container_name_of_an_uninstalled_official_app_is_refused() -> None:
    official = PlacedApp(None, app("web", port=18000))
    renamed = with_member_changes(simple_manifest("notes", port=18500), "notes", name="web")
    third = PlacedApp("dev", catalog_app(renamed, did=EXAMPLE_DID))
    found = problems(third, official=[official])
    assert (
        "dev/notes: container 'web' (a container name on this node) is official app web's "
        "(P032)" in found
    )


def test_a_capability_never_crosses_registries_even_when_allowed() -> None:
    provider = PlacedApp(None, app("btc", port=18000, provides=["bitcoin"]))
    wallet = PlacedApp("dev", dev_app("wallet", port=18500, requires=[{"app": "bitcoin"}]))
    network = registry_network(EXAMPLE_DID)
    expected = (
        "dev/wallet requires 'bitcoin' from official app btc; apps of two registries are on "
        f"separate networks ({network}, archy-net), so a capability never crosses "
        "registries, even when allowed; install a provider from dev (P034)"
    )
    assert problems(wallet, [provider]) == [expected]
    assert problems(provider, [wallet]) == [expected]  # the provider joining later, too
    assert problems(wallet, [provider], allowed={"dev": ["bitcoin"]}) == [expected]


def test_a_third_party_app_on_the_official_network_is_refused() -> None:
    manifest = simple_manifest("notes", port=18500)
    on_archy_net = catalog_app(manifest, did=EXAMPLE_DID).model_copy(
        update={"units": render_app(manifest)}
    )
    assert problems(PlacedApp("dev", on_archy_net)) == [
        f"dev/notes: its units join network archy-net, not its registry's "
        f"{registry_network(EXAMPLE_DID)}; apps of two registries never share a network (P037)"
    ]


def test_a_third_party_app_on_another_registrys_network_is_refused() -> None:
    manifest = simple_manifest("notes", port=18500)
    elsewhere = catalog_app(manifest, did=EXAMPLE_DID).model_copy(
        update={"units": render_app(manifest, network=registry_network(OTHER_DID))}
    )
    assert problems(PlacedApp("dev", elsewhere)) == [
        f"dev/notes: its units join network {registry_network(OTHER_DID)}, not its registry's "
        f"{registry_network(EXAMPLE_DID)}; apps of two registries never share a network (P037)"
    ]


def test_a_network_line_hidden_among_other_units_still_counts() -> None:
    entry = dev_app("notes", port=18500)
    [unit] = [name for name in entry.units if name.endswith(".container")]
    text = entry.units[unit].replace(
        f"Network={registry_network(EXAMPLE_DID)}.network", "Network=archy-net.network"
    )
    bent = entry.model_copy(update={"units": {**entry.units, unit: text}})
    [problem] = problems(PlacedApp("dev", bent))
    assert problem.startswith("dev/notes: its units join network archy-net, not its registry's")


def test_adopting_a_container_that_is_not_its_own_is_refused() -> None:
    manifest = simple_manifest("notes", port=18500)
    document = manifest.to_document()
    document["migration"] = {"adopt": ["bitcoind"]}
    adopting = PlacedApp(
        "dev", catalog_app(type(manifest).model_validate(document), did=EXAMPLE_DID)
    )
    assert problems(adopting) == [
        "dev/notes: migration.adopt names bitcoind, not its own members; a third-party app "
        "adopts only containers of its own names (P035)"
    ]


@pytest.mark.parametrize(
    "name", ["../x", "x/y", "Dev", "a", "x" * 41, "official", "cap", "-x", "dev\n", ".x", ""]
)
def test_registry_names_that_are_not_plain_ids_are_refused(name: str) -> None:
    problem = registry_name_problem(name)
    assert problem is not None and problem.startswith("registry name ")
    assert "\n" not in problem


@pytest.mark.parametrize("name", ["dev", "alice-apps", "r2"])
def test_plain_registry_names_are_accepted(name: str) -> None:
    assert registry_name_problem(name) is None


def test_a_registry_record_that_names_another_directory_is_refused(tmp_path: object) -> None:
    from pathlib import Path

    from node_runtime.store.paths import NodePaths, StateError
    from node_runtime.store.registry_state import read_registry

    root = Path(str(tmp_path))
    folder = root / "registries" / "dev"
    folder.mkdir(parents=True)
    (folder / "registry.json").write_text(
        '{"schema": 1, "name": "other", "origin": "file:///x", "root_blake3": "00", '
        '"added_at": "2026-01-01T00:00:00Z"}'
    )
    with pytest.raises(StateError, match="name: 'other', but the directory is 'dev'"):
        read_registry(NodePaths(root), "dev")
