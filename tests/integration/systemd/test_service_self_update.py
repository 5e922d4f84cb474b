"""Self-update under systemd: ``archy-node.service`` (``install-service --self-update``)
installs the node bundle a signed catalog names, exits 75 and is restarted by systemd onto
it; a bundle that fails its start probe is refused while the service keeps running.

The agent is installed as a node keeps it: ``/var/lib/archy-node-bin/archy-node`` linked
to ``archy-node-<16 hex>/archy-node`` (node_runtime/install_layout.py), and the unit runs
the link.  The repository (tests/integration/self_update/node_binary_repository.py, signed
by our own repository side) is built on the host and copied into the system container,
where the node's origin is a ``file://`` URL (the container has no network).  The "new
build" is the frozen bundle with one more file (another BLAKE3, the same program); the bad
one is a bundle whose ``version`` exits 1.  A drop-in gives the test's daemon a 2 s pull
interval.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from node_runtime.install_layout import bundle_directory_name
from pipeline.node_bundle_pack import write_bundle
from tests.integration.self_update.node_binary_repository import (
    NodeBinaryRepository,
    stand_in_binary,
    stand_in_bundle,
)
from tests.integration.systemd.container_node import STATE_ROOT, ContainerNode
from tests.integration.systemd.test_node_service import SERVICE, events, node, prop
from tests.realparts.systemd_container import NODE_BUNDLE, SystemContainer
from tests.realparts.wait import poll_until
from tests.support.frozen_build import frozen_binary, frozen_bundle_archive

pytestmark = [pytest.mark.systemd, pytest.mark.integration]
__all__ = ["node"]  # the fixture, shared with test_node_service

BIN_DIR = "/var/lib/archy-node-bin"
BINARY = f"{BIN_DIR}/archy-node"
REPOSITORY = "/srv/archy-repository"


def put_repository(box: SystemContainer, repository: NodeBinaryRepository) -> None:
    """The repository's files inside the container (replacing an earlier copy)."""
    box.exec_root(["rm", "-rf", REPOSITORY])
    box.copy_in(repository.directory, REPOSITORY)


def self_update_events(box: SystemContainer, invocation: str) -> list[dict[str, object]]:
    return [e for e in events(box, invocation) if e.get("event") == "self-update"]


def link_target(box: SystemContainer, path: str) -> str:
    return box.exec_root(["readlink", path]).stdout.decode().strip()


def running_exe(box: SystemContainer) -> str:
    """What the service's main process runs (`… (deleted)` if its file was replaced)."""
    pid = prop(box, "MainPID")
    return box.exec_root(["readlink", f"/proc/{pid}/exe"]).stdout.decode().strip()


