"""A real reboot: the outer system container stops (systemd shuts everything down) and
starts again. Apps installed through the Quadlet engine come back by themselves
(``WantedBy=default.target``), healthy, with data and secrets byte-identical, and the
agent's first apply after boot changes nothing (no step, no daemon-reload)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.runtime_names import member_unit_name
from tests.integration.lifecycle.gate_apps import ui_url
from tests.integration.systemd.container_node import (
    DATA_ROOT,
    STATE_ROOT,
    ContainerNode,
    gate_catalog_for_container,
)
from tests.realparts.systemd_container import SystemContainer
from tests.realparts.wait import poll_until

pytestmark = [pytest.mark.systemd, pytest.mark.integration]

APPS = ("gate-stack", "gate-vault")


@pytest.fixture
def node(systemd_node: SystemContainer) -> Iterator[ContainerNode]:
    node = ContainerNode(systemd_node)
    node.reset()
    node.setup()
    yield node
    node.reset()


def fingerprint(node: ContainerNode, *roots: str) -> str:
    """sha256 of every file under ``roots`` (as root: data belongs to subordinate uids)."""
    script = 'find "$@" -type f -print0 | sort -z | xargs -0 sha256sum'
    return node.box.exec_root(["sh", "-c", script, "fingerprint", *roots]).stdout.decode()


def test_after_a_reboot_every_app_is_back_by_itself_and_apply_changes_nothing(
    node: ContainerNode,
) -> None:
    catalog = gate_catalog_for_container(APPS)
    node.publish(catalog)
    for app_id in APPS:
        code, document, stderr = node.agent("install", app_id)
        assert code == 0, (document, stderr)
    services = [
        f"{member_unit_name(app_id, member.name)}.service"
        for app_id in APPS
        for member in catalog.apps[app_id].manifest.containers
    ]
    data = fingerprint(node, DATA_ROOT)
    secrets = fingerprint(node, f"{STATE_ROOT}/secrets")
    assert "secrets.sha256" in data and "welcome.txt" in data and "token" in secrets
    before = {unit: node.box.user_unit_property(unit, "InvocationID") for unit in services}

    node.box.reboot()

    # nothing but systemd runs here: the agent is not called until every app is back
    def all_active() -> bool:
        return all(node.active_state(unit) == "active" for unit in services)

    poll_until(all_active, timeout=300, what="every app's units to be active after the reboot",
               interval=0.5,
               describe_last=lambda: str({u: node.active_state(u) for u in services}))  # fmt: skip
    for unit in services:
        assert node.box.user_unit_property(unit, "InvocationID") != before[unit]
    for app_id in APPS:
        for member in catalog.apps[app_id].manifest.containers:
            health = node.box.run_as_node(
                ["podman", "inspect", "--format", "{{.State.Health.Status}}", member.name]
            )
            assert health.stdout.decode().strip() == "healthy", member.name
    vault_ui = ui_url(catalog.apps["gate-vault"].manifest)
    ui = node.box.exec_root(["curl", "-fsS", "-o", "/dev/null", "-w", "%{http_code}", vault_ui])
    assert ui.stdout == b"200"
    assert fingerprint(node, DATA_ROOT) == data
    assert fingerprint(node, f"{STATE_ROOT}/secrets") == secrets

    stamp = node.generator_stamp()
    booted = {unit: node.box.user_unit_property(unit, "InvocationID") for unit in services}
    code, document, stderr = node.agent("apply")
    assert code == 0, (document, stderr)
    assert {r["app"]: r["status"] for r in document["apps"]} == dict.fromkeys(APPS, "unchanged")
    assert node.generator_stamp() == stamp  # no daemon-reload
    for unit in services:  # and no member restarted
        assert node.box.user_unit_property(unit, "InvocationID") == booted[unit]
