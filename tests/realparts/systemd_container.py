"""A real systemd in a system container (DESIGN §8, "systemd in a system container").

``scripts/build-systemd-image`` makes the image once per machine: Debian 13
(trixie) by debootstrap, systemd as PID 1, rootless podman 5 with its Quadlet
generator, and a lingering user ``node`` (uid 1000, subordinate ids, vfs
storage, ``pids_limit = 0``, network-online pulled in at boot).  Its tag is
a hash of that script, so a changed recipe builds a new image and an
unchanged one is reused.

The ``systemd_node`` fixture boots one such container per test session
(rootful podman on the host, a unique name, removed at the end), copies the
node agent in as the frozen one-dir bundle ``/usr/local/lib/archy-node-bundle/`` with
``/usr/local/bin/archy-node`` linked to its executable (built from this checkout by
``scripts/build-node-binary``, cached under ``.cache/frozen-node/<hash of the sources>/``
by ``tests.support.frozen_build``)
and imports the busybox test image into the node user's podman storage.  Tests then use:

* ``run_as_node(argv)`` — a command as ``node`` in its systemd user session
  (``XDG_RUNTIME_DIR`` and the session bus set, as a login would);
* ``systemctl_user(...)``, ``user_journal(unit)`` — its units and their logs;
* ``reboot()`` — ``podman stop`` + ``podman start`` of the outer container,
  then a wait (on conditions) until systemd says running or degraded and
  the node user's manager runs again;
* ``exec_root(argv)``, ``copy_in(src, dest)``, ``read_file(path)``.

Nothing here waits with a fixed sleep: every wait polls a condition under
a deadline (``tests.realparts.wait.poll_until``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.frozen_build import frozen_binary

from . import REPO_ROOT, SETUP_HINT
from .busybox_image import BUSYBOX_IMAGE, ROOTFS_LABEL, busybox_rootfs_tar
from .wait import poll_until

NODE_USER = "node"
NODE_UID = 1000
NODE_BINARY = "/usr/local/bin/archy-node"
NODE_BUNDLE = "/usr/local/lib/archy-node-bundle"
BOOT_TIMEOUT = 120.0
_BOOT_COMMAND = (
    "umount -R /sys/fs/cgroup && mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup"
    " && exec /sbin/init"
)


class SystemContainerError(AssertionError):
    """A command in the system container failed; the message has its output."""


def _fail(what: str, proc: subprocess.CompletedProcess[bytes]) -> SystemContainerError:
    out = (proc.stdout + proc.stderr).decode(errors="replace").strip()
    return SystemContainerError(f"{what} exited {proc.returncode}: {out[-2000:]}")


# -- the image and the agent binary -----------------------------------------------------------


def build_systemd_image() -> str:
    """The image reference (built by ``scripts/build-systemd-image`` unless cached)."""
    if os.geteuid() != 0:
        pytest.fail("the systemd tests boot a rootful system container: run them as root")
    if shutil.which("debootstrap") is None:
        pytest.fail(f"debootstrap is missing: {SETUP_HINT}", pytrace=False)
    proc = subprocess.run(
        [str(REPO_ROOT / "scripts/build-systemd-image")], capture_output=True, timeout=1800
    )
    if proc.returncode != 0:
        raise _fail("scripts/build-systemd-image", proc)
    return proc.stdout.decode().strip().splitlines()[-1]


def build_node_binary() -> Path:
    """``archy-node`` frozen from this checkout (the executable of its one-dir bundle): the
    one cached build every test uses."""
    return frozen_binary()


# -- the booted container ---------------------------------------------------------------------


@dataclass
class SystemContainer:
    """One booted system container (see the module docstring)."""

    name: str
    image: str

    # -- commands ------------------------------------------------------------------------------
    def _podman(
        self, *args: str, input: bytes | None = None, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["podman", *args],
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            timeout=timeout,
        )

    def exec_root(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        timeout: float = 300.0,
    ) -> subprocess.CompletedProcess[bytes]:
        """``argv`` as root inside the container."""
        flags = ["-i"] if input is not None else []
        proc = self._podman("exec", *flags, self.name, *argv, input=input, timeout=timeout)
        if check and proc.returncode != 0:
            raise _fail(" ".join(argv), proc)
        return proc

    def node_env(self) -> list[str]:
        runtime = f"/run/user/{NODE_UID}"
        return [
            f"HOME=/home/{NODE_USER}",
            f"USER={NODE_USER}",
            f"LOGNAME={NODE_USER}",
            "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
            "LANG=C.UTF-8",
            f"XDG_RUNTIME_DIR={runtime}",
            f"DBUS_SESSION_BUS_ADDRESS=unix:path={runtime}/bus",
        ]

    def run_as_node(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        timeout: float = 300.0,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """``argv`` as the node user, in its systemd user session, from its home."""
        extra = [f"{key}={value}" for key, value in (env or {}).items()]
        full = ["runuser", "-u", NODE_USER, "--", "env", "-C", f"/home/{NODE_USER}",
                *self.node_env(), *extra, *argv]  # fmt: skip
        return self.exec_root(full, input=input, check=check, timeout=timeout)

    def systemctl_user(
        self, *args: str, check: bool = True, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[bytes]:
        return self.run_as_node(["systemctl", "--user", *args], check=check, timeout=timeout)

    def user_unit_property(self, unit: str, prop: str) -> str:
        out = self.systemctl_user("show", "--value", "-p", prop, unit).stdout
        return out.decode().strip()

    def user_journal(self, unit: str | None = None, *, lines: int = 200) -> str:
        """The node user's journal (one user unit's, or all of it), read as root."""
        argv = ["journalctl", "--no-pager", "-o", "short-monotonic", "-n", str(lines)]
        argv += ["--user-unit", unit] if unit else [f"_UID={NODE_UID}"]
        return self.exec_root(argv, check=False).stdout.decode(errors="replace")

    def journal(self, *args: str) -> str:
        """``journalctl --no-pager ARGS`` (the system journal), read as root."""
        proc = self.exec_root(["journalctl", "--no-pager", *args], check=False)
        return proc.stdout.decode(errors="replace")

    def read_file(self, path: str) -> bytes:
        return self.exec_root(["cat", "--", path]).stdout

    def copy_in(self, source: Path, destination: str, *, owner: str = NODE_USER) -> None:
        """Copy a host file or directory into the container, owned by ``owner``."""
        proc = self._podman("cp", str(source), f"{self.name}:{destination}")
        if proc.returncode != 0:
            raise _fail(f"podman cp {source}", proc)
        self.exec_root(["chown", "-R", f"{owner}:{owner}", destination])

    # -- boot and reboot -----------------------------------------------------------------------
    def system_state(self) -> str:
        proc = self.exec_root(["systemctl", "is-system-running"], check=False, timeout=30)
        return proc.stdout.decode().strip()

    def wait_booted(self, timeout: float = BOOT_TIMEOUT) -> None:
        """Until systemd says running or degraded and the node user's manager runs."""
        last = {"state": ""}

        def booted() -> bool:
            last["state"] = self.system_state()
            return last["state"] in ("running", "degraded")

        poll_until(booted, timeout=timeout, what=f"{self.name} to boot",
                   interval=0.1, describe_last=lambda: last["state"])  # fmt: skip

        def user_manager() -> bool:
            proc = self.systemctl_user("is-system-running", check=False, timeout=30)
            last["state"] = proc.stdout.decode().strip()
            return last["state"] in ("running", "degraded")

        poll_until(user_manager, timeout=timeout, what="the node user's systemd",
                   interval=0.1, describe_last=lambda: last["state"])  # fmt: skip

    def boot(self) -> None:
        proc = self._podman(
            "run", "-d", "--privileged", "--systemd=always", "--cgroupns=private",
            "--network=none", "--hostname=archy-node",
            "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=9000:9000",
            "--name", self.name, self.image, "/bin/sh", "-c", _BOOT_COMMAND,
        )  # fmt: skip
        if proc.returncode != 0:
            raise _fail(f"booting {self.name}", proc)
        self.wait_booted()

    def reboot(self) -> None:
        """A real reboot: the outer container stops (systemd shuts down) and starts again."""
        proc = self._podman("stop", "--time=60", self.name, timeout=180)
        if proc.returncode != 0:
            raise _fail(f"podman stop {self.name}", proc)
        proc = self._podman("start", self.name)
        if proc.returncode != 0:
            raise _fail(f"podman start {self.name}", proc)
        self.wait_booted()

    def remove(self) -> None:
        self._podman("rm", "--force", "--time=0", self.name, timeout=180)

    # -- what the tests need inside -----------------------------------------------------------
    def install_node_agent(self, binary: Path) -> None:
        """The one-dir bundle whose executable is ``binary``, linked as NODE_BINARY."""
        self.exec_root(["rm", "-rf", NODE_BUNDLE, NODE_BINARY])
        proc = self._podman("cp", str(binary.parent), f"{self.name}:{NODE_BUNDLE}")
        if proc.returncode != 0:
            raise _fail("copying the node bundle in", proc)
        self.exec_root(["chown", "-R", "root:root", NODE_BUNDLE])
        self.exec_root(["chmod", "0755", NODE_BUNDLE])
        self.exec_root(["ln", "-s", f"{NODE_BUNDLE}/archy-node", NODE_BINARY])
        for path in ("/var/lib/archy-node", "/var/lib/archipelago"):
            self.exec_root(["install", "-d", "-o", NODE_USER, "-g", NODE_USER, "-m", "0755", path])

    def import_busybox_image(self) -> str:
        """``localhost/archy-test-busybox:1`` in the node user's storage (same bytes as the
        host's, see busybox_image.py)."""
        tar = busybox_rootfs_tar()
        digest = hashlib.sha256(tar).hexdigest()
        self.run_as_node(
            ["podman", "import", "--change", 'CMD ["/bin/sh"]',
             "--change", f"LABEL {ROOTFS_LABEL}={digest}", "-", BUSYBOX_IMAGE],
            input=tar,
        )  # fmt: skip
        return BUSYBOX_IMAGE


def boot_system_container(image: str) -> SystemContainer:
    container = SystemContainer(name=f"archy-sysd-{uuid.uuid4().hex[:10]}", image=image)
    try:
        container.boot()
    except BaseException:
        container.remove()
        raise
    return container


@pytest.fixture(scope="session")
def systemd_node() -> Iterator[SystemContainer]:
    """One booted system container for the session, with the node agent and busybox image."""
    image = build_systemd_image()
    binary = build_node_binary()
    container = boot_system_container(image)
    try:
        container.install_node_agent(binary)
        container.import_busybox_image()
        yield container
    finally:
        container.remove()
