"""``archy app test``: one app through the lifecycle gate, as the rootless test user.

The gate runs as a subprocess of the command (it drives the real agent); these
tests run the command the way a developer does and read what it prints.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realparts import REPO_ROOT
from tests.realparts.podman_user import RootlessPodman

GATE_WEB = REPO_ROOT / "tests/integration/lifecycle/apps/gate-web"


def archy_app_test(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    archy = Path(sys.executable).with_name("archy")
    return subprocess.run(
        [str(archy), "app", "test", *args], capture_output=True, text=True, cwd=cwd,
        timeout=900, check=False,
    )  # fmt: skip


def test_an_unknown_app_is_refused() -> None:
    done = archy_app_test("no-such-app")
    assert done.returncode == 1
    assert (
        done.stderr
        == "error: no-such-app: no such app (looked for apps/no-such-app/manifest.yml)\n"
    )


def test_an_invalid_manifest_is_refused_with_its_line(tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    shutil.copytree(GATE_WEB, apps / "gate-web")
    manifest = apps / "gate-web/manifest.yml"
    text = manifest.read_text()
    line = text.splitlines().index("    read_only_rootfs: true") + 1
    manifest.write_text(text.replace("read_only_rootfs: true", "read_only_rootfs: maybe"))
    done = archy_app_test("gate-web", "--apps-dir", str(apps))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"{manifest}:{line}: containers[0].read_only_rootfs")
    assert "Traceback" not in done.stderr


def test_a_bad_rounds_value_is_a_usage_error() -> None:
    done = archy_app_test("gate-web", "--rounds", "0")
    assert done.returncode == 2
    assert "--rounds" in done.stderr


@pytest.mark.integration
@pytest.mark.podman
def test_gate_web_passes_one_round(rootless_podman: RootlessPodman, busybox_image: str) -> None:
    done = archy_app_test("gate-web", "--rounds", "1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f"lifecycle gate: gate-web ({GATE_WEB}), 1 round(s)"
    header = next(line for line in lines if line.strip().startswith("app "))
    assert header.split() == ["app", "install", "ui", "stop", "start", "restart", "reinstall",
                              "reboot", "update", "bad-update", "agent-restart", "uninstall",
                              "purge"]  # fmt: skip
    row = next(line for line in lines if line.strip().startswith("gate-web ")).split()
    # every step ran and passed, but the two update steps only a stateful app has ("-")
    assert len(row) == 13 and "FAIL" not in row
    assert [cell for cell in row[1:] if not cell.endswith("s")] == ["-", "-"]
    assert row[8:10] == ["-", "-"]
    assert "gate PASSED" in done.stdout


@pytest.mark.integration
@pytest.mark.podman
def test_a_failing_app_fails_its_cell_with_the_reason_and_its_logs(
    rootless_podman: RootlessPodman, busybox_image: str, tmp_path: Path
) -> None:
    apps = tmp_path / "apps"
    shutil.copytree(GATE_WEB, apps / "gate-broken")
    manifest = apps / "gate-broken/manifest.yml"
    text = manifest.read_text().replace("gate-web", "gate-broken")
    command = next(line for line in text.splitlines() if line.strip().startswith("command:"))
    text = text.replace(command, "    command: [/bin/sh, -c, 'echo boom-from-the-app; exit 3']")
    manifest.write_text(text)
    done = archy_app_test("gate-broken", "--rounds", "1", "--apps-dir", str(apps))
    assert done.returncode == 1
    assert "FAIL round 1 gate-broken install: " in done.stdout
    assert "last log lines of gate-broken:" in done.stdout
    assert "boom-from-the-app" in done.stdout, done.stdout  # whole, to see why when it flakes
    assert "gate FAILED" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.integration
@pytest.mark.podman
def test_an_app_whose_image_is_not_here_is_refused_before_any_step(
    rootless_podman: RootlessPodman, tmp_path: Path
) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    subprocess.run(
        [str(Path(sys.executable).with_name("archy")), "app", "new", "demo-web",
         "--apps-dir", str(apps)], check=True, capture_output=True,
    )  # fmt: skip
    done = archy_app_test("demo-web", "--apps-dir", str(apps))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: podman (user {rootless_podman.user}) has no image "
        "docker.io/library/nginx:1.27.3 for demo-web/demo-web (offline: images are not pulled; "
        f"`podman load` or build it as {rootless_podman.user} first)"
    )
    assert "round 1" not in done.stdout
