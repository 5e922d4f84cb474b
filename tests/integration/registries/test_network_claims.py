"""Two registries never share a network: a registry's network is named after the did:key
that signs it, so a second registry of the same did:key is refused when it is added with
that did:key pinned, or when its first catalog is pulled (P037); nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.app_network import registry_network
from pipeline.market.identity import DeveloperIdentity
from tests.integration.registries.conftest import (
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)

pytestmark = pytest.mark.integration


def test_a_second_registry_of_the_same_did_key_is_refused_at_add_and_at_pull(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    did = developer.public.did
    first = developer_registry(tmp_path, developer, developer_app(tmp_path / "a", "demo-notes"))
    second = developer_registry(
        tmp_path, developer, developer_app(tmp_path / "b", "demo-todo", host_port=18700), "repo2"
    )
    node = new_node(tmp_path, official_repository(tmp_path / "official"))
    code, _, err = node.run("registry", "add", "dev", "--origin", first.origin,
                            "--root", str(first.published.root_file), "--did", did)  # fmt: skip
    assert (code, err) == (0, "")
    claim = (
        f"registry 'dev2': its apps' network {registry_network(did)} (did:key {did}) is "
        "registry 'dev''s; two registries never share a network (P037)"
    )

    code, out, err = node.run("registry", "add", "dev2", "--origin", second.origin,
                              "--root", str(second.published.root_file), "--did", did)  # fmt: skip
    assert (code, out, err) == (1, "", f"error: {claim}\n")
    assert not (node.state_root / "registries" / "dev2").exists()

    # without --did the add cannot know; the first pull of its catalog refuses it whole
    code, _, err = node.run("registry", "add", "dev2", "--origin", second.origin,
                            "--root", str(second.published.root_file))  # fmt: skip
    assert (code, err) == (0, "")
    code, out, err = node.run("pull")
    assert code == 1
    assert "registry dev: new catalog" in out
    assert err == (
        "error: registry dev2: pull failed, its current catalog is kept: catalog: refused "
        f"whole, nothing kept: {claim}\n"
    )
    code, out, _ = node.run("list", "--registry", "dev")
    assert (code, out.split()[:1]) == (0, ["dev/demo-notes"])
    code, out, err = node.run("install", "dev2/demo-todo")
    assert code == 1
    assert "registry 'dev2' has no verified catalog yet" in err
