"""Each registry's apps on a network of their own, through real rootless podman.

An official app serves HTTP on archy-net; an official dependent reaches it by container
name and by its capability alias.  Two apps of a third-party registry (entries signed by
a real did:key, units rendered on the registry's network) are installed next to them:
they reach each other by name, but from their containers the official app is neither
resolvable by name nor reachable at its IP.  The registry's network goes with its last
app; archy-net stays.

The node agent runs as the rootless test user with the podman engine
(``tests/integration/lifecycle/node_agent.py``); its current catalog is the merged
catalog a node with one added registry applies (the official entries plus the
registry's signed entries).  ``registry add``/``pull``/``install`` of that registry are
tested with the stage engine in ``test_two_registries.py`` and ``test_clashes.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from catalog.app_network import registry_network
from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from node_runtime.engines.container_engine import EngineError
from node_runtime.engines.podman_engine import PodmanEngine
from pipeline.render import render_app
from signing.developer import sign_manifest
from signing.did_key import DidKeySigner
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.engine_runner import PodmanAsTestUser
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_app, catalog_of, simple_manifest

pytestmark = [pytest.mark.integration, pytest.mark.podman]

OFFICIAL = ("sep-web", "sep-client")
GUESTS = ("sep-guest", "sep-guest2")
SIGNER = DidKeySigner.from_seed(bytes(range(32)))
DEV_NET = registry_network(SIGNER.did)

# One HTTP request with busybox nc: prints the response, exits 0 when it connected.
# A dropped packet (another isolated network) ends at the connect timeout, which only
# decides how long a refusal takes, never whether the test passes.
REQUEST = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w {timeout} {host} 8080"


def _provider() -> Manifest:
    document: dict[str, Any] = simple_manifest("sep-web", port=free_port()).to_document()
    document["provides"] = [{"capability": "sepweb", "alias": "sepwebd", "container": "sep-web"}]
    return Manifest.model_validate(document)


def _dependent() -> Manifest:
    document: dict[str, Any] = simple_manifest("sep-client", port=free_port()).to_document()
    document["requires"] = [{"app": "sepweb"}]
    return Manifest.model_validate(document)


def merged_catalog() -> AppCatalog:
    """The official apps, plus the registry's apps signed by SIGNER on its network."""
    catalog = catalog_of([_provider(), _dependent()])
    apps = dict(catalog.apps)
    for app_id in GUESTS:
        manifest = simple_manifest(app_id, port=free_port())
        entry = catalog_app(manifest, did=SIGNER.did)
        apps[app_id] = entry.model_copy(
            update={
                "developer": sign_manifest(SIGNER, manifest),
                "units": render_app(manifest, network=DEV_NET),
            }
        )
    return catalog.model_copy(update={"apps": dict(sorted(apps.items()))})


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("netsep"))
    node.setup()
    yield node
    for app_id in (*GUESTS, *OFFICIAL):
        if node.run("uninstall", app_id, "--force").returncode == 0:
            node.apply("--purge", app_id)
    rootless_podman.run("network", "rm", DEV_NET, check=False)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def _request(agent: NodeAgent, container: str, host: str, timeout: int) -> tuple[int, str]:
    script = REQUEST.format(timeout=timeout, host=host) + "; echo exit=$?"
    result = agent.podman.run("exec", container, "sh", "-c", script, check=False)
    output = str(result.stdout) + str(result.stderr)
    exit_line = [line for line in output.splitlines() if line.startswith("exit=")]
    return int(exit_line[-1].removeprefix("exit=")) if exit_line else 255, output


def _networks(agent: NodeAgent, container: str) -> list[str]:
    text = agent.podman.inspect_field(
        container, "{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{end}}"
    )
    return sorted(text.split())


def _exists(agent: NodeAgent, network: str) -> bool:
    return agent.podman.run("network", "exists", network, check=False).returncode == 0


