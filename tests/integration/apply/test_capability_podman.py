"""A capability through rootless podman (issue 13): a dependent reads the installed
provider's own Podman secret at runtime, and the provider answers to the alias."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.manifest import Manifest
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of, simple_manifest

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APPS = ("gate-wallet", "gate-coin")


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("capability"))
    node.setup()
    yield node
    for app_id in APPS:
        if node.run("uninstall", app_id, "--force").returncode == 0:
            node.apply("--purge", app_id)
    rootless_podman.run("secret", "rm", "archy-cap_gatecoin_token", check=False)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def _provider() -> Manifest:
    document: dict[str, Any] = simple_manifest(
        "gate-coin", port=18191, secrets=["token"]
    ).to_document()
    document["provides"] = [
        {
            "capability": "gatecoin",
            "alias": "gatecoind",
            "container": "gate-coin",
            "secrets": ["token"],
        }
    ]
    return Manifest.model_validate(document)


def _dependent() -> Manifest:
    document: dict[str, Any] = simple_manifest("gate-wallet", port=18192).to_document()
    document["requires"] = [{"app": "gatecoin"}]
    document["containers"][0]["env"] = {"COIN_TOKEN": {"secret": "token", "from": "gatecoin"}}
    return Manifest.model_validate(document)


def _env(agent: NodeAgent, container: str, name: str) -> str:
    script = f'printf %s "${name}"'
    return str(agent.podman.run("exec", container, "sh", "-c", script).stdout)


def test_the_dependent_reads_the_providers_one_secret_at_runtime(agent: NodeAgent) -> None:
    agent.publish(catalog_of([_provider(), _dependent()]))
    agent.install("gate-coin", "--no-apply")
    agent.install("gate-wallet", "--no-apply")
    rc, document = agent.apply()
    assert rc == 0, document
    value = (agent.state_root / "secrets/cap/gatecoin_token").read_text()
    assert len(value) == 32
    assert _env(agent, "gate-coin", "TOKEN") == value
    assert _env(agent, "gate-wallet", "COIN_TOKEN") == value
    secrets = str(agent.podman.run("secret", "ls", "--format", "{{.Name}}").stdout).split()
    assert "archy-cap_gatecoin_token" in secrets
    assert not [name for name in secrets if name.startswith("archy-gate-wallet_")]
    aliases = agent.podman.inspect_field("gate-coin", "{{json .NetworkSettings.Networks}}")
    assert '"gatecoind"' in aliases


def test_a_provider_keeps_the_value_it_had_before_it_exported_the_secret(
    agent: NodeAgent,
) -> None:
    # a node from before capabilities: gate-coin filed its token under its own name
    folder = agent.state_root / "secrets/gate-coin"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "token").write_bytes(b"made-before-capabilities")
    (folder / "token").chmod(0o600)
    agent.publish(catalog_of([_provider(), _dependent()]))
    agent.install("gate-coin", "--no-apply")
    agent.install("gate-wallet", "--no-apply")
    rc, document = agent.apply()
    assert rc == 0, document
    kept = agent.state_root / "secrets/cap/gatecoin_token"
    assert kept.read_bytes() == b"made-before-capabilities"
    assert _env(agent, "gate-coin", "TOKEN") == "made-before-capabilities"
    assert _env(agent, "gate-wallet", "COIN_TOKEN") == "made-before-capabilities"
    assert (folder / "token").read_bytes() == b"made-before-capabilities"
