"""Which installed apps the node runs and the one line it gives for each it refuses
(``node_runtime.plan.resolve``): what ``archy-node apply`` reports per app."""

from __future__ import annotations

from typing import Any

from catalog.manifest import Manifest
from node_runtime.plan.observed import ObservedContainer, ObservedState
from node_runtime.plan.resolve import dependency_order, resolve_desired
from node_runtime.store.applied import AppliedApp
from tests.realparts import REPO_ROOT
from tests.support.catalogs import catalog_of, manifest_from_folder, simple_manifest

DATA = "/srv/data"
NEXTCLOUD = manifest_from_folder(REPO_ROOT / "apps/nextcloud")


def resolve(catalog, installed, observed=None, applied=None, arch="amd64"):  # type: ignore[no-untyped-def]
    return resolve_desired(
        catalog, installed, data_root=DATA, architecture=arch,
        applied=applied or {}, observed=observed or ObservedState(),
    )  # fmt: skip


def members(app_id: str, names: list[str], port: int, **fields: Any) -> Manifest:
    document = simple_manifest(app_id, port=port).to_document()
    template = document["containers"][0]
    document["containers"] = [{**template, "name": name, "ports": []} for name in names]
    document["containers"][0]["ports"] = template["ports"]
    if document.get("ui"):
        document["ui"] = {**document["ui"], "container": names[0]}
    document.update(fields)
    return Manifest.model_validate(document)


def test_an_app_missing_from_the_catalog_or_built_for_other_machines_is_refused_alone() -> None:
    other = simple_manifest("other", architectures=["arm64"], port=18081)
    accepted, refused = resolve(catalog_of([NEXTCLOUD, other]), ["aaa-gone", "nextcloud", "other"])
    assert refused == {
        "aaa-gone": "is not in the current catalog",
        "other": "does not run on amd64 (only arm64)",
    }
    assert list(accepted) == ["nextcloud"]
    _, refused = resolve(catalog_of([NEXTCLOUD]), ["nextcloud"], arch="riscv64")
    assert refused == {"nextcloud": "does not run on riscv64 (only amd64, arm64)"}


def test_a_container_of_another_app_refuses_the_app_even_behind_a_missing_member() -> None:
    foreign = ObservedContainer("nextcloud-redis", "r", True, "other", "redis", "h")
    _, refused = resolve(
        catalog_of([NEXTCLOUD]),
        ["nextcloud"],
        ObservedState(containers={"nextcloud-redis": foreign}),
    )
    assert refused == {"nextcloud": "container name 'nextcloud-redis' is used by app 'other'"}


def test_a_podman_secret_recorded_as_another_apps_is_not_handed_over() -> None:
    catalog = catalog_of([NEXTCLOUD])
    theirs = ObservedState(secret_owners={"archy-nextcloud_domain": "other"})
    assert resolve(catalog, ["nextcloud"], theirs)[1] == {
        "nextcloud": "podman secret archy-nextcloud_domain belongs to app 'other'; "
        "refusing to hand it over"
    }
    # its own record, or a record under a name that is no Podman secret, refuses nothing
    own = ObservedState(
        secret_owners={"archy-nextcloud_domain": "nextcloud",
                       "archy-nextcloud_nextcloud.container": "other", "nextcloud": "other"}
    )  # fmt: skip
    assert resolve(catalog, ["nextcloud"], own)[1] == {}


def test_names_an_applied_app_holds_refuse_the_newcomer_even_when_it_sorts_first() -> None:
    alpha = members("alpha", ["shared-a", "shared-b"], 18080)
    beta = members("beta", ["shared-a", "shared-b"], 18081)
    catalog = catalog_of([alpha, beta])
    applied = {"beta": AppliedApp.of(catalog.apps["beta"], DATA)}
    accepted, refused = resolve(catalog, ["alpha", "beta"], applied=applied)
    assert (list(accepted), refused) == (
        ["beta"], {"alpha": "its container name shared-a is also app 'beta''s"}
    )  # fmt: skip
    # an applied app that is no longer installed keeps its names too
    held_by_beta = "its container name shared-a is also app 'beta''s"
    accepted, refused = resolve(catalog, ["alpha"], applied=applied)
    assert (list(accepted), refused) == ([], {"alpha": held_by_beta})
    # a record whose data root no engine accepts holds nothing
    old = {"beta": AppliedApp.of(catalog.apps["beta"], "")}
    assert resolve(catalog, ["alpha"], applied=old) == (resolve(catalog, ["alpha"])[0], {})
    # newcomers alone: the first in id order keeps the names
    accepted, refused = resolve(catalog, ["alpha", "beta"])
    assert (list(accepted), refused) == (
        ["alpha"], {"beta": "its container name shared-a is also app 'alpha''s"}
    )  # fmt: skip


def test_a_second_provider_of_a_capability_is_refused_unless_it_was_applied_first() -> None:
    alpha = simple_manifest("alpha", port=18080, provides=["coin"])
    beta = simple_manifest("beta", port=18081, provides=["coin"])
    catalog = catalog_of([alpha, beta])
    accepted, refused = resolve(catalog, ["alpha", "beta"])
    assert list(accepted) == ["alpha"] and list(refused) == ["beta"]
    applied = {"beta": AppliedApp.of(catalog.apps["beta"], DATA)}
    accepted, refused = resolve(catalog, ["alpha", "beta"], applied=applied)
    assert list(accepted) == ["beta"] and list(refused) == ["alpha"]
    assert refused["alpha"] == (
        "alpha provides 'coin', which beta (installed) provides already; a node runs one "
        "provider of a capability: uninstall beta first (archy-node uninstall beta --force "
        "keeps its data) (P026)"
    )


