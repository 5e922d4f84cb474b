"""``desired_app``: the node's check of a catalog entry's units before it plans anything,
with the refusal a user sees; and ``derived_names``, the names an app claims on the node."""

from __future__ import annotations

import pytest

from catalog.catalog_model import CatalogApp
from node_runtime.plan.desired import UnitsRefused, derived_names, desired_app
from pipeline.render import render_app
from tests.realparts import REPO_ROOT
from tests.support.catalogs import catalog_app, manifest_from_folder

NODE_ROOT = "/srv/data"  # not the default root: the node moves the catalog's units to it
DB_UNIT = "archy-nextcloud_nextcloud-db.container"


def nextcloud() -> CatalogApp:
    return catalog_app(manifest_from_folder(REPO_ROOT / "apps/nextcloud"))


def refusal(app: CatalogApp) -> str:
    with pytest.raises(UnitsRefused) as refused:
        desired_app(app, NODE_ROOT)
    assert [p.location for p in refused.value.problems] == [("units",)] * len(
        refused.value.problems
    )
    return str(refused.value)


def test_a_unit_mixing_the_default_roots_mounts_with_the_nodes_labels_is_refused() -> None:
    # each line is one the renderer writes, for one root or the other: the node refuses
    # the mixture as the catalog has it, before moving its units to the node's root
    # (after which it would read as the node's own rendering)
    app = nextcloud()
    node = render_app(app.manifest, NODE_ROOT)[DB_UNIT].splitlines(keepends=True)
    catalog = app.units[DB_UNIT].splitlines(keepends=True)
    mixed = "".join(n if n.startswith("Label=") else c for c, n in zip(catalog, node, strict=True))
    hostile = app.model_copy(update={"units": {**app.units, DB_UNIT: mixed}})
    text = refusal(hostile)
    assert text.startswith(
        "its units are refused (not what the renderer writes for nextcloud): "
        f'unit {DB_UNIT}: [Container] Label="archy.config-hash='
    )
    assert text.endswith("is missing")


def test_a_catalog_with_pinned_image_digests_is_accepted_at_any_data_root() -> None:
    app = nextcloud()
    digest = "sha256:" + "a" * 64
    units = dict(app.units)
    for image in app.images:
        for name in units:
            old, new = f"Image={image.reference}\n", f"Image={image.reference}@{digest}\n"
            units[name] = units[name].replace(old, new)
    images = [image.model_copy(update={"digest": digest}) for image in app.images]
    pinned = app.model_copy(update={"images": images, "units": units})
    for root in ("/var/lib/archipelago", NODE_ROOT):
        desired = desired_app(pinned, root)
        assert [
            line
            for _, text in desired.units
            for line in text.splitlines()
            if line.startswith("Image=")
        ] == [
            f"Image=docker.io/library/postgres:16.9@{digest}",
            f"Image=docker.io/library/redis:7.4.4@{digest}",
            f"Image=docker.io/library/nextcloud:31.0.7-apache@{digest}",
        ]


def tampered(app: CatalogApp, count: int) -> CatalogApp:
    """``app`` with ``count`` units each granting itself a capability the manifest lacks."""
    units = dict(app.units)
    names = sorted(name for name in units if name.endswith(".container"))
    for name in names[:count]:
        units[name] = units[name].replace("[Container]\n", "[Container]\nAddCapability=SYS_ADMIN\n")
    return app.model_copy(update={"units": units})


def problem(unit: str) -> str:
    return f"unit {unit}: [Container] AddCapability=SYS_ADMIN: not what the app's manifest asks for"


def test_a_refusal_shows_three_problems_and_counts_the_rest() -> None:
    head = "its units are refused (not what the renderer writes for nextcloud): "
    three = [
        problem("archy-nextcloud_nextcloud-db.container"),
        problem("archy-nextcloud_nextcloud-redis.container"),
        problem("archy-nextcloud_nextcloud.container"),
    ]
    assert refusal(tampered(nextcloud(), 3)) == head + "; ".join(three)
    # a fourth: a unit the renderer never writes (listed first)
    app = tampered(nextcloud(), 3)
    four = app.model_copy(update={"units": {**app.units, "archy-nextcloud_x.container": ""}})
    extra = "unit archy-nextcloud_x.container: not a unit the renderer writes for this app"
    assert refusal(four) == head + "; ".join([extra, *three[:2]]) + " (and 1 more)"
    with pytest.raises(UnitsRefused) as refused:
        desired_app(four, NODE_ROOT)
    assert [p.message for p in refused.value.problems] == [extra, *three]


def test_the_names_an_app_claims_are_its_units_containers_aliases_and_own_secrets() -> None:
    def names(app_id: str) -> list[tuple[str, str]]:
        app = catalog_app(manifest_from_folder(REPO_ROOT / f"apps/{app_id}"))
        return sorted(derived_names(desired_app(app, NODE_ROOT)))

    assert names("nextcloud") == [
        ("container", "nextcloud"), ("container", "nextcloud-db"), ("container", "nextcloud-redis"),
        ("podman secret", "archy-nextcloud_domain"),
        ("podman secret", "archy-nextcloud_nextcloud-admin-password"),
        ("podman secret", "archy-nextcloud_nextcloud-db-password"),
        ("podman secret", "archy-nextcloud_nextcloud-redis-password"),
        ("unit", "archy-nextcloud_nextcloud-db.container"),
        ("unit", "archy-nextcloud_nextcloud-redis.container"),
        ("unit", "archy-nextcloud_nextcloud.container"),
    ]  # fmt: skip
    # the secret bitcoin-core exports with its capability is shared, not its own
    assert names("bitcoin-core") == [
        ("container", "bitcoind"), ("unit", "archy-bitcoin-core_bitcoind.container")
    ]  # fmt: skip
    assert names("lnd") == [
        ("container", "lnd"), ("podman secret", "archy-lnd_lnd-wallet-password"),
        ("unit", "archy-lnd_lnd.container"),
    ]  # fmt: skip
