"""The system container itself: systemd boots, the node user's systemd runs rootless
podman 5 with its Quadlet generator, the frozen agent runs, and a reboot is a reboot."""

from __future__ import annotations

import pytest

from tests.realparts.systemd_container import NODE_BINARY, SystemContainer

pytestmark = [pytest.mark.systemd, pytest.mark.integration]


def test_node_user_session_runs_rootless_podman_5_and_the_agent(
    systemd_node: SystemContainer,
) -> None:
    assert systemd_node.system_state() in ("running", "degraded")
    version = systemd_node.run_as_node(["podman", "version", "--format", "{{.Client.Version}}"])
    assert int(version.stdout.decode().split(".")[0]) >= 5
    info = systemd_node.run_as_node(["podman", "info", "--format", "{{.Store.GraphDriverName}}"])
    assert info.stdout.decode().strip() == "vfs"
    images = systemd_node.run_as_node(["podman", "images", "--format", "{{.Repository}}"])
    assert "localhost/archy-test-busybox" in images.stdout.decode()
    agent = systemd_node.run_as_node([NODE_BINARY, "version"])
    assert agent.stdout.decode().startswith("archy-node")
    # the agent's own choice: a systemd user session is there, so Quadlet
    probe = systemd_node.run_as_node(["test", "-S", "/run/user/1000/systemd/private"], check=False)
    assert probe.returncode == 0


def init_start_time(node: SystemContainer) -> int:
    """PID 1's start time (clock ticks since the host booted), from /proc/1/stat."""
    stat = node.read_file("/proc/1/stat").decode()
    return int(stat.rsplit(")", 1)[1].split()[19])


def test_reboot_restarts_systemd_and_keeps_the_disk(systemd_node: SystemContainer) -> None:
    systemd_node.run_as_node(["sh", "-c", "echo kept > /home/node/reboot-marker"])
    systemd_node.exec_root(["sh", "-c", "echo lost > /run/reboot-marker"])
    before = init_start_time(systemd_node)

    systemd_node.reboot()

    assert systemd_node.read_file("/home/node/reboot-marker") == b"kept\n"
    assert systemd_node.exec_root(["test", "-e", "/run/reboot-marker"], check=False).returncode == 1
    assert init_start_time(systemd_node) > before  # a new PID 1
    assert systemd_node.system_state() in ("running", "degraded")
