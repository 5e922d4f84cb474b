"""Finding 1 at the node: a running container swaps a volume dir for a symlink.

The hostile (but validly signed) app mounts its own data dir and, inside it, an ordinary
volume.  Its running container renames the inner volume's dir away and puts a symlink to
a dir outside the data root in its place (standing for the node user's
``~/.config/systemd/user``).  Podman follows such a link at the next start, so the node
must not start the member, and must not create anything through the link.  Real rootless
podman, a catalog signed by a test registry, the real ``archy-node`` as the node user.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.runtime_spec import podman_secret_name
from tests.lifecycle.node_agent import NodeAgent
from tests.node.repo_factory import make_repository, manifest_yaml
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman

pytestmark = [pytest.mark.integration, pytest.mark.podman]

TOKEN = podman_secret_name("bystander", "token")
HINT = (
    "the node never follows a symlink below its data root or state root; remove it "
    "(a container may have planted it)"
)


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("escape"))
    node.setup()
    yield node
    for app_id in ("escape", "bystander"):
        if node.run("uninstall", app_id).returncode == 0:
            node.apply("--purge", app_id)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def escape_manifest(image: str, data_root: Path) -> str:
    return manifest_yaml("escape", image=image).replace(
        '    command: ["sleep", "infinity"]\n',
        '    command: ["sleep", "infinity"]\n'
        "    volumes:\n"
        f"      - {{name: whole, path: /app, host_path: {data_root}/escape}}\n"
        "      - {name: inner, path: /inner}\n",
    )


def bystander_manifest(image: str) -> str:
    return (
        manifest_yaml("bystander", image=image, host_port=free_port()).replace(
            '    command: ["sleep", "infinity"]\n',
            '    command: ["sleep", "infinity"]\n'
            "    volumes:\n      - {name: data, path: /data}\n"
            "    env:\n      TOKEN: {secret: token}\n",
        )
        + "generated_secrets:\n  - {name: token}\n"
    )


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes]]:
    found: dict[str, tuple[str, int, bytes]] = {}
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(directory, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path)] = ("link", info.st_mode, os.readlink(path).encode())
            elif stat.S_ISDIR(info.st_mode):
                found[str(path)] = ("dir", info.st_mode, b"")
            else:
                found[str(path)] = ("file", info.st_mode, path.read_bytes())
    return found


def result_of(document: dict[str, Any], app_id: str) -> dict[str, Any]:
    [result] = [a for a in document["apps"] if a["app"] == app_id]
    return result


def test_a_container_that_swaps_its_volume_dir_for_a_symlink_is_refused_at_the_next_start(
    agent: NodeAgent, busybox_image: str
) -> None:
    podman = agent.podman
    data = agent.data_root
    outside = agent.root / "outside"  # stands for the node user's ~/.config/systemd/user
    outside.mkdir()
    repository = make_repository(
        agent.root / "origin",
        {
            "escape": escape_manifest(busybox_image, data),
            "bystander": bystander_manifest(busybox_image),
        },
        data_root=str(data),
        pin_images=False,
    )
    podman.chown_to_user(agent.root)
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert agent.run(*init, "--data-root", str(data), "--force").returncode == 0
    assert agent.run("pull").returncode == 0
    for app_id in ("bystander", "escape"):
        rc, document = agent.install(app_id)
        assert rc == 0 and result_of(document, app_id)["status"] == "ok", document
    bystander_before = {
        "data": snapshot(data / "bystander"),
        "secrets": snapshot(agent.state_root / "secrets/bystander"),
        "container": podman.inspect_field("bystander", "{{.Id}}"),
        "podman secret": podman.run("secret", "inspect", "--format", "{{.ID}}",
                                    TOKEN).stdout,
    }  # fmt: skip

    # the container plants the link: /app is the app's data dir, /app/inner the inner volume's
    podman.run("exec", "escape", "/bin/sh", "-c",
               f"mv /app/inner /app/inner.old && ln -s {outside} /app/inner")  # fmt: skip
    inner = data / "escape/inner"
    assert inner.is_symlink() and os.readlink(inner) == str(outside)

    # the next apply refuses the app's data dir and writes nothing through the link
    rc, document = agent.apply()
    escape = result_of(document, "escape")
    assert rc == 1 and escape["status"] == "failed", document
    assert escape["reason"] == (
        f"create-data-dir:escape:inner: {inner} is a symlink (to {outside}); {HINT}"
    )
    assert result_of(document, "bystander")["status"] == "unchanged"
    assert "Traceback" not in document.get("stderr", "")

    # stopped, the member is not started again through the link
    rc, document = agent.run_json("stop", "escape")
    assert rc == 0, document
    rc, document = agent.run_json("start", "escape")
    escape = result_of(document, "escape")
    assert rc == 1 and escape["status"] == "failed", document
    assert escape["reason"] == (
        f"create-data-dir:escape:inner: {inner} is a symlink (to {outside}); {HINT}"
    )
    assert podman.inspect_field("escape", "{{.State.Status}}") != "running"
    assert os.listdir(outside) == []  # nothing written through the link

    # the other app: byte-identical, same container, still running
    assert {
        "data": snapshot(data / "bystander"),
        "secrets": snapshot(agent.state_root / "secrets/bystander"),
        "container": podman.inspect_field("bystander", "{{.Id}}"),
        "podman secret": podman.run("secret", "inspect", "--format", "{{.ID}}",
                                    TOKEN).stdout,
    } == bystander_before  # fmt: skip
    assert podman.inspect_field("bystander", "{{.State.Status}}") == "running"
