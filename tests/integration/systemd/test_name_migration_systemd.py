"""The naming migration on a real systemd: a node whose Quadlet units run under the old
``archy-<app>-<member>`` names is moved by one apply (docs/naming-migration.md).

The old state is made from an install by today's agent, turned back into what an old
binary left (``tests/support/legacy_names.py``): the unit file and its drop-in dir under
the old name (with an owner's drop-in), the Podman secrets under old names, the applied
and owners records naming them, the old service running.  After one apply the old
service must be gone (stopped, not orphaned), the new one active, the owner's drop-in
in force, the secrets and data byte-identical, the migration recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from node_runtime.store.applied import AppliedApps
from tests.integration.systemd.container_node import (
    DATA_ROOT,
    STATE_ROOT,
    UNIT_DIR,
    ContainerNode,
    gate_catalog_for_container,
)
from tests.realparts.systemd_container import SystemContainer
from tests.realparts.wait import poll_until
from tests.support.legacy_names import legacy_catalog_app, legacy_units

pytestmark = [pytest.mark.systemd, pytest.mark.integration]

APP, MEMBER = "gate-vault", "gate-vault"
OLD, NEW = "archy-gate-vault-gate-vault", "archy-gate-vault_gate-vault"
OWNER_DROPIN = b"[Container]\nEnvironment=OWNER_SETTING=kept\n"


@pytest.fixture
def node(systemd_node: SystemContainer) -> Iterator[ContainerNode]:
    node = ContainerNode(systemd_node)
    node.reset()
    node.setup()
    yield node
    node.box.systemctl_user("stop", f"{OLD}.service", check=False)
    node.reset()


def turn_into_what_an_old_binary_left(node: ContainerNode) -> None:
    box = node.box
    box.systemctl_user("stop", f"{NEW}.service")
    # units: the old file name and names inside; the drop-in dir under the old name
    box.run_as_node(["rm", "-f", f"{UNIT_DIR}/{NEW}.container"])
    box.run_as_node(["mv", f"{UNIT_DIR}/{NEW}.container.d", f"{UNIT_DIR}/{OLD}.container.d"])
    node.put_file(f"{UNIT_DIR}/{OLD}.container.d/10-owner.conf", OWNER_DROPIN)
    # the state records (installed by the agent just now): applied units and secret owners
    applied_path = f"{STATE_ROOT}/state/applied.json"
    applied = AppliedApps.model_validate_json(box.read_file(applied_path))
    record = applied.apps[APP]
    app = legacy_catalog_app(record.app)
    for name, text in legacy_units(record.app).items():
        if name.endswith(".container"):
            node.put_file(f"{UNIT_DIR}/{name}", text.encode())
    old_record = record.model_copy(update={"catalog_app": app, "units": dict(app.units)})
    applied = applied.model_copy(update={"apps": {**applied.apps, APP: old_record}})
    node.put_file(applied_path, applied.model_dump_json(by_alias=True).encode())
    owners = {f"archy-{APP}-{name}": APP for name in ("key", "token")}
    node.put_file(f"{STATE_ROOT}/state/secret-owners.json",
                  json.dumps({"schema": 1, "secrets": owners}).encode())  # fmt: skip
    # an old binary knew no migrations: the record today's install wrote goes
    box.run_as_node(["rm", f"{STATE_ROOT}/state/migrations.json"])
    # Podman secrets under the old names, made from the same value files
    for name in ("key", "token"):
        box.run_as_node(["podman", "secret", "rm", f"archy-{APP}_{name}"])
        box.run_as_node(["podman", "secret", "create", f"archy-{APP}-{name}",
                         f"{STATE_ROOT}/secrets/{APP}/{name}"])  # fmt: skip
    box.systemctl_user("daemon-reload")
    box.systemctl_user("start", f"{OLD}.service")
    assert node.active_state(f"{OLD}.service") == "active"


def test_one_apply_moves_running_old_units_to_the_new_names_on_a_real_systemd(
    node: ContainerNode,
) -> None:
    node.publish(gate_catalog_for_container((APP,)))
    code, document, stderr = node.agent("install", APP)
    assert code == 0, (document, stderr)
    vault = f"{DATA_ROOT}/{APP}/vault"
    digest = node.box.read_file(f"{vault}/secrets.sha256")
    turn_into_what_an_old_binary_left(node)
    unit_label = '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}'
    label = node.box.run_as_node(["podman", "inspect", "--format", unit_label, MEMBER])
    assert label.stdout.decode().strip() == f"{OLD}.service"
    node.box.run_as_node(["podman", "exec", MEMBER, "sh", "-c", "echo kept > /data/marker"])
    marker = node.box.read_file(f"{vault}/marker")

    code, document, stderr = node.agent("apply")
    assert code == 0, (document, stderr)
    assert "Traceback" not in stderr
    assert f"unit {OLD}.container -> {NEW}.container" in document["migrated"]
    assert node.active_state(f"{NEW}.service") == "active"
    assert node.box.user_unit_property(f"{OLD}.service", "LoadState") == "not-found"
    assert node.active_state(f"{OLD}.service") == "inactive"
    assert sorted(node.unit_files()) == [f"{NEW}.container", "archy-net.network"]
    dropins = node.box.run_as_node(["ls", "-1", f"{UNIT_DIR}/{NEW}.container.d"])
    assert sorted(dropins.stdout.decode().split()) == ["10-owner.conf", "archy-hooks.conf"]
    env = node.box.run_as_node(["podman", "inspect", "--format", "{{.Config.Env}}", MEMBER])
    assert "OWNER_SETTING=kept" in env.stdout.decode()
    listing = ["podman", "secret", "ls", "--noheading", "--format", "{{.Name}}"]
    secrets = node.box.run_as_node(listing)
    assert sorted(secrets.stdout.decode().split()) == [f"archy-{APP}_key", f"archy-{APP}_token"]
    poll_until(lambda: node.box.read_file(f"{vault}/secrets.sha256") == digest, timeout=60,
               what="the member to record the same secrets")  # fmt: skip
    assert node.box.read_file(f"{vault}/marker") == marker
    done = json.loads(node.box.read_file(f"{STATE_ROOT}/state/migrations.json"))
    assert list(done["done"]) == ["derived-names"]

    # once: the next apply changes nothing
    code, document, stderr = node.agent("apply")
    assert code == 0 and document["migrated"] == [], (document, stderr)
    assert [a["status"] for a in document["apps"]] == ["unchanged"]