def test_a_third_party_app_cannot_reach_an_official_app_that_official_apps_reach(
    agent: NodeAgent,
) -> None:
    agent.publish(merged_catalog())
    for app_id in (*OFFICIAL, *GUESTS):
        code, document = agent.install(app_id, "--no-apply")
        assert code == 0, document
    code, document = agent.apply()
    assert code == 0, document

    assert _networks(agent, "sep-web") == ["archy-net"]
    assert _networks(agent, "sep-client") == ["archy-net"]
    assert _networks(agent, "sep-guest") == _networks(agent, "sep-guest2") == [DEV_NET]
    for network in ("archy-net", DEV_NET):
        isolation = agent.podman.run(
            "network", "inspect", "--format", '{{index .Options "isolate"}}', network
        )
        assert str(isolation.stdout).strip() == "true", network

    # the official dependent reaches the provider by name and by its capability alias
    for host in ("sep-web", "sepwebd"):
        code, output = _request(agent, "sep-client", host, timeout=30)
        assert code == 0 and "200 OK" in output and "archy-test-busybox" in output, output
    # apps of one registry reach each other on their own network
    code, output = _request(agent, "sep-guest2", "sep-guest", timeout=30)
    assert code == 0 and "200 OK" in output, output

    # from the third-party app: no name resolves, and the official app's IP is unreachable
    for host in ("sep-web", "sepwebd"):
        code, output = _request(agent, "sep-guest", host, timeout=5)
        assert code != 0 and f"bad address '{host}'" in output, output
    official_ip = agent.podman.inspect_field(
        "sep-web", '{{(index .NetworkSettings.Networks "archy-net").IPAddress}}'
    ).strip()
    assert official_ip.count(".") == 3, official_ip
    code, output = _request(agent, "sep-guest", official_ip, timeout=5)
    assert code != 0 and "200 OK" not in output, output
    # the official app's IP still answers on archy-net (the refusal above is the network's)
    code, output = _request(agent, "sep-client", official_ip, timeout=30)
    assert code == 0 and "200 OK" in output, output

    # the registry's network stays while one of its apps uses it, and goes with the last
    code, document = agent.uninstall("sep-guest")
    assert code == 0, document
    assert _exists(agent, DEV_NET)
    code, document = agent.uninstall("sep-guest2")
    assert code == 0, document
    assert not _exists(agent, DEV_NET)
    assert _exists(agent, "archy-net")
    code, output = _request(agent, "sep-client", "sep-web", timeout=30)
    assert code == 0 and "200 OK" in output, output


def test_an_archy_net_made_without_isolation_is_made_again_once_nothing_uses_it(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    """A node whose archy-net predates isolation: podman would not drop traffic from a
    registry's network to it.  While a container is attached to it the engine refuses to
    create a registry's network and says what to do; once none is, it makes archy-net
    again, isolated, and goes on."""
    engine = PodmanEngine(PodmanAsTestUser(rootless_podman))
    removed = rootless_podman.run("network", "rm", "archy-net", check=False)
    assert removed.returncode == 0 or "network not found" in str(removed.stderr), removed.stderr
    rootless_podman.run("network", "create", "archy-net")
    attached = f"netsep-old-{free_port()}"
    rootless_podman.run("create", "--name", attached, "--network", "archy-net", busybox_image,
                        "true")  # fmt: skip
    try:
        with pytest.raises(EngineError) as refused:
            engine.create_network(DEV_NET)
        assert str(refused.value) == (
            "network archy-net exists but is not isolated (made before registries had "
            "networks of their own); stop the apps on it and `podman network rm archy-net`, "
            "then apply again"
        )
        assert not _network_exists(rootless_podman, DEV_NET)
        assert _isolation(rootless_podman, "archy-net") != "true"

        rootless_podman.run("rm", attached)
        engine.create_network(DEV_NET)
        assert _isolation(rootless_podman, "archy-net") == "true"
        assert _isolation(rootless_podman, DEV_NET) == "true"
        assert engine.observe().networks == frozenset({"archy-net", DEV_NET})
        engine.remove_network(DEV_NET)
        assert not _network_exists(rootless_podman, DEV_NET)
        with pytest.raises(EngineError, match="not a registry's network"):
            engine.remove_network("archy-net")
    finally:
        rootless_podman.run("rm", "--force", attached, check=False)
        rootless_podman.run("network", "rm", DEV_NET, check=False)
        rootless_podman.run("network", "rm", "archy-net", check=False)


def _isolation(podman: RootlessPodman, network: str) -> str:
    inspect = ["network", "inspect", "--format", '{{index .Options "isolate"}}', network]
    return str(podman.run(*inspect).stdout).strip()


def _network_exists(podman: RootlessPodman, network: str) -> bool:
    return podman.run("network", "exists", network, check=False).returncode == 0
