"""An app of one registry never replaces, shadows or reads an app of another: clashes of
id, host port, container names and capabilities (secrets) are refused with a policy
code, before anything is written; the trust threshold never lets a refused app through."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.app_network import registry_network
from pipeline.market.dev_registry import publish_developer_registry
from pipeline.market.identity import DeveloperIdentity
from tests.integration.registries.conftest import (
    EXPORTING_PROVIDER,
    Node,
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)


def node_with(tmp_path: Path, identity: DeveloperIdentity, folder: Path, *official: str) -> Node:
    """A node with the official registry (``official`` apps installed) and registry dev
    publishing ``folder``'s app."""
    repository = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, identity, folder)
    node = new_node(tmp_path, repository)
    code, _, err = node.run("registry", "add", "dev", "--origin", dev.origin, "--root",
                            str(dev.published.root_file))  # fmt: skip
    assert code == 0, err
    assert node.run("pull")[0] == 0
    for app_id in official:
        code, _, err = node.run("install", app_id)
        assert code == 0, err
    return node


def _state(node: Node) -> dict[str, object]:
    installed_file = node.state_root / "state" / "installed.json"
    installed = json.loads(installed_file.read_text()) if installed_file.exists() else {"apps": {}}
    owners = node.state_root / "state" / "app-registries.json"
    return {
        "installed": sorted(installed["apps"]),
        "owners": json.loads(owners.read_text())["apps"] if owners.exists() else {},
        "units": sorted(p.name for p in (node.state_root / "staged-units").glob("*.container")),
    }


