"""The Quadlet engine for real: the frozen agent as the node user of a Debian 13 system
container, its units run by that user's systemd (tests/realparts/systemd_container.py).

What the podman engine's tests prove, here under systemd: install writes the units and
starts the members in dependency order, each only once the one it needs is healthy;
stop/start/restart go through ``systemctl --user``; a failed update rolls back to the
previous units; uninstall keeps data, purge removes it; an apply with nothing changed
makes no ``daemon-reload``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.runtime_names import member_unit_name
from tests.integration.lifecycle.gate_apps import WELCOME, gate_manifest
from tests.integration.systemd.container_node import (
    DATA_ROOT,
    HOOK_SOURCES,
    STATE_ROOT,
    ContainerNode,
    gate_catalog_for_container,
)
from tests.realparts.systemd_container import SystemContainer
from tests.realparts.wait import poll_until
from tests.support.catalogs import catalog_of, changed, with_member_changes

pytestmark = [pytest.mark.systemd, pytest.mark.integration]


def service(app_id: str, member: str) -> str:
    return f"{member_unit_name(app_id, member)}.service"


@pytest.fixture
def node(systemd_node: SystemContainer) -> Iterator[ContainerNode]:
    node = ContainerNode(systemd_node)
    node.reset()
    node.setup()
    yield node
    node.reset()


def result_of(document: dict[str, object], app_id: str) -> dict[str, object]:
    results = document.get("apps")
    assert isinstance(results, list), document
    [found] = [r for r in results if isinstance(r, dict) and r.get("app") == app_id]
    return found


def test_install_starts_members_in_dependency_order_once_each_is_healthy(
    node: ContainerNode,
) -> None:
    node.publish(gate_catalog_for_container(("gate-stack",)))
    code, document, stderr = node.agent("install", "gate-stack")
    assert code == 0, (document, stderr)
    assert result_of(document, "gate-stack")["status"] == "ok"

    members = ("gate-stack-store", "gate-stack-api", "gate-stack-web")
    units = node.unit_files()
    for member in members:
        assert f"{member_unit_name('gate-stack', member)}.container" in units
        assert node.active_state(service("gate-stack", member)) == "active"
        health = node.box.run_as_node(
            ["podman", "inspect", "--format", "{{.State.Health.Status}}", member]
        )
        assert health.stdout.decode().strip() == "healthy"

    def stamp(member: str, prop: str) -> int:
        return int(node.box.user_unit_property(service("gate-stack", member), prop))

    # each member's process started only after the one it needs was active, which with
    # Notify=healthy means healthy
    for needed, needing in itertools.pairwise(members):
        ready = stamp(needed, "ActiveEnterTimestampMonotonic")
        started = stamp(needing, "ExecMainStartTimestampMonotonic")
        assert 0 < ready <= started, (needed, needing)


def test_apply_with_nothing_changed_makes_no_daemon_reload(node: ContainerNode) -> None:
    node.publish(gate_catalog_for_container(("gate-web",)))
    code, document, stderr = node.agent("install", "gate-web")
    assert code == 0, (document, stderr)
    before = node.generator_stamp()

    code, document, stderr = node.agent("apply")
    assert code == 0, (document, stderr)
    assert result_of(document, "gate-web")["status"] == "unchanged"
    assert node.generator_stamp() == before

    # the stamp does move on a reload (so the assertion above can fail)
    node.box.systemctl_user("daemon-reload")
    assert node.generator_stamp() != before


def test_stop_start_restart_go_through_systemctl_user(node: ContainerNode) -> None:
    node.publish(gate_catalog_for_container(("gate-web",)))
    code, document, stderr = node.agent("install", "gate-web")
    assert code == 0, (document, stderr)
    unit = service("gate-web", "gate-web")
    first = node.box.user_unit_property(unit, "InvocationID")

    code, document, stderr = node.agent("stop", "gate-web")
    assert code == 0, (document, stderr)
    assert node.active_state(unit) == "inactive"
    # a stopped app stays stopped through an apply
    code, document, _ = node.agent("apply")
    assert code == 0 and node.active_state(unit) == "inactive", document

    code, document, stderr = node.agent("start", "gate-web")
    assert code == 0, (document, stderr)
    assert node.active_state(unit) == "active"
    started = node.box.user_unit_property(unit, "InvocationID")
    assert started != first

    code, document, stderr = node.agent("restart", "gate-web")
    assert code == 0, (document, stderr)
    assert node.active_state(unit) == "active"
    assert node.box.user_unit_property(unit, "InvocationID") not in (first, started)


def test_failed_update_rolls_back_to_the_previous_units(node: ContainerNode) -> None:
    good = gate_manifest("gate-web", Path(HOOK_SOURCES))
    node.publish(catalog_of([good]))
    code, document, stderr = node.agent("install", "gate-web")
    assert code == 0, (document, stderr)
    units_before = node.unit_files()
    data_before = node.box.read_file(f"{DATA_ROOT}/gate-web/data/first-start")

    broken = with_member_changes(
        changed(good, revision=2), "gate-web", command=["/bin/sh", "-c", "exit 3"]
    )
    node.publish(catalog_of([broken]))
    code, document, stderr = node.agent("apply")
    assert code == 1, (document, stderr)
    result = result_of(document, "gate-web")
    assert result["status"] == "failed"
    assert "rolled back to 1.0.0-r1" in str(result["reason"]), result

    assert node.unit_files() == units_before
    unit = service("gate-web", "gate-web")
    poll_until(lambda: node.active_state(unit) == "active", timeout=120,
               what="the rolled-back gate-web to be active")  # fmt: skip
    assert node.box.read_file(f"{DATA_ROOT}/gate-web/data/first-start") == data_before


def test_a_failed_install_leaves_no_unit_that_would_start_at_boot(node: ContainerNode) -> None:
    good = gate_manifest("gate-web", Path(HOOK_SOURCES))
    broken = with_member_changes(good, "gate-web", command=["/bin/sh", "-c", "exit 3"])
    node.publish(catalog_of([broken]))
    code, document, stderr = node.agent("install", "gate-web")
    assert code == 1, (document, stderr)
    result = result_of(document, "gate-web")
    assert result["status"] == "failed"
    assert "install of 1.0.0-r1 failed" in str(result["reason"])
    assert "exit-code, exit status 3" in str(result["reason"]), result
    assert not [name for name in node.unit_files() if "gate-web" in name]
    unit = service("gate-web", "gate-web")
    assert node.box.user_unit_property(unit, "LoadState") == "not-found"


def test_systemctl_restart_of_a_member_keeps_what_its_hooks_wrote(node: ContainerNode) -> None:
    node.publish(gate_catalog_for_container(("gate-vault",)))
    code, document, stderr = node.agent("install", "gate-vault")
    assert code == 0, (document, stderr)
    vault = f"{DATA_ROOT}/gate-vault/vault"
    hooked = {name: node.box.read_file(f"{vault}/{name}") for name in ("installed", "welcome.txt")}
    assert hooked["welcome.txt"] == WELCOME
    unit = service("gate-vault", "gate-vault")
    first = node.box.user_unit_property(unit, "InvocationID")

    node.box.systemctl_user("restart", unit)  # systemd's own restart, no agent

    assert node.box.user_unit_property(unit, "InvocationID") != first
    assert node.active_state(unit) == "active"
    assert {name: node.box.read_file(f"{vault}/{name}") for name in hooked} == hooked
    code, document, stderr = node.agent("apply")  # the hooks are not run again
    assert code == 0 and result_of(document, "gate-vault")["status"] == "unchanged", document
    assert {name: node.box.read_file(f"{vault}/{name}") for name in hooked} == hooked


def test_an_adopted_container_is_never_recreated_by_its_unit(node: ContainerNode) -> None:
    """Quadlet's unit runs ``podman run --replace``: starting it would replace the adopted
    container, so the engine starts, stops and restarts that one in place."""
    box = node.box
    data = f"{DATA_ROOT}/gate-web/data"
    box.run_as_node(["mkdir", "-p", data])
    box.run_as_node(
        ["podman", "run", "-d", "--name", "gate-web", "-v", f"{data}:/data",
         "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/index.html",
         "localhost/archy-test-busybox:1", "httpd", "-f", "-p", "8080", "-h", "/www"]
    )  # fmt: skip
    adopted = node.box.run_as_node(["podman", "inspect", "--format", "{{.Id}}", "gate-web"])
    first_id = adopted.stdout.decode().strip()

    def container() -> tuple[str, str]:
        out = box.run_as_node(
            ["podman", "inspect", "--format", "{{.Id}} {{.State.Status}}", "gate-web"]
        ).stdout.decode()
        ident, _, state = out.strip().partition(" ")
        return ident, state

    manifest = gate_manifest("gate-web", Path(HOOK_SOURCES))
    adopting = changed(manifest, migration={"adopt": ["gate-web"]})
    node.publish(catalog_of([adopting]))
    code, document, stderr = node.agent("install", "gate-web")
    assert code == 0, (document, stderr)
    assert container() == (first_id, "running")

    code, document, stderr = node.agent("stop", "gate-web")
    assert code == 0, (document, stderr)
    assert container() == (first_id, "exited")
    code, document, stderr = node.agent("start", "gate-web")
    assert code == 0, (document, stderr)
    assert container() == (first_id, "running")
    code, document, stderr = node.agent("restart", "gate-web")
    assert code == 0, (document, stderr)
    assert container() == (first_id, "running")


def test_uninstall_keeps_data_and_secrets_and_purge_removes_them(node: ContainerNode) -> None:
    node.publish(gate_catalog_for_container(("gate-vault",)))
    code, document, stderr = node.agent("install", "gate-vault")
    assert code == 0, (document, stderr)
    digest = node.box.read_file(f"{DATA_ROOT}/gate-vault/vault/secrets.sha256")
    token = node.box.read_file(f"{STATE_ROOT}/secrets/gate-vault/token")
    unit = service("gate-vault", "gate-vault")

    code, document, stderr = node.agent("uninstall", "gate-vault")
    assert code == 0, (document, stderr)
    assert not [name for name in node.unit_files() if "gate-vault" in name]
    assert node.box.user_unit_property(unit, "LoadState") == "not-found"
    assert node.box.read_file(f"{DATA_ROOT}/gate-vault/vault/secrets.sha256") == digest
    assert node.box.read_file(f"{STATE_ROOT}/secrets/gate-vault/token") == token

    code, document, stderr = node.agent("apply", "--purge", "gate-vault")
    assert code == 0, (document, stderr)
    gone = node.box.exec_root(["test", "-e", f"{DATA_ROOT}/gate-vault"], check=False)
    assert gone.returncode == 1
    gone = node.box.exec_root(["test", "-e", f"{STATE_ROOT}/secrets/gate-vault"], check=False)
    assert gone.returncode == 1
