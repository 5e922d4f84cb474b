"""SIGTERM stops ``archy-node.service`` promptly in every state, restart after restart.

A member's start is held by a drop-in the engine never touches (``ExecStartPre=`` that
waits for a file the test creates), so "mid-apply" is a state the test puts the agent in,
not a race it hopes to win:

1. stopped while it waits in ``systemctl --user start`` of gate-stack's api: the
   ``systemctl`` child is not killed (``KillMode=mixed``), the step ends once the test
   lets the api start, and the agent stops before its next step (``interrupted_before``);
2. stopped while the web member's start never ends: the agent gives up the step after
   its grace and dies of SIGTERM, within ``TimeoutStopSec`` (no SIGKILL by systemd);
3. started again it finishes the install (nothing was marked failed or rolled back);
   restarted while idle, again and again, each stop is clean and changes nothing.
"""

from __future__ import annotations

import time

import pytest

from catalog.runtime_names import member_unit_name
from node_runtime.daemon import STOP_GRACE_SECONDS
from node_runtime.service import STOP_TIMEOUT_SECONDS
from tests.integration.systemd.container_node import (
    UNIT_DIR,
    ContainerNode,
    gate_catalog_for_container,
)
from tests.integration.systemd.test_node_service import SERVICE, events, node, prop, reconciles
from tests.realparts.systemd_container import NODE_BINARY, SystemContainer
from tests.realparts.wait import poll_until

pytestmark = [pytest.mark.systemd, pytest.mark.integration]
__all__ = ["node"]  # the fixture, shared with test_node_service

IDLE_RESTARTS = 3


def member(name: str) -> str:
    return member_unit_name("gate-stack", name)


def hold_start(box: SystemContainer, name: str) -> str:
    """A drop-in that holds ``name``'s start until the returned file exists."""
    release = f"/home/node/release-{name}"
    dropin = f"{UNIT_DIR}/{member(name)}.container.d"
    text = (
        "[Service]\nTimeoutStartSec=infinity\n"
        f"ExecStartPre=/bin/sh -c 'while [ ! -e {release} ]; do sleep 0.1; done'\n"
    )
    box.run_as_node(["mkdir", "-p", dropin])
    box.run_as_node(["sh", "-c", f'cat > "{dropin}/hold.conf"'], input=text.encode())
    return release


def wait_stopped(box: SystemContainer, limit: float, started: float) -> float:
    poll_until(lambda: prop(box, "ActiveState") in ("inactive", "failed"), timeout=limit + 30,
               what="archy-node.service to stop", interval=0.2)  # fmt: skip
    return time.monotonic() - started


def test_sigterm_stops_the_agent_within_its_timeout_idle_and_mid_apply(
    node: ContainerNode,
) -> None:
    box = node.box
    node.publish(gate_catalog_for_container(("gate-stack",)))
    box.exec_root([NODE_BINARY, "install-service", "--user", "node", "--no-pull", "--no-start"])
    assert prop(box, "KillMode") == "mixed"
    assert prop(box, "TimeoutStopUSec") == "1min 30s"
    limit = float(STOP_TIMEOUT_SECONDS)
    assert limit > STOP_GRACE_SECONDS
    release_api = hold_start(box, "gate-stack-api")
    release_web = hold_start(box, "gate-stack-web")
    code, document, stderr = node.agent("install", "gate-stack", "--no-apply")
    assert code == 0, (document, stderr)
    api, web = f"{member('gate-stack-api')}.service", f"{member('gate-stack-web')}.service"

    # 1. SIGTERM while the agent waits in `systemctl --user start` of the api
    box.exec_root(["systemctl", "start", "--no-block", SERVICE])
    poll_until(lambda: node.active_state(api) == "activating", timeout=300,
               what="the agent to start the api", interval=0.2)  # fmt: skip
    first = prop(box, "InvocationID")
    started = time.monotonic()
    box.exec_root(["systemctl", "stop", "--no-block", SERVICE])
    poll_until(lambda: prop(box, "ActiveState") == "deactivating", timeout=60,
               what="systemd to send SIGTERM", interval=0.1)  # fmt: skip
    box.run_as_node(["touch", release_api])
    took = wait_stopped(box, limit, started)
    assert prop(box, "Result") == "success", took  # systemd's verdict: not "timeout"
    last = events(box, first)[-1]
    assert last["event"] == "stopped" and "abandoned" not in last, last
    assert last["interrupted_before"] == "wait-healthy:gate-stack:gate-stack-api", last
    assert node.active_state(api) == "active"  # its start was not cut short
    assert node.active_state(web) == "inactive"  # the agent stopped before it

    # 2. SIGTERM while the web member's start never ends: the step is abandoned
    box.exec_root(["systemctl", "start", "--no-block", SERVICE])
    poll_until(lambda: node.active_state(web) == "activating", timeout=300,
               what="the agent to start the web member", interval=0.2)  # fmt: skip
    second = prop(box, "InvocationID")
    started = time.monotonic()
    box.exec_root(["systemctl", "stop", "--no-block", SERVICE])
    took = wait_stopped(box, limit, started)
    assert prop(box, "Result") == "success", took  # died of SIGTERM: clean, not a timeout
    assert took >= STOP_GRACE_SECONDS  # it did wait for the step, then gave it up
    last = events(box, second)[-1]
    assert last["event"] == "stopped" and last["abandoned"] is True, last
    assert "timed out" not in box.journal("-u", SERVICE, f"_SYSTEMD_INVOCATION_ID={second}")

    # 3. started again, it finishes the install: nothing was marked failed
    box.run_as_node(["touch", release_web])
    box.exec_root(["systemctl", "start", SERVICE])  # returns after READY=1
    [converged, *_] = reconciles(box, prop(box, "InvocationID"))
    assert converged["ok"] is True and converged["changed"] == {"gate-stack": "ok"}, converged
    assert node.active_state(web) == "active"

    # idle restarts: each stop is clean and each restarted agent changes nothing
    for _ in range(IDLE_RESTARTS):
        before = prop(box, "InvocationID")
        poll_until(lambda: len(reconciles(box, before)) >= 1, timeout=120,  # noqa: B023
                   what="the agent's first reconcile", interval=0.2)  # fmt: skip
        box.exec_root(["systemctl", "restart", SERVICE])
        assert events(box, before)[-1] == {"event": "stopped"}
        after = prop(box, "InvocationID")
        assert after != before and prop(box, "ActiveState") == "active"
        [first_reconcile, *_] = reconciles(box, after)
        assert first_reconcile["ok"] is True and first_reconcile["changed"] == {}
    box.exec_root(["systemctl", "stop", SERVICE])
    assert prop(box, "Result") == "success"
