"""A node with its own data root rewrites exactly the catalog's default-root lines: the
result is what the renderer writes for the node's root, on the app's registry network,
and any other line (even one a character away from a default line) stays byte for byte."""

from __future__ import annotations

from catalog.app_network import registry_network
from catalog.manifest import Manifest
from catalog.runtime_names import DEFAULT_DATA_ROOT, member_unit_name
from catalog.unit_check import check_app_units
from catalog.unit_data_root import units_for_data_root
from pipeline.appset import load_app_folder
from pipeline.render import render_app
from tests.realparts import REPO_ROOT

DATA_ROOT = "/srv/x"
THIRD_PARTY = registry_network("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")


def _indeedhub() -> Manifest:
    return load_app_folder(REPO_ROOT / "apps" / "indeedhub").source.manifest


def test_moved_units_are_the_units_rendered_for_the_nodes_root() -> None:
    manifest = _indeedhub()
    moved = units_for_data_root(manifest, render_app(manifest), DATA_ROOT)
    assert moved == render_app(manifest, DATA_ROOT)
    assert not [line for text in moved.values() for line in text.splitlines()
                if DEFAULT_DATA_ROOT in line]  # fmt: skip


def test_a_third_party_registrys_units_move_with_their_own_network() -> None:
    manifest = _indeedhub()
    catalog_units = render_app(manifest, network=THIRD_PARTY)
    moved = units_for_data_root(manifest, catalog_units, DATA_ROOT, THIRD_PARTY)
    # the config-hash label covers the network: moved with archy-net's specs, no label
    # of the catalog's units would match and each member would keep the old hash
    assert moved == render_app(manifest, DATA_ROOT, THIRD_PARTY)
    assert check_app_units(manifest, moved, data_root=DATA_ROOT, network=THIRD_PARTY) == []


def test_a_member_without_a_unit_is_skipped_and_the_later_members_still_move() -> None:
    manifest = _indeedhub()
    first = f"{member_unit_name(manifest.id, manifest.containers[0].name)}.container"
    rendered = render_app(manifest, DATA_ROOT)
    units = render_app(manifest)
    del units[first]
    moved = units_for_data_root(manifest, units, DATA_ROOT)
    assert first not in moved
    assert moved == {name: text for name, text in rendered.items() if name != first}


def test_lines_that_differ_from_a_default_line_by_one_character_stay_as_written() -> None:
    manifest = _indeedhub()
    units = render_app(manifest)
    name = f"{member_unit_name(manifest.id, manifest.containers[0].name)}.container"
    [volume] = [line for line in units[name].splitlines() if line.startswith("Volume=")]
    [label] = [line for line in units[name].splitlines() if "archy.config-hash" in line]
    kept = [f"{volume}  ", f"{volume}X", f"{label}\t", "Description=kept X", "# comment \t"]
    # the last line without its newline: it must stay without one
    hostile = {**units, name: units[name] + "\n".join(kept)}
    moved = units_for_data_root(manifest, hostile, DATA_ROOT)
    assert moved[name] == render_app(manifest, DATA_ROOT)[name] + "\n".join(kept)
    assert units_for_data_root(manifest, hostile, DEFAULT_DATA_ROOT) == hostile
