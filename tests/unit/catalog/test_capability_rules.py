"""The install rules the node and the catalog share (``catalog.capabilities``): which
provider is missing, with the hint ``archy-node install`` prints (P027), and which
installed apps still need an app (P028)."""

from __future__ import annotations

from typing import Any

from catalog.capabilities import dependents, missing_providers, version_in_range
from catalog.manifest import Manifest
from tests.support.catalogs import simple_manifest


def app(app_id: str, **fields: Any) -> Manifest:
    return simple_manifest(app_id, **fields)


def by_id(*manifests: Manifest) -> dict[str, Manifest]:
    return {m.id: m for m in manifests}


def test_a_pre_release_is_inside_a_range_that_holds_it() -> None:
    assert version_in_range(">=28", "29.0rc1") is True
    assert version_in_range("<29", "29.0rc1") is False
    assert version_in_range(">=28", "28.1.knots20250305") is False


def test_the_first_missing_requirement_names_the_catalog_apps_that_would_meet_it() -> None:
    wallet = app("wallet", requires=[{"app": "maybe", "optional": True}, {"app": "coin"}])
    catalog = by_id(wallet, app("coin-b", provides=["coin"]), app("coin-a", provides=["coin"]))
    assert missing_providers("wallet", wallet, {"wallet": wallet}, catalog) == (
        "wallet requires 'coin', which no installed app provides; install one of coin-a, "
        "coin-b first (archy-node install coin-a) (P027)"
    )
    assert missing_providers("wallet", wallet, {}, by_id(wallet)) == (
        "wallet requires 'coin', which no installed app provides; "
        "no app in the catalog provides it (P027)"
    )
    assert missing_providers("wallet", wallet, by_id(app("coin-a", provides=["coin"])), {}) is None


def test_an_app_never_meets_its_own_requirement() -> None:
    relay = app("relay", provides=["coin"], requires=[{"app": "coin"}])
    catalog = by_id(relay, app("coin-a", provides=["coin"]))
    assert missing_providers("relay", relay, {"relay": relay}, catalog) == (
        "relay requires 'coin', which no installed app provides; install one of coin-a "
        "first (archy-node install coin-a) (P027)"
    )


def test_the_apps_that_need_an_app_are_those_no_other_installed_app_serves() -> None:
    core = app("core", provides=["coin"])
    installed = by_id(
        core,
        app("by-id", requires=[{"app": "other-thing", "optional": True}, {"app": "core"}]),
        app("by-capability", requires=[{"app": "coin"}]),
        app("optional-only", requires=[{"app": "core", "optional": True}]),
        app("served-twice", requires=[{"app": "coin"}]),
        app("relay", provides=["coin"], requires=[{"app": "coin"}]),
    )
    assert dependents("core", installed) == ["by-id", "relay"]  # relay serves the others
    without_relay = {k: v for k, v in installed.items() if k != "relay"}
    assert dependents("core", without_relay) == ["by-capability", "by-id", "served-twice"]
    assert dependents("absent", installed) == []
