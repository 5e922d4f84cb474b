"""Onion services through the real agent and rootless podman: the tor app (apps/tor, its
image swapped for the gate's Debian image, which carries Debian's tor) and a busybox app
with an ``expose: tor`` port.  Tor gets ``--DisableNetwork 1``: it makes the keys and the
``hostname`` without ever connecting anywhere.

``archy-node status --json`` shows the app's ``.onion`` once tor has made it; an update
keeps it; uninstall removes the app's service lines and keeps its keys (a reinstall gets
the same address back); ``apply --purge`` removes the keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.manifest import Manifest
from node_runtime.plan.onion_services import valid_onion_hostname
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts import REPO_ROOT
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.realparts.stateful_image import import_base_image
from tests.realparts.wait import poll_until
from tests.support.catalogs import catalog_of, manifest_from_folder, simple_manifest

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APPS = ("onion-web", "tor")


def tor_manifest(image: str) -> Manifest:
    document: dict[str, Any] = manifest_from_folder(REPO_ROOT / "apps/tor").to_document()
    [member] = document["containers"]
    member["image"] = image
    member["command"] += ["--DisableNetwork", "1"]
    for port in member["ports"]:
        port["host"] = free_port()
    # DisableNetwork closes the SOCKS listener; the control port still listens.
    member["health"] = {"tcp": {"port": 9051}, "interval": "1s", "retries": 3,
                        "start_period": "20s"}  # fmt: skip
    return Manifest.model_validate(document)


def web_manifest(port: int, revision: int = 1) -> Manifest:
    document = simple_manifest("onion-web", port=port, revision=revision).to_document()
    document["containers"][0]["ports"][0]["expose"] = "tor"
    return Manifest.model_validate(document)


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("onion"))
    node.setup()
    yield node
    for app_id in APPS:
        if node.run("uninstall", app_id).returncode == 0:
            node.apply("--purge", app_id)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def status_onion(agent: NodeAgent) -> str | None:
    result = agent.run("status", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    [app] = [a for a in json.loads(result.stdout)["apps"] if a["id"] == "onion-web"]
    return app.get("onion", "(absent)")


def wait_for_status_onion(agent: NodeAgent) -> str:
    found: list[str] = []

    def shown() -> bool:
        name = status_onion(agent)
        found[:] = [name] if name and valid_onion_hostname(name) else []
        return bool(found)

    poll_until(shown, timeout=90, what="archy-node status to show onion-web's .onion")
    return found[0]


def services_torrc(agent: NodeAgent) -> str:
    return (agent.data_root / "tor/services/services.torrc").read_text()


def test_status_shows_the_onion_kept_across_update_and_reinstall_until_purge(
    agent: NodeAgent, rootless_podman: RootlessPodman
) -> None:
    port = free_port()
    tor, web = tor_manifest(import_base_image(rootless_podman)), web_manifest(port)
    agent.publish(catalog_of([tor, web]))
    for app_id in ("tor", "onion-web"):
        rc, document = agent.install(app_id)
        assert rc == 0, document
    onion = wait_for_status_onion(agent)
    assert f"onion {onion}" in agent.run("status").stdout
    assert "HiddenServiceDir /var/lib/tor/onion-onion-web" in services_torrc(agent)
    logs = rootless_podman.logs("tor")
    assert "DisableNetwork is set" in logs, logs[-2000:]

    agent.publish(catalog_of([tor, web_manifest(port, revision=2)]))
    rc, document = agent.apply()
    assert rc == 0, document
    assert wait_for_status_onion(agent) == onion

    rc, document = agent.uninstall("onion-web")
    assert rc == 0, document
    assert "onion-web" not in services_torrc(agent)
    rc, document = agent.install("onion-web")
    assert rc == 0, document
    assert wait_for_status_onion(agent) == onion

    agent.uninstall("onion-web")
    rc, document = agent.apply("--purge", "onion-web")
    assert rc == 0, document
    keys = agent.data_root / "tor/data/onion-onion-web"
    assert rootless_podman.run("unshare", "test", "-e", str(keys), check=False).returncode == 1
