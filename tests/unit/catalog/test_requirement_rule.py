"""The one requirement rule (catalog.capabilities) that the catalog build, the node's
install and its apply share: a provider meets a requirement only with a version inside
the range and every asked setting equal *and of the same kind*."""

from __future__ import annotations

import pytest

from catalog.capabilities import setting_matches, shortfall, version_in_range
from catalog.loader import parse_yaml_document
from catalog.manifest import Manifest, Requirement
from tests.support.sample_manifest import VALID_MANIFEST


def _provider(version: str, settings: dict[str, object]) -> Manifest:
    data, _lines = parse_yaml_document(VALID_MANIFEST.encode(), "manifest.yml")
    data["version"] = version
    data["settings"] = settings
    return Manifest.model_validate(data)


@pytest.mark.parametrize(
    ("wanted", "actual", "matches"),
    [
        (True, True, True),
        (0, 0, True),
        ("full", "full", True),
        (0, False, False),
        (1, True, False),
        (False, 0, False),
        ("0", 0, False),
        (True, None, False),
    ],
)
def test_a_setting_matches_only_when_equal_and_of_the_same_kind(
    wanted: bool | int | str, actual: bool | int | str | None, matches: bool
) -> None:
    assert setting_matches(wanted, actual) is matches


def test_a_version_outside_the_range_or_not_pep440_is_refused() -> None:
    assert version_in_range(">=25.0", "25.1")
    assert version_in_range(None, "anything")
    assert not version_in_range(">=25.0", "24.9")
    assert not version_in_range(">=25.0", "not-a-version")


def test_the_shortfall_names_the_setting_and_both_values() -> None:
    requirement = Requirement(app="demo-web", version=">=1.0", settings={"prune": 0})
    assert shortfall(requirement, "demo-web", _provider("1.2.3", {"prune": 0})) is None
    assert (
        shortfall(requirement, "demo-web", _provider("1.2.3", {"prune": False}))
        == "demo-web runs with prune: false, not 0"
    )
    assert (
        shortfall(requirement, "demo-web", _provider("1.2.3", {}))
        == "demo-web runs with prune: unset, not 0"
    )
    assert (
        shortfall(requirement, "demo-web", _provider("0.9", {"prune": 0}))
        == "demo-web is version 0.9, outside '>=1.0'"
    )
