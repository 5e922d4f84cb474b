"""Credentials through rootless podman: the owner's secret is shown by ``archy-node
credentials`` and found nowhere else the node wrote or printed during an install
(state files, catalog, data dir, outputs, the container's config and logs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.manifest import Manifest
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of, simple_manifest

pytestmark = [pytest.mark.integration, pytest.mark.podman]


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("creds"))
    node.setup()
    yield node
    if node.run("uninstall", "cred-app").returncode == 0:
        node.apply("--purge", "cred-app")
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def cred_manifest() -> Manifest:
    document: dict[str, Any] = simple_manifest(
        "cred-app", port=free_port(), secrets=["admin-password", "internal-key"]
    ).to_document()
    document["generated_secrets"][0]["show_to_owner"] = True
    return Manifest.model_validate(document)


def test_the_owners_secret_is_shown_by_credentials_and_nowhere_else(agent: NodeAgent) -> None:
    agent.publish(catalog_of([cred_manifest()]))
    outputs = [agent.run("install", "cred-app"), agent.run("apply"), agent.run("apply", "--json"),
               agent.run("status"), agent.run("status", "--json"), agent.run("list")]  # fmt: skip
    assert all(done.returncode == 0 for done in outputs), [o.stdout + o.stderr for o in outputs]
    assert agent.podman.inspect_field("cred-app", "{{.State.Status}}") == "running"

    secrets_dir = agent.state_root / "secrets" / "cred-app"
    admin = (secrets_dir / "admin-password").read_text()
    internal = (secrets_dir / "internal-key").read_text()
    shown = agent.run_json("credentials", "cred-app")
    assert shown == (0, {"app": "cred-app",
                         "credentials": [{"name": "admin-password", "value": admin}]})  # fmt: skip

    # the container does get both (as Podman secrets, in its environment at run time)
    env = agent.podman.run("exec", "cred-app", "env").stdout
    assert f"ADMIN_PASSWORD={admin}" in env and f"INTERNAL_KEY={internal}" in env

    scanned: dict[str, bytes] = {
        str(path): path.read_bytes()
        for path in agent.root.rglob("*")
        if path.is_file() and not path.is_symlink() and secrets_dir not in path.parents
    }
    assert any(name.endswith("applied.json") for name in scanned)
    # Podman before 5.3 itself shows type=env secrets in `podman inspect` (Config.Env; its
    # issue 23788): that is podman's view for the node user, not something the node writes
    # or prints. Every other part of the container's configuration is scanned.
    [inspected] = json.loads(agent.podman.run("inspect", "cred-app").stdout)
    inspected["Config"].pop("Env")
    scanned["podman inspect (without Config.Env)"] = json.dumps(inspected).encode()
    scanned["podman logs"] = agent.podman.logs("cred-app").encode()
    for index, done in enumerate(outputs):
        scanned[f"output {index}"] = (done.stdout + done.stderr).encode()
    for value in (admin, internal):
        assert [name for name, data in scanned.items() if value.encode() in data] == []
