"""A companion image comes from the signed archive in the blob store (``podman load``), not
from a registry: built here from the busybox test image, saved as an OCI archive,
published as the app's companion target, pulled by the node and applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.repos import make_repository, manifest_yaml

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APP = "companion-demo"
IMAGE = f"localhost/{APP}:latest"  # what repo_factory names a companion member's image


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("companion"))
    node.setup()
    yield node
    if node.run("uninstall", APP).returncode == 0:
        node.apply("--purge", APP)
    rootless_podman.run("rmi", "--force", IMAGE, check=False)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def oci_archive(podman: RootlessPodman, base: str, directory: Path) -> tuple[bytes, str]:
    """``base`` tagged as the companion image, saved as an OCI archive, the tag removed again."""
    podman.run("tag", base, IMAGE)
    archive = directory / "companion.oci.tar"
    podman.run("save", "--format", "oci-archive", "--output", str(archive), IMAGE)
    image_id = podman.run("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    podman.run("rmi", IMAGE)
    assert podman.run("image", "inspect", IMAGE, check=False).returncode != 0
    return archive.read_bytes(), image_id


def test_apply_loads_the_companion_image_from_the_archive(
    agent: NodeAgent, busybox_image: str
) -> None:
    podman = agent.podman
    archive, image_id = oci_archive(podman, busybox_image, agent.root)
    manifest = manifest_yaml(APP, image=IMAGE, host_port=free_port())
    repository = make_repository(
        agent.root / "origin", {APP: manifest}, companions={APP: {APP: archive}}
    )
    podman.chown_to_user(agent.root)
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert agent.run(*init, "--data-root", str(agent.data_root), "--force").returncode == 0
    assert agent.run("pull").returncode == 0
    rc, document = agent.install(APP)
    assert rc == 0 and document["applied"] is False, document  # its archive is not here yet
    pulled = agent.run("pull", "--json")
    assert pulled.returncode == 0, pulled.stderr
    assert any("companions/" in name for name in json.loads(pulled.stdout)["downloaded"])

    rc, document = agent.install(APP)  # now it applies
    assert rc == 0, document
    assert document["apps"][0]["status"] == "ok"
    loaded = podman.run("image", "inspect", "--format", "{{.Id}}", IMAGE).stdout.strip()
    assert loaded == image_id
    assert podman.inspect_field(APP, "{{.State.Status}}") == "running"
