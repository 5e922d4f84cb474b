"""apply's failure branches through rootless podman, each driven by a real fault:
a fresh install whose health check fails, and a purge of an app that is still installed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.apply.catalogs import catalog_of, with_member_changes
from tests.lifecycle.gate_apps import gate_manifest
from tests.lifecycle.node_agent import NodeAgent
from tests.realparts.podman_user import RootlessPodman

pytestmark = [pytest.mark.integration, pytest.mark.podman]

NEVER_HEALTHY = {"cmd": ["false"], "interval": "1s", "timeout": "1s", "retries": 1,
                 "start_period": "1s"}  # fmt: skip


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("apply-fail"))
    node.setup()
    yield node
    if node.run("uninstall", "gate-web").returncode == 0:
        node.apply("--purge", "gate-web")
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def test_a_failed_fresh_install_leaves_no_container_and_keeps_its_data(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    broken = with_member_changes(manifest, "gate-web", health=NEVER_HEALTHY)
    agent.publish(catalog_of([broken]))
    agent.install("gate-web", "--no-apply")
    rc, document = agent.apply()
    result = {a["app"]: a for a in document["apps"]}["gate-web"]
    assert rc == 1 and result["status"] == "failed", document
    reason = str(result["reason"])
    assert reason.startswith("install of 1.0.0-r1 failed (wait-healthy:gate-web:gate-web:")
    assert "rolled back" not in reason  # nothing to roll back to on a fresh install
    assert not agent.podman.container_exists("gate-web")  # no crash-looping container left
    assert os.path.isdir(agent.data_root / "gate-web")  # its data stays


def test_purging_an_installed_app_is_refused_and_deletes_nothing(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    agent.publish(catalog_of([manifest]))
    agent.install("gate-web", "--no-apply")
    assert agent.apply()[0] == 0
    rc, document = agent.apply("--purge", "gate-web")
    assert rc == 1
    assert document["stderr"] == (
        "error: gate-web is installed; uninstall it before purging its data"
    )
    assert "Traceback" not in document["stderr"]
    assert os.path.isdir(agent.data_root / "gate-web")
    assert agent.podman.container_exists("gate-web")
