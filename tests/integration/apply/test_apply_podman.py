"""apply through rootless podman, as the node user: noop, rollback, refusal."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_runtime.plan.desired import desired_app
from tests.integration.lifecycle.gate_apps import gate_manifest, ui_url
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import wait_for_http
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of, simple_manifest, with_member_changes

pytestmark = [pytest.mark.integration, pytest.mark.podman]


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("apply"))
    node.setup()
    yield node
    for app_id in ("gate-web", "gate-clash"):
        if node.run("uninstall", app_id).returncode == 0:
            node.apply("--purge", app_id)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def results(document: dict[str, object]) -> dict[str, dict[str, object]]:
    return {a["app"]: a for a in document["apps"]}  # type: ignore[index, union-attr]


def state_files(root: Path) -> dict[str, int]:
    return {
        str(path): path.stat().st_mtime_ns
        for path in root.rglob("*")
        if path.is_file() and "secrets" not in path.parts
    }


def test_an_apply_with_nothing_changed_writes_nothing(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    agent.publish(catalog_of([manifest]))
    agent.install("gate-web", "--no-apply")
    rc, document = agent.apply()
    assert rc == 0 and results(document)["gate-web"]["status"] == "ok", document
    before = state_files(agent.state_root)
    rc, document = agent.apply()
    assert rc == 0 and results(document)["gate-web"]["status"] == "unchanged", document
    assert state_files(agent.state_root) == before


def test_a_failed_update_rolls_back_to_the_applied_version_and_says_why(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    old = catalog_of([manifest])
    agent.publish(old)
    agent.install("gate-web", "--no-apply")
    assert agent.apply()[0] == 0
    old_hash = desired_app(old.apps["gate-web"], str(agent.data_root)).specs[0].config_hash
    broken = with_member_changes(
        manifest.model_copy(update={"revision": 2}),
        "gate-web",
        health={"cmd": ["false"], "interval": "1s", "timeout": "1s", "retries": 1,
                "start_period": "1s"},
    )  # fmt: skip
    agent.publish(catalog_of([broken]))
    rc, document = agent.apply()
    result = results(document)["gate-web"]
    assert rc == 1 and result["status"] == "failed"
    reason = str(result["reason"])
    assert reason.startswith("update to 1.0.0-r2 failed (wait-healthy:gate-web:gate-web:")
    assert reason.endswith("rolled back to 1.0.0-r1")
    label = agent.podman.inspect_field("gate-web", '{{index .Config.Labels "archy.config-hash"}}')
    assert label == old_hash
    wait_for_http(ui_url(manifest), timeout=30)
    status = agent.run("status", "--json")
    assert '"applied_version": "1.0.0-r1"' in status.stdout


def test_an_app_whose_host_port_another_app_uses_fails_and_disturbs_nothing(
    agent: NodeAgent,
) -> None:
    web = gate_manifest("gate-web", agent.hook_sources)
    port = web.containers[0].ports[0].host_port
    clash = simple_manifest("gate-clash", port=port)
    agent.publish(catalog_of([web, clash]))
    agent.install("gate-web", "--no-apply")
    assert agent.apply()[0] == 0
    container_id = agent.podman.inspect_field("gate-web", "{{.Id}}")
    agent.install("gate-clash", "--no-apply")
    rc, document = agent.apply()
    assert rc == 1
    assert results(document)["gate-clash"]["reason"] == (
        f"host port {port}/tcp is already used by app 'gate-web'"
    )
    assert results(document)["gate-web"]["status"] == "unchanged"
    assert agent.podman.inspect_field("gate-web", "{{.Id}}") == container_id
    assert not agent.podman.container_exists("gate-clash")
    assert not os.path.exists(agent.data_root / "gate-clash")
