"""A node that ran a binary from before the ``_`` separator, moved on by one apply (podman).

The node is set up as the old binary left it (``tests/support/legacy_names.py``): the
member's container created with its secret under the old Podman name
``archy-<app>-<secret>``, that name in the applied record and the owners record, the
value file and the data dir as today.  One apply must end with the member running
from the new name, the old Podman secret gone, the same secret value in the
container, the data byte-identical, and the migration recorded so it never runs
again.  A secret whose value file is missing is never replaced by a new value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.catalog_model import CatalogApp
from catalog.manifest import Manifest
from catalog.runtime_names import LABEL_CONFIG_HASH
from catalog.runtime_spec import app_runtime_specs
from node_runtime.engines.podman_args import network_create_arguments, run_arguments
from node_runtime.store.applied import AppliedApp
from node_runtime.store.installed import InstalledApps, save_installed
from node_runtime.store.node_state import NodeState
from node_runtime.store.secret_owners import read_secret_owners, record_secret_owners
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman, wait_healthy
from tests.realparts.wait import poll_until
from tests.support.catalogs import catalog_of
from tests.support.legacy_names import legacy_catalog_app, legacy_spec

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APP = "old-names"
MEMBER = "old-names-web"
LEGACY_SECRET = "archy-old-names-db-password"
NEW_SECRET = "archy-old-names_db-password"
VALUE = b"the-value-the-old-node-made-0123"
DATA = os.urandom(65536)


def manifest(port: int) -> Manifest:
    command = (
        'printf %s "$DB_PASSWORD" > /data/seen; trap "exit 0" TERM; httpd -f -p 8080 -h /www & wait'
    )
    document: dict[str, Any] = {
        "schema": 1, "id": APP, "name": "Old Names", "version": "1.0.0", "revision": 1,
        "summary": "an app an old binary ran", "description": "naming migration",
        "category": "developer", "license": "MIT", "homepage": "https://example.org/old",
        "source": "https://example.org/old/src", "architectures": ["amd64", "arm64"],
        "containers": [{
            "name": MEMBER,
            "image": "localhost/archy-test-busybox:1",
            "command": ["/bin/sh", "-c", command],
            "env": {"DB_PASSWORD": {"secret": "db-password"}},
            "ports": [{"container": 8080, "host": port, "expose": "local"}],
            "volumes": [{"name": "data", "path": "/data"}],
            "data_uid": 0,
            "health": {"http": {"port": 8080, "path": "/index.html"}, "interval": "1s",
                       "timeout": "2s", "retries": 3, "start_period": "1s"},
        }],
        "generated_secrets": [{"name": "db-password", "length": 32}],
    }  # fmt: skip
    return Manifest.model_validate(document)


def node_as_the_old_binary_left_it(agent: NodeAgent, app: CatalogApp) -> None:
    """The state an apply of ``app`` by a binary before the ``_`` separator left behind."""
    podman, data_root = agent.podman, str(agent.data_root)
    secrets = agent.state_root / "secrets" / APP
    secrets.mkdir(mode=0o700, parents=True)
    (secrets / "db-password").write_bytes(VALUE)
    (secrets / "db-password").chmod(0o600)
    data = agent.data_root / APP / "data"
    data.mkdir(parents=True)
    (data / "keep.bin").write_bytes(DATA)
    blake3 = agent.publish(catalog_of([app.manifest]))
    save_installed(agent.paths, InstalledApps().with_app(APP))
    NodeState(agent.paths).record_applied(
        APP, AppliedApp.of(legacy_catalog_app(app), data_root, catalog_blake3=blake3)
    )
    record_secret_owners(agent.paths, APP, [LEGACY_SECRET])
    podman.chown_to_user(agent.root)
    podman.run("secret", "create", LEGACY_SECRET, "-", input=VALUE, text=False)
    podman.run(*network_create_arguments(ignore_existing=False), check=False)
    [spec] = app_runtime_specs(app.manifest, data_root)
    old = legacy_spec(spec, app.version, app.revision)
    assert old.config_hash != spec.config_hash
    podman.run(*run_arguments(old))
    wait_healthy(podman, MEMBER)


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("names"))
    node.setup()
    yield node
    rootless_podman.remove(MEMBER)
    rootless_podman.run("secret", "rm", LEGACY_SECRET, check=False)
    rootless_podman.run("secret", "rm", NEW_SECRET, check=False)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def podman_secrets(podman: RootlessPodman) -> set[str]:
    listing = podman.run("secret", "ls", "--noheading", "--format", "{{.Name}}").stdout
    return {line.strip() for line in listing.splitlines() if line.strip()}


def migrations(agent: NodeAgent) -> dict[str, Any]:
    path = agent.state_root / "state" / "migrations.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_one_apply_moves_an_old_node_to_the_new_names_keeping_data_and_secret(
    agent: NodeAgent,
) -> None:
    app = catalog_of([manifest(free_port())]).apps[APP]
    node_as_the_old_binary_left_it(agent, app)
    podman = agent.podman
    old_id = podman.inspect_field(MEMBER, "{{.Id}}")
    assert LEGACY_SECRET in podman_secrets(podman)

    rc, document = agent.apply()
    [result] = document["apps"]
    # the applied version itself, its units renamed: the same version brought back
    assert rc == 0 and result["status"] == "ok" and result["change"] == "repair", document
    assert "Traceback" not in document.get("stderr", "")
    assert document["migrated"] == [
        f"applied record of {APP}: its units",
        f"podman secret {LEGACY_SECRET} -> {NEW_SECRET}",
    ]
    assert NodeState(agent.paths).applied().apps[APP].units == app.units  # the rollback target

    [spec] = app_runtime_specs(app.manifest, str(agent.data_root))
    assert podman.inspect_field(MEMBER, "{{.Id}}") != old_id  # recreated: its secret's name
    assert podman.inspect_field(MEMBER, f'{{{{index .Config.Labels "{LABEL_CONFIG_HASH}"}}}}') \
        == spec.config_hash  # fmt: skip
    wait_healthy(podman, MEMBER)
    secrets = podman_secrets(podman)
    assert NEW_SECRET in secrets and LEGACY_SECRET not in secrets
    assert read_secret_owners(agent.paths) == {NEW_SECRET: APP}
    data = agent.data_root / APP / "data"
    assert (data / "keep.bin").read_bytes() == DATA
    poll_until(lambda: (data / "seen").exists(), timeout=30, what="the member to start")
    assert (data / "seen").read_bytes() == VALUE  # the same value, from the new name
    assert (agent.state_root / "secrets" / APP / "db-password").read_bytes() == VALUE
    assert list(migrations(agent)["done"]) == ["derived-names"]

    # done once: the next apply changes nothing and writes nothing
    before = (agent.state_root / "state" / "migrations.json").read_bytes()
    rc, document = agent.apply()
    assert rc == 0 and document["apps"][0]["status"] == "unchanged", document
    assert document["migrated"] == []
    assert (agent.state_root / "state" / "migrations.json").read_bytes() == before


def test_an_old_secret_without_its_value_file_holds_the_app_instead_of_a_new_value(
    agent: NodeAgent,
) -> None:
    app = catalog_of([manifest(free_port())]).apps[APP]
    node_as_the_old_binary_left_it(agent, app)
    podman = agent.podman
    value_file = agent.state_root / "secrets" / APP / "db-password"
    value_file.rename(agent.root / "db-password.saved")
    old_id = podman.inspect_field(MEMBER, "{{.Id}}")

    rc, document = agent.apply()
    [result] = document["apps"]
    assert rc == 1 and result["status"] == "failed", document
    assert result["reason"] == (
        f"Podman secret {LEGACY_SECRET} (its old name) has no value file {value_file}; the "
        f"node does not make a new value for {NEW_SECRET}: put the value back in that file "
        "(0600), then apply"
    )
    assert "Traceback" not in document.get("stderr", "")
    # nothing was touched: the old container runs, no new value, no new Podman secret
    assert podman.inspect_field(MEMBER, "{{.Id}}") == old_id
    assert podman.inspect_field(MEMBER, "{{.State.Status}}") == "running"
    assert not value_file.exists()
    assert podman_secrets(podman) >= {LEGACY_SECRET} and NEW_SECRET not in podman_secrets(podman)
    assert migrations(agent) == {}

    (agent.root / "db-password.saved").rename(value_file)
    rc, document = agent.apply()
    assert rc == 0 and document["apps"][0]["status"] == "ok", document
    assert podman_secrets(podman) >= {NEW_SECRET} and LEGACY_SECRET not in podman_secrets(podman)
    data = agent.data_root / APP / "data"
    poll_until(lambda: (data / "seen").exists(), timeout=30, what="the member to start")
    assert (data / "seen").read_bytes() == VALUE
    assert list(migrations(agent)["done"]) == ["derived-names"]
