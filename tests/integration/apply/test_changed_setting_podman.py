"""A changed owner setting reaches an applied app (rootless podman, the real agent CLI):
``configure`` on an installed app, then ``apply`` makes the setting's Podman secret
again and recreates only the members that use it, says so, and keeps their data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.manifest import Manifest
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APP = "set-app"


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("settings"))
    node.setup()
    yield node
    if node.run("uninstall", APP).returncode == 0:
        node.apply("--purge", APP)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def member(name: str, port: int, env: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "image": "localhost/archy-test-busybox:1",
        "command": ["/bin/sh", "-c", 'trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'],
        "env": env,
        "ports": [{"container": 8080, "host": port, "expose": "local"}],
        "volumes": [{"name": name.removeprefix("set-app-"), "path": "/data"}],
        "data_uid": 0,
    }


def settings_manifest() -> Manifest:
    document: dict[str, Any] = {
        "schema": 1, "id": APP, "name": "Set App", "version": "1.0.0", "revision": 1,
        "summary": "an app with an owner setting", "description": "one member uses it",
        "category": "developer", "license": "MIT", "homepage": "https://example.org/set",
        "source": "https://example.org/set/src", "architectures": ["amd64", "arm64"],
        "containers": [
            member("set-app-web", free_port(), {"DOMAIN": {"setting": "domain"}}),
            member("set-app-side", free_port(), {"MODE": "plain"}),
        ],
        "owner_settings": [
            {"name": "domain", "required": True, "help": "the app's public domain"},
        ],
    }  # fmt: skip
    return Manifest.model_validate(document)


def env_of(agent: NodeAgent, container: str) -> str:
    return agent.podman.run("exec", container, "env").stdout


def ids(agent: NodeAgent) -> dict[str, str]:
    return {c: agent.podman.inspect_field(c, "{{.Id}}") for c in ("set-app-web", "set-app-side")}


def test_a_changed_setting_recreates_only_the_members_that_use_it_and_keeps_data(
    agent: NodeAgent,
) -> None:
    agent.publish(catalog_of([settings_manifest()]))
    assert agent.run("configure", APP, "domain=old.example").returncode == 0
    rc, document = agent.install(APP)
    assert rc == 0 and document["apps"][0]["status"] == "ok", document
    assert "DOMAIN=old.example" in env_of(agent, "set-app-web")
    kept = agent.data_root / APP / "web" / "notes.txt"
    kept.write_text("written before the change\n")
    before = ids(agent)

    configured = agent.run("configure", APP, "domain=new.example")
    assert configured.returncode == 0, configured.stderr
    assert configured.stdout.splitlines() == [
        f"{APP}: domain set",
        f"next: archy-node apply (re-creates the changed settings' Podman secrets and "
        f"recreates the {APP} members that use them; data is kept)",
    ]
    rc, document = agent.apply()
    [result] = document["apps"]
    assert rc == 0 and result["status"] == "ok", document
    assert result["reason"] == (
        "owner setting domain changed: its Podman secret made again, "
        "set-app-web recreated with it (data kept)"
    )
    assert "DOMAIN=new.example" in env_of(agent, "set-app-web")
    after = ids(agent)
    assert after["set-app-web"] != before["set-app-web"]
    assert after["set-app-side"] == before["set-app-side"]  # it does not use the setting
    assert kept.read_text() == "written before the change\n"

    rc, document = agent.apply()  # done: nothing is made again
    assert rc == 0 and document["apps"][0]["status"] == "unchanged", document
    same = agent.run("configure", APP, "domain=new.example")
    assert same.stdout.splitlines() == [f"{APP}: domain unchanged", f"{APP}: nothing changed"]
    rc, document = agent.apply()
    assert rc == 0 and document["apps"][0]["status"] == "unchanged", document
    assert ids(agent) == after