@pytest.mark.integration
def test_a_third_party_app_publishing_an_installed_official_apps_host_port_is_refused(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes", host_port=18000)
    node = node_with(tmp_path, developer, folder, "notes")
    before = _state(node)
    code, out, err = node.run("install", "dev/demo-notes")
    assert (code, out) == (1, "")
    assert err == (
        "error: dev/demo-notes: host port 18000/tcp is published by official app notes (P031)\n"
    )
    assert _state(node) == before


@pytest.mark.integration
def test_an_official_app_publishing_an_installed_third_party_apps_port_is_refused_too(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes", host_port=18000)
    node = node_with(tmp_path, developer, folder)
    assert node.run("install", "dev/demo-notes")[0] == 0
    code, out, err = node.run("install", "notes")
    assert (code, out) == (1, "")
    assert err == (
        "error: official app notes: host port 18000/tcp is published by dev/demo-notes (P031)\n"
    )


@pytest.mark.integration
def test_a_third_party_app_with_an_official_apps_id_is_refused(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "web")
    node = node_with(tmp_path, developer, folder)
    before = _state(node)
    code, _, err = node.run("install", "dev/web")
    assert code == 1
    assert err == (
        "error: dev/web: the id 'web' is an app of the official registry; an app of one "
        "registry never replaces or shadows another's (P030)\n"
    )
    assert _state(node) == before


@pytest.mark.integration
def test_an_id_a_registry_owns_cannot_be_taken_by_the_official_app_of_that_id(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes")
    node = node_with(tmp_path, developer, folder)
    assert node.run("install", "dev/demo-notes")[0] == 0
    assert node.run("uninstall", "dev/demo-notes")[0] == 0  # data kept
    code, _, err = node.run("install", "demo-notes")
    assert code == 1
    assert err == (
        "error: 'demo-notes' is dev/demo-notes on this node; the official app of that id "
        "cannot take its place (P030)\n"
    )


@pytest.mark.integration
def test_a_third_party_container_named_like_an_official_one_is_refused(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    # "web" is the official app web's container: container names are one namespace per
    # node, whatever the network (the official app need not be installed)
    folder = developer_app(tmp_path / "dev", "demo-notes", member="web")
    node = node_with(tmp_path, developer, folder)
    before = _state(node)
    code, _, err = node.run("install", "dev/demo-notes")
    assert code == 1
    assert err == (
        "error: dev/demo-notes: container 'web' (a container name on this node) is official "
        "app web's (P032)\n"
    )
    assert _state(node) == before


@pytest.mark.integration
def test_a_capability_never_crosses_registries_a_provider_of_the_same_registry_serves_it(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    # the wallet reads the provider's exported RPC password ({secret: rpc-password, from:
    # bitcoin}); the developer's registry carries its own provider too (its build needs one)
    apps = tmp_path / "dev"
    developer_app(apps, "dev-btc", host_port=18600, extra_yaml=EXPORTING_PROVIDER)
    folder = developer_app(
        apps,
        "wallet",
        requires="bitcoin",
        env="RPC_PASSWORD: {secret: rpc-password, from: bitcoin}",
    )
    node = node_with(tmp_path, developer, folder, "btc")
    before = _state(node)
    # the official provider is installed, but a capability never crosses registries: the
    # refusal names the registry's own provider, even once the owner allowed the capability
    refusal = (
        "error: dev/wallet requires 'bitcoin', which no installed app of registry dev "
        "provides; install one of dev/dev-btc first (archy-node install dev/dev-btc) (P027)\n"
    )
    code, _, err = node.run("install", "dev/wallet")
    assert (code, err) == (1, refusal)
    assert _state(node) == before
    code, _out, err = node.run("registry", "set", "dev", "--allow-capabilities", "bitcoin")
    assert (code, err) == (0, "")
    code, _, err = node.run("install", "dev/wallet")
    assert (code, err) == (1, refusal)
    assert _state(node) == before

    # with the registry's own provider instead, the wallet installs, both on its network
    code, out, err = node.run("uninstall", "btc")
    assert (code, err) == (0, ""), out
    for app in ("dev/dev-btc", "dev/wallet"):
        code, out, err = node.run("install", app)
        assert (code, err) == (0, ""), out
    # and the official provider may not serve the registry's wallet later either
    code, out, err = node.run("install", "btc")
    assert (code, out) == (1, "")
    assert err == (
        "error: dev/wallet requires 'bitcoin' from official app btc; apps of two registries "
        f"are on separate networks ({registry_network(developer.public.did)}, archy-net), so "
        "a capability never crosses registries, even when allowed; install a provider from "
        "dev (P034)\n"
    )
    assert _state(node)["owners"] == {"dev-btc": "dev", "wallet": "dev"}
    [unit] = (node.state_root / "staged-units").glob("archy-wallet_*.container")
    text = unit.read_text()
    assert 'Secret="archy-cap_bitcoin_rpc-password,type=env,' in text
    assert f"\nNetwork={registry_network(developer.public.did)}.network\n" in text


@pytest.mark.integration
def test_below_the_owners_threshold_install_needs_i_trust_this_developer(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes")
    node = node_with(tmp_path, developer, folder)
    assert node.run("registry", "set", "dev", "--min-score", "0")[0] == 0

    code, out, _ = node.run("info", "dev/demo-notes")
    assert code == 0
    assert out.splitlines()[1:] == [
        f"developer: {developer.public.did}",
        "score -2 (threshold 0)",
        "      +0  third-party registry",
        "      +0  identity first seen 0 day(s) ago",
        "      -2  publishes host port 18500",
        "below the threshold: install needs --i-trust-this-developer",
    ]
    code, out, err = node.run("install", "dev/demo-notes")
    assert (code, out) == (1, "")
    assert err == (
        "error: dev/demo-notes: trust score -2 is below registry 'dev''s threshold 0; "
        "`archy-node info dev/demo-notes` shows why; pass --i-trust-this-developer to install "
        "anyway (P036)\n"
    )
    code, _, err = node.run("install", "dev/demo-notes", "--i-trust-this-developer")
    assert (code, err) == (0, "")

    # the owner's explicit trust of the did:key is a line of the score (+40)
    node.run("registry", "set", "dev", "--trust-developer", developer.public.did)
    code, out, _ = node.run("info", "dev/demo-notes", "--json")
    document = json.loads(out)
    assert (document["score"]["total"], document["needs_i_trust_this_developer"]) == (38, False)


@pytest.mark.integration
def test_no_score_or_flag_lets_an_app_past_a_clash(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes", host_port=18000)
    node = node_with(tmp_path, developer, folder, "notes")
    node.run("registry", "set", "dev", "--trust-developer", developer.public.did,
             "--min-score", "-100")  # fmt: skip
    code, _, err = node.run("install", "dev/demo-notes", "--i-trust-this-developer")
    assert code == 1
    assert err.endswith("(P031)\n")


@pytest.mark.integration
def test_purging_a_third_party_apps_data_releases_its_id(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes")
    node = node_with(tmp_path, developer, folder)
    assert node.run("install", "dev/demo-notes")[0] == 0
    code, _, err = node.run("uninstall", "web/demo-notes")
    assert (code, err) == (
        1, "error: 'web/demo-notes' is not installed here ('demo-notes' is dev/demo-notes)\n",
    )  # fmt: skip
    code, out, err = node.run("uninstall", "dev/demo-notes", "--purge")
    assert (code, err) == (0, ""), out
    assert "purged: " in out
    assert _state(node)["owners"] == {}


@pytest.mark.integration
def test_an_update_that_would_break_a_rule_is_refused_whole_and_the_app_stays(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    folder = developer_app(tmp_path / "dev", "demo-notes")
    repository = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, developer, folder)
    node = new_node(tmp_path, repository)
    node.run("registry", "add", "dev", "--origin", dev.origin, "--root",
             str(dev.published.root_file))  # fmt: skip
    assert node.run("pull")[0] == 0
    for app_id in ("notes", "dev/demo-notes"):
        code, _, err = node.run("install", app_id)
        assert code == 0, err
    pointer = node.state_root / "registries" / "dev" / "state" / "catalog.json"
    held = pointer.read_bytes()

    # version 2 takes the official notes' host port
    manifest = folder / "manifest.yml"
    manifest.write_text(
        manifest.read_text()
        .replace("host: 18500", "host: 18000")
        .replace("revision: 1", "revision: 2")
    )
    publish_developer_registry(
        folder, developer.signer, dev.published.repo_dir, datetime.now(UTC), previous=dev.published
    )
    code, _, err = node.run("pull")
    assert code == 1
    assert err == (
        "error: registry dev: pull failed, its current catalog is kept: catalog: refused whole, "
        "nothing kept: dev/demo-notes as updated: dev/demo-notes: host port 18000/tcp is "
        "published by official app notes (P031)\n"
    )
    assert pointer.read_bytes() == held
