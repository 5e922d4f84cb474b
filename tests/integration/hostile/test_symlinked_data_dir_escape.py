"""Finding 1 at the node: a volume dir a container (or any local process) can redirect.

Finding 1 was an app that mounts its own data dir and, inside it, an ordinary volume:
its running container could rename the inner volume's dir away and put a symlink in its
place (to, say, the node user's ``~/.config/systemd/user``), and Podman follows such a
link at the next start.  Two layers stop it:

* the manifest rule (P021, in ``catalog.runtime_spec``, which the node also runs): no
  volume on the app's data dir itself, none nested in another — such a catalog, even
  validly signed, is refused for that app at the node;
* defence in depth: the node walks every data dir without following symlinks, at every
  apply and start.  With nesting refused no container can reach its volume's dir entry,
  so the test plants the link itself, as the node user, between two applies (a fault
  injected by the test, standing for any process that could).

Real rootless podman, catalogs signed by a test registry, the real ``archy-node``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.runtime_names import podman_secret_name
from catalog.unit_check import container_unit_file
from tests.integration.hostile.test_names_owned_by_another_app import stage
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.repos import make_repository, manifest_yaml

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
    """Finding 1's manifest: the app's data dir mounted whole, and a volume inside it."""
    return manifest_yaml("escape", image=image).replace(
        '    command: ["sleep", "infinity"]\n',
        '    command: ["sleep", "infinity"]\n'
        "    volumes:\n"
        f"      - {{name: whole, path: /app, host_path: {data_root}/escape}}\n"
        "      - {name: inner, path: /inner}\n",
    )


def plain_manifest(image: str) -> str:
    """The same app with only its inner volume: what the renderer accepts."""
    return manifest_yaml("escape", image=image).replace(
        '    command: ["sleep", "infinity"]\n',
        '    command: ["sleep", "infinity"]\n    volumes:\n      - {name: inner, path: /inner}\n',
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


def test_a_signed_catalog_with_finding_1s_nested_volumes_is_refused_at_the_node(
    tmp_path: Path,
) -> None:
    """The catalog's units carry the whole-data-dir mount; the node refuses that app only."""
    data = tmp_path / "data"

    def mount_the_data_dir(units: dict[str, str]) -> dict[str, str]:
        name = container_unit_file("escape", "escape")
        inner = f"Volume={data}/escape/inner:/inner:Z\n"
        assert inner in units[name]
        units[name] = units[name].replace(inner, f"Volume={data}/escape:/app:Z\n{inner}")
        return units

    repository = make_repository(
        tmp_path / "origin",
        {
            "escape": escape_manifest("docker.io/library/busybox:1.36", data),
            "bystander": bystander_manifest("docker.io/library/busybox:1.36"),
        },
        data_root=str(data),
        render_as={"escape": plain_manifest("docker.io/library/busybox:1.36")},
        tamper_units={"escape": mount_the_data_dir},
    )
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert stage(tmp_path, *init, "--data-root", str(data)).exit_code == 0
    assert stage(tmp_path, "pull").exit_code == 0
    assert stage(tmp_path, "install", "bystander").exit_code == 0
    before = snapshot(tmp_path)

    installed = stage(tmp_path, "install", "escape", "--json")

    assert installed.exit_code == 1, installed.output
    [result] = json.loads(installed.stdout)["apps"]
    assert result["status"] == "failed"
    assert "is the app's data dir itself" in result["reason"], result["reason"]
    assert "(P021)" in result["reason"]
    assert "Traceback" not in installed.output
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if "/state/" not in k} == {
        k: v for k, v in before.items() if "/state/" not in k
    }  # no unit, data dir or secret of either app written or changed
    assert not (data / "escape").exists()


def test_a_symlink_planted_in_a_volume_dir_between_two_applies_is_refused_at_the_next_start(
    agent: NodeAgent, busybox_image: str
) -> None:
    podman = agent.podman
    data = agent.data_root
    outside = agent.root / "outside"  # stands for the node user's ~/.config/systemd/user
    outside.mkdir()
    repository = make_repository(
        agent.root / "origin",
        {
            "escape": plain_manifest(busybox_image),
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

    # the fault: a process with the node user's rights swaps the volume dir for a link
    inner = data / "escape/inner"
    podman.run("unshare", "/bin/sh", "-c",
               f"mv {inner} {inner}.old && ln -s {outside} {inner}")  # fmt: skip
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
