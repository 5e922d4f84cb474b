"""Hooks that last, through rootless podman and the real agent command line.

An IndeeHub-style patch (seed §8b: the node's ``nostr-provider.js`` copied into the
frontend's web root and a ``<script>`` tag added to its page, both in the
container's writable layer) must be there after the member is recreated by an
update, after a restart, and after a simulated reboot; a ``pre_start`` step runs
at every start of the member (it appends a line to a file in the app's data dir).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.manifest import Manifest
from catalog.systemd_syntax import split_words
from node_runtime.apply.hook_dropins import adopted_guard
from node_runtime.engines.podman_engine import process_alive
from tests.integration.lifecycle.gate import kill_like_a_power_loss
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.realparts.wait import poll_until
from tests.support.catalogs import catalog_of

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APP = "hook-hub"
PROVIDER_JS = b"window.nostr = window.nostr || {provider: 'archipelago'};\n"
SCRIPT_TAG = '<script src="/nostr-provider.js"></script>'


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("hooks"))
    node.setup()
    (node.hook_sources / "nostr-provider.js").write_bytes(PROVIDER_JS)
    yield node
    if node.run("uninstall", APP).returncode == 0:
        node.apply("--purge", APP)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def hub_manifest(hook_sources: Path, port: int, revision: int = 1) -> Manifest:
    patch = f"grep -q nostr-provider.js /www/index.html || echo '{SCRIPT_TAG}' >> /www/index.html"
    document: dict[str, Any] = {
        "schema": 1, "id": APP, "name": "Hook Hub", "version": "1.0.0", "revision": revision,
        "summary": "a frontend patched after install", "description": "IndeeHub-style hooks",
        "category": "developer", "license": "MIT", "homepage": "https://example.org/hub",
        "source": "https://example.org/hub/src", "architectures": ["amd64", "arm64"],
        "containers": [{
            "name": "hook-hub-frontend",
            "image": "localhost/archy-test-busybox:1",
            "command": ["/bin/sh", "-c", 'trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'],
            "env": {"REVISION": str(revision)},
            "ports": [{"container": 8080, "host": port, "expose": "local"}],
            "volumes": [{"name": "data", "path": "/data"}],
            "data_uid": 0,
            "health": {"http": {"port": 8080, "path": "/index.html"}, "interval": "1s",
                       "timeout": "2s", "retries": 3, "start_period": "1s"},
        }],
        "hooks": {
            "post_install": [
                {"copy_from_host": {"source": str(hook_sources / "nostr-provider.js"),
                                    "container": "hook-hub-frontend",
                                    "destination": "/www/nostr-provider.js"}},
                {"exec": {"container": "hook-hub-frontend", "command": ["sh", "-c", patch]}},
            ],
            "pre_start": [
                {"exec": {"container": "hook-hub-frontend",
                          "command": ["sh", "-c", "echo start >> /data/starts"]}},
            ],
        },
    }  # fmt: skip
    return Manifest.model_validate(document)


def fetch(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        body: bytes = response.read()
    return body


def assert_patched(port: int) -> None:
    assert fetch(port, "/nostr-provider.js") == PROVIDER_JS
    assert fetch(port, "/index.html").decode().count(SCRIPT_TAG) == 1


def starts(agent: NodeAgent) -> int:
    return (agent.data_root / APP / "data" / "starts").read_text().count("start\n")


def container_id(agent: NodeAgent) -> str:
    return agent.podman.inspect_field("hook-hub-frontend", "{{.Id}}")


def expect_ok(rc: int, document: dict[str, Any], status: str = "ok") -> None:
    [result] = [a for a in document["apps"] if a["app"] == APP]
    assert rc == 0 and result["status"] == status, document
    assert result.get("warnings", []) == [], document
    assert "Traceback" not in str(document.get("stderr", ""))


def test_the_patch_survives_update_restart_and_reboot_and_pre_start_runs_at_every_start(
    agent: NodeAgent,
) -> None:
    port = free_port()
    agent.publish(catalog_of([hub_manifest(agent.hook_sources, port)]))
    expect_ok(*agent.install(APP))
    assert_patched(port)
    assert starts(agent) == 1
    first = container_id(agent)

    # an update recreates the member: a new writable layer, the patch applied again
    agent.publish(catalog_of([hub_manifest(agent.hook_sources, port, revision=2)]))
    expect_ok(*agent.apply())
    second = container_id(agent)
    assert second != first
    assert_patched(port)
    assert starts(agent) == 2

    # a restart keeps the container; pre_start runs again, the patch is not doubled
    rc, document = agent.run_json("restart", APP)
    assert rc == 0 and document["apps"][0]["status"] == "ok", document
    assert document["apps"][0].get("warnings", []) == []
    assert container_id(agent) == second
    assert_patched(port)
    assert starts(agent) == 3

    # a power loss: the boot reconcile starts the member again and runs its pre_start
    killed = kill_like_a_power_loss(agent.podman, ["hook-hub-frontend"], [port])
    poll_until(lambda: not any(process_alive(pid) for pid in killed), timeout=30,
               what="the member's processes to be dead")  # fmt: skip
    expect_ok(*agent.apply())
    assert_patched(port)
    assert starts(agent) == 4

    # nothing left to do: no hook runs twice for the same start
    expect_ok(*agent.apply(), status="unchanged")
    assert starts(agent) == 4
    record = (agent.state_root / "state" / "hook-runs" / "hook-hub-frontend").read_text()
    assert record.split()[0] == container_id(agent)


def test_a_member_restarted_behind_the_agents_back_gets_its_pre_start_at_the_next_apply(
    agent: NodeAgent,
) -> None:
    port = free_port()
    agent.publish(catalog_of([hub_manifest(agent.hook_sources, port)]))
    expect_ok(*agent.install(APP))
    assert starts(agent) == 1
    agent.podman.run("restart", "--time=1", "hook-hub-frontend")  # as a restart policy would
    rc, document = agent.apply()
    expect_ok(rc, document, status="ok")
    assert [a["change"] for a in document["apps"]] == ["repair"]  # its hooks, nothing else
    assert starts(agent) == 2
    assert_patched(port)


def test_the_adopted_guard_skips_the_unit_only_while_a_container_it_did_not_start_exists(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    """The ``ExecCondition=`` the node writes for an adopted member (apply.hook_dropins), run
    as systemd would run it, against rootless podman: 1 (skip) for a container started
    outside the unit, 0 for none and for the unit's own."""
    condition = adopted_guard("hook-hub", "hook-adopted").removeprefix("ExecCondition=")
    argv = [word.replace("$$", "$") for word in split_words(condition)]
    service = "archy-hook-hub_hook-adopted.service"

    def verdict() -> int:
        return int(rootless_podman.command(argv, check=False).returncode)

    rootless_podman.remove("hook-adopted")
    try:
        assert verdict() == 0  # no container: the unit creates it
        rootless_podman.run("run", "-d", "--name", "hook-adopted", busybox_image, "sleep", "600")
        assert verdict() == 1  # adopted, outside the unit: never replaced by it
        rootless_podman.run("rm", "-f", "-t0", "hook-adopted")
        label = f"PODMAN_SYSTEMD_UNIT={service}"
        rootless_podman.run(
            "run", "-d", "--name", "hook-adopted", "--label", label, busybox_image, "sleep", "600"
        )
        assert verdict() == 0  # the unit's own container: its restart goes on
    finally:
        rootless_podman.remove("hook-adopted")
