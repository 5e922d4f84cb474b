"""The node agent as a service: ``archy-node install-service`` under the system container's
systemd. It becomes active only once it said READY=1 (Type=notify, after its first
reconcile), is restarted by systemd when killed, stops cleanly on SIGTERM, and comes back
after a real reboot, where its first reconcile changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.runtime_names import member_unit_name
from tests.integration.systemd.container_node import ContainerNode, gate_catalog_for_container
from tests.realparts.systemd_container import NODE_BINARY, SystemContainer
from tests.realparts.wait import poll_until

pytestmark = [pytest.mark.systemd, pytest.mark.integration]

SERVICE = "archy-node.service"
APP_UNIT = f"{member_unit_name('gate-web', 'gate-web')}.service"


@pytest.fixture
def node(systemd_node: SystemContainer) -> Iterator[ContainerNode]:
    node = ContainerNode(systemd_node)
    node.reset()
    node.setup()
    yield node
    systemd_node.exec_root(["systemctl", "disable", "--now", SERVICE], check=False)
    systemd_node.exec_root(["rm", "-rf", f"/etc/systemd/system/{SERVICE}",
                            f"/etc/systemd/system/{SERVICE}.d"])  # fmt: skip
    systemd_node.exec_root(["systemctl", "daemon-reload"])
    node.reset()


def prop(box: SystemContainer, name: str) -> str:
    out = box.exec_root(["systemctl", "show", "--value", "-p", name, SERVICE]).stdout
    return out.decode().strip()


def events(box: SystemContainer, invocation: str) -> list[dict[str, Any]]:
    """The daemon's JSON event lines of one run of the service (from the journal)."""
    text = box.journal("-o", "cat", f"_SYSTEMD_INVOCATION_ID={invocation}")
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def reconciles(box: SystemContainer, invocation: str) -> list[dict[str, Any]]:
    return [e for e in events(box, invocation) if e.get("event") == "reconciled"]


def test_the_agent_runs_as_a_notify_service_and_comes_back_after_a_reboot(
    node: ContainerNode,
) -> None:
    box = node.box
    node.publish(gate_catalog_for_container(("gate-web",)))
    code, document, stderr = node.agent("install", "gate-web", "--no-apply")
    assert code == 0, (document, stderr)

    installed = box.exec_root([NODE_BINARY, "install-service", "--user", "node", "--no-pull"])
    assert b"enabled and started" in installed.stdout
    # `enable --now` of a Type=notify unit returns once READY=1 came: after the first
    # reconcile, which installed the app
    assert prop(box, "ActiveState") == "active"
    assert prop(box, "Type") == "notify"
    assert prop(box, "User") == "node"
    assert prop(box, "NoNewPrivileges") == "yes"
    first = prop(box, "InvocationID")
    [reconciled, *_] = reconciles(box, first)
    assert reconciled["ok"] is True and reconciled["changed"] == {"gate-web": "ok"}
    assert node.active_state(APP_UNIT) == "active"

    # killed: systemd restarts it (Restart=on-failure)
    pid = prop(box, "MainPID")
    box.exec_root(["kill", "-9", pid])
    poll_until(
        lambda: prop(box, "ActiveState") == "active" and prop(box, "MainPID") not in ("0", pid),
        timeout=120, what="systemd to restart the killed agent", interval=0.2,
    )  # fmt: skip
    assert int(prop(box, "NRestarts")) >= 1

    # a real reboot: the service and the app come back; the first reconcile changes nothing
    box.reboot()
    poll_until(lambda: prop(box, "ActiveState") == "active", timeout=300,
               what="archy-node.service after the reboot", interval=0.2)  # fmt: skip
    poll_until(lambda: node.active_state(APP_UNIT) == "active", timeout=300,
               what="gate-web after the reboot", interval=0.2)  # fmt: skip
    after_boot = prop(box, "InvocationID")
    [boot_reconcile, *_] = reconciles(box, after_boot)
    assert boot_reconcile["ok"] is True and boot_reconcile["changed"] == {}, boot_reconcile

    # SIGTERM: it stops cleanly (no failure, no kill after the timeout)
    box.exec_root(["systemctl", "stop", SERVICE])
    assert prop(box, "ActiveState") == "inactive"
    assert prop(box, "Result") == "success"
    assert events(box, after_boot)[-1]["event"] == "stopped"


def test_an_agent_killed_mid_apply_converges_when_systemd_restarts_it(
    node: ContainerNode,
) -> None:
    """The agent dies (exit 137, as SIGKILL) after gate-stack's store started and before its
    api did; systemd restarts it and the next reconcile finishes the install."""
    box = node.box
    node.publish(gate_catalog_for_container(("gate-stack",)))
    box.exec_root([NODE_BINARY, "install-service", "--user", "node", "--no-pull", "--no-start"])
    crash = "/etc/systemd/system/archy-node.service.d/crash.conf"
    box.exec_root(["mkdir", "-p", crash.rsplit("/", 1)[0]])
    box.exec_root(["sh", "-c", f'cat > "{crash}"'], input=(
        b"[Service]\nEnvironment=ARCHY_TEST_CRASH_AT=create-member:gate-stack:gate-stack-api\n"
    ))  # fmt: skip
    box.exec_root(["systemctl", "daemon-reload"])
    code, document, stderr = node.agent("install", "gate-stack", "--no-apply")
    assert code == 0, (document, stderr)

    box.exec_root(["systemctl", "start", "--no-block", SERVICE])

    def died() -> bool:
        return int(prop(box, "NRestarts") or 0) >= 1 or prop(box, "ExecMainStatus") == "137"

    poll_until(died, timeout=120, what="the agent to die at the crash point", interval=0.2)
    store = f"{member_unit_name('gate-stack', 'gate-stack-store')}.service"
    api = f"{member_unit_name('gate-stack', 'gate-stack-api')}.service"
    assert node.active_state(store) == "active"
    assert node.active_state(api) == "inactive"  # the apply stopped half way

    box.exec_root(["rm", "-f", crash])
    box.exec_root(["systemctl", "daemon-reload"])
    web = f"{member_unit_name('gate-stack', 'gate-stack-web')}.service"

    def converged() -> bool:
        return prop(box, "ActiveState") == "active" and node.active_state(web) == "active"

    poll_until(converged, timeout=300, what="the restarted agent to finish the install",
               interval=0.5)  # fmt: skip
    assert int(prop(box, "NRestarts")) >= 1
    box.exec_root(["systemctl", "stop", SERVICE])
    code, document, stderr = node.agent("apply")
    assert code == 0, (document, stderr)
    assert {r["app"]: r["status"] for r in document["apps"]} == {"gate-stack": "unchanged"}