def test_refusing_one_app_refuses_the_apps_that_needed_it_to_a_fixed_point() -> None:
    catalog = catalog_of([
        simple_manifest("aaa", port=18080, requires=[{"app": "zzz"}]),
        simple_manifest("zzz", port=18081, requires=[{"app": "maybe", "optional": True},
                                                     {"app": "missing"}]),
    ])  # fmt: skip
    accepted, refused = resolve(catalog, ["aaa", "zzz"])
    assert (accepted, refused) == ({}, {
        "zzz": "needs app 'missing', which is not installed (install it first)",
        "aaa": "needs app 'zzz', which is not installed (install it first)",
    })  # fmt: skip


def test_a_provider_without_the_settings_asked_for_is_named_with_its_version() -> None:
    catalog = catalog_of([
        simple_manifest("knots", port=18080, provides=["bitcoin"], version="28.1",
                        settings={"txindex": False, "prune": 0}),
        simple_manifest("indexer", port=18081, requires=[
            {"app": "bitcoin", "version": ">=28", "settings": {"txindex": True, "prune": 0}}]),
        simple_manifest("plain", port=18082, requires=[{"app": "bitcoin", "version": ">=29"}]),
    ])  # fmt: skip
    _, refused = resolve(catalog, ["knots", "indexer", "plain"])
    assert refused == {
        "indexer": "needs 'bitcoin' >=28 with prune=0, txindex=True; installed: knots 28.1",
        "plain": "needs 'bitcoin' >=29; installed: knots 28.1",
    }


def test_providers_come_before_the_apps_that_need_them_whatever_their_ids() -> None:
    catalog = catalog_of([
        simple_manifest("aaa", port=18080, requires=[{"app": "coin"}]),
        simple_manifest("mmm", port=18081),
        simple_manifest("zzz", port=18082, provides=["coin"]),
    ])  # fmt: skip
    accepted, _ = resolve(catalog, ["aaa", "mmm", "zzz"])
    assert dependency_order(accepted) == ["mmm", "zzz", "aaa"]


def test_every_later_newcomer_is_checked_after_one_is_refused() -> None:
    # names: alpha keeps shared-a and shared-b; beta and gamma each lose one
    catalog = catalog_of([
        members("alpha", ["shared-a", "shared-b"], 18080),
        members("beta", ["shared-a", "beta-x"], 18081),
        members("gamma", ["shared-b", "gamma-x"], 18082),
    ])  # fmt: skip
    accepted, refused = resolve(catalog, ["alpha", "beta", "gamma"])
    assert (list(accepted), refused) == (["alpha"], {
        "beta": "its container name shared-a is also app 'alpha''s",
        "gamma": "its container name shared-b is also app 'alpha''s",
    })  # fmt: skip
    # applied apps holding the names: the refusal names the holder of the first name
    applied = {k: AppliedApp.of(catalog.apps[k], DATA) for k in ("beta", "gamma")}
    _, refused = resolve(catalog, ["alpha", "beta", "gamma"], applied=applied)
    assert refused == {"alpha": "its container name shared-a is also app 'beta''s"}
    # host ports: three apps on one port
    ports = catalog_of([simple_manifest(a, port=18080) for a in ("alpha", "beta", "gamma")])
    _, refused = resolve(ports, ["alpha", "beta", "gamma"])
    assert refused == {
        "beta": "host port 18080/tcp is already used by app 'alpha'",
        "gamma": "host port 18080/tcp is already used by app 'alpha'",
    }
    # capabilities: three providers of one
    coins = catalog_of(
        [simple_manifest(a, port=p, provides=["coin"]) for a, p in (("alpha", 18080),
         ("beta", 18081), ("gamma", 18082))]
    )  # fmt: skip
    accepted, refused = resolve(coins, ["alpha", "beta", "gamma"])
    assert (list(accepted), sorted(refused)) == (["alpha"], ["beta", "gamma"])
    # an app refused for its port is skipped by the names check, the next one is not
    mixed = catalog_of([
        members("alpha", ["shared-a"], 18080),
        members("beta", ["beta-x"], 18080),
        members("gamma", ["shared-a"], 18082),
    ])  # fmt: skip
    _, refused = resolve(mixed, ["alpha", "beta", "gamma"])
    assert refused == {
        "beta": "host port 18080/tcp is already used by app 'alpha'",
        "gamma": "its container name shared-a is also app 'alpha''s",
    }


def test_an_app_is_planned_right_after_what_it_requires_then_the_others_by_id() -> None:
    catalog = catalog_of([
        simple_manifest("aaa", port=18080, requires=[{"app": "bbb"}]),
        simple_manifest("bbb", port=18081),
        simple_manifest("zzz", port=18082),
    ])  # fmt: skip
    accepted, _ = resolve(catalog, ["aaa", "bbb", "zzz"])
    assert dependency_order(accepted) == ["bbb", "aaa", "zzz"]


def test_two_providers_short_of_a_requirement_are_both_named() -> None:
    catalog = catalog_of([
        simple_manifest("bitcoin", port=18080, version="27.0"),
        simple_manifest("knots", port=18081, provides=["bitcoin"], version="28.1"),
        simple_manifest("indexer", port=18082, requires=[{"app": "bitcoin", "version": ">=29"}]),
    ])  # fmt: skip
    _, refused = resolve(catalog, ["bitcoin", "knots", "indexer"])
    assert refused == {"indexer": "needs 'bitcoin' >=29; installed: bitcoin 27.0, knots 28.1"}
