"""A third-party app's requirements resolve within its own registry: the refusal names the
registry's providers (``install NAME/provider`` first), never an official one it could not
reach."""

from __future__ import annotations

from catalog.manifest import Manifest
from node_runtime.registries.requirements import registry_requirement_problem
from tests.support.catalogs import simple_manifest

WALLET = simple_manifest("wallet", port=18500, requires=[{"app": "bitcoin"}])
NODE = simple_manifest("dev-btc", port=18501, provides=["bitcoin"])
OTHER = simple_manifest("dev-btc2", port=18502, provides=["bitcoin"])


def problem(installed: dict[str, Manifest], registry: dict[str, Manifest]) -> str | None:
    return registry_requirement_problem("dev", "wallet", WALLET, installed, registry)


def test_a_requirement_met_by_an_installed_app_of_the_registry_passes() -> None:
    assert problem({"dev-btc": NODE}, {"dev-btc": NODE, "wallet": WALLET}) is None


def test_the_refusal_names_the_registrys_providers() -> None:
    assert problem({}, {"dev-btc": NODE, "dev-btc2": OTHER, "wallet": WALLET}) == (
        "dev/wallet requires 'bitcoin', which no installed app of registry dev provides; "
        "install one of dev/dev-btc, dev/dev-btc2 first (archy-node install dev/dev-btc) (P027)"
    )


def test_a_registry_without_a_provider_says_the_capability_cannot_come_from_elsewhere() -> None:
    assert problem({}, {"wallet": WALLET}) == (
        "dev/wallet requires 'bitcoin', which no installed app of registry dev provides; no "
        "app of registry dev provides it (a capability never crosses registries) (P027)"
    )


def test_an_optional_requirement_never_refuses() -> None:
    document = WALLET.to_document()
    document["requires"] = [{"app": "bitcoin", "optional": True}]
    optional = Manifest.model_validate(document)
    assert registry_requirement_problem("dev", "wallet", optional, {}, {}) is None
