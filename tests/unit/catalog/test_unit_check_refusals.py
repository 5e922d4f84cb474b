"""The node's unit check refuses each unit the renderer would not write, with one line
naming the unit and the entry (filled in below, measured by scripts/mutation)."""

from __future__ import annotations

from catalog.unit_check import unit_owner, unit_header


def test_a_units_first_line_names_its_app() -> None:
    assert unit_owner(unit_header("notes")) == "notes"
    assert unit_owner(unit_header("")) is None