def test_the_service_updates_itself_and_rolls_back_a_bad_binary(
    node: ContainerNode, tmp_path: Path
) -> None:
    box = node.box
    installed_archive = frozen_bundle_archive().read_bytes()
    installed = bundle_directory_name(blake3_hex(installed_archive))
    next_bundle = tmp_path / "next-build"
    shutil.copytree(frozen_binary().parent, next_bundle, symlinks=True)
    (next_bundle / "_internal" / "next-build.txt").write_text("the next build (test)\n")
    packed = io.BytesIO()
    write_bundle(next_bundle, packed)
    new_build = packed.getvalue()
    updated_to = bundle_directory_name(blake3_hex(new_build))
    repository = NodeBinaryRepository(tmp_path / "repository")
    repository.offer(new_build)
    put_repository(box, repository)
    node.put_file("/home/node/root.json", repository.root_bytes)
    box.exec_root(["rm", "-rf", f"{STATE_ROOT}/config.json"])
    code, document, stderr = node.agent(
        "init", "--root", "/home/node/root.json", "--origin", f"file://{REPOSITORY}",
        "--data-root", "/var/lib/archipelago",
    )  # fmt: skip
    assert code == 0, (document, stderr)
    box.exec_root(["install", "-d", "-o", "node", "-g", "node", BIN_DIR])
    box.exec_root(["cp", "-a", NODE_BUNDLE, f"{BIN_DIR}/{installed}"])
    box.exec_root(["chown", "-R", "node:node", f"{BIN_DIR}/{installed}"])
    box.exec_root(["ln", "-s", f"{installed}/archy-node", BINARY])
    box.exec_root(["chown", "-h", "node:node", BINARY])

    box.exec_root([BINARY, "install-service", "--user", "node", "--binary", BINARY,
                   "--self-update", "--no-start"])  # fmt: skip
    [exec_start] = [
        line for line in box.read_file(f"/etc/systemd/system/{SERVICE}").decode().splitlines()
        if line.startswith("ExecStart=")
    ]  # fmt: skip
    assert exec_start.endswith("--self-update")
    dropin = f"/etc/systemd/system/{SERVICE}.d/pull-often.conf"
    box.exec_root(["mkdir", "-p", dropin.rsplit("/", 1)[0]])
    often = f"[Service]\nExecStart=\n{exec_start} --pull-interval 2\n"
    box.exec_root(["sh", "-c", f'cat > "{dropin}"'], input=often.encode())
    box.exec_root(["systemctl", "daemon-reload"])

    # 1. the first pull names the new build: installed, exit 75, restarted onto it
    box.exec_root(["systemctl", "start", "--no-block", SERVICE])
    poll_until(lambda: prop(box, "InvocationID") != "", timeout=120,
               what="the service to start", interval=0.2)  # fmt: skip
    first = prop(box, "InvocationID")

    def restarted_onto_the_new_build() -> bool:
        return prop(box, "InvocationID") not in ("", first) and prop(box, "ActiveState") == (
            "active"
        )

    poll_until(restarted_onto_the_new_build, timeout=300,
               what="systemd to restart the agent onto the new binary", interval=0.5)  # fmt: skip
    [updated] = self_update_events(box, first)
    assert updated["status"] == "updated" and updated["offered"] == blake3_hex(new_build)
    assert events(box, first)[-1] == {"event": "stopped",
                                      "restart": "a new node binary is in place"}  # fmt: skip
    assert link_target(box, BINARY) == f"{updated_to}/archy-node"
    assert link_target(box, f"{BINARY}.previous") == f"{installed}/archy-node"
    assert running_exe(box) == f"{BIN_DIR}/{updated_to}/archy-node"  # the new bundle runs
    second = prop(box, "InvocationID")
    pid = prop(box, "MainPID")

    # 2. a binary that fails its start probe: rolled back, the service keeps running
    bad = stand_in_bundle(stand_in_binary("archy-node 9.9.9", exit_code=1))
    repository.offer(bad)
    put_repository(box, repository)
    poll_until(lambda: self_update_events(box, second) != [], timeout=300,
               what="the running agent to pull and try the bad binary", interval=0.5)  # fmt: skip
    [rolled_back] = self_update_events(box, second)
    assert rolled_back["status"] == "rolled-back" and rolled_back["ok"] is False, rolled_back
    assert rolled_back["offered"] == blake3_hex(bad)
    assert (prop(box, "InvocationID"), prop(box, "MainPID")) == (second, pid)
    assert prop(box, "ActiveState") == "active"
    assert link_target(box, BINARY) == f"{updated_to}/archy-node"
    assert box.read_file(f"{BINARY}.rejected").decode().strip() == blake3_hex(bad)
    assert sorted(box.exec_root(["ls", "-A", BIN_DIR]).stdout.decode().split()) == sorted(
        ["archy-node", "archy-node.previous", "archy-node.rejected", installed, updated_to]
    )

    box.exec_root(["systemctl", "stop", SERVICE])
    assert prop(box, "Result") == "success"
    box.exec_root(["rm", "-rf", dropin.rsplit("/", 1)[0], BIN_DIR, REPOSITORY])
