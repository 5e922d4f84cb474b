"""Rootless Podman as the non-root test user (DESIGN §8).

``scripts/setup-test-env`` creates the user (``archytest``, or
``$ARCHY_TEST_USER``) with subuid/subgid ranges and a containers.conf for a
machine without systemd (runc, cgroupfs, no default ulimits, file events,
k8s-file logs). Tests run as root; ``RootlessPodman`` runs ``podman`` as that
user with ``setpriv`` (no PAM, no TTY, a clean environment).

Without systemd there are no healthcheck timers: a container's health only
changes when something runs ``podman healthcheck run``. ``wait_healthy``
does exactly that, in a deadline-bounded loop. (``DISABLE_HC_SYSTEMD=true``
is set so podman does not try to create the timers at start; ``podman rm``
of a container with a healthcheck still logs a harmless "unable to get
systemd connection" error on stderr.)

The first podman call after a reboot may warn on stderr that ``"/" is not a
shared mount``; it is harmless here (no mount propagation is used). Podman
keeps one ``catatonit -P`` pause process per user alive (the rootless user
namespace); that is normal.

Files the containers or ``podman build`` must read have to be readable by
the test user: pytest's ``tmp_path`` is not (it lives under a 0700 dir of
root). Use the ``podman_tmp_path`` fixture, a fresh directory owned by the
test user.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import SETUP_HINT
from .wait import poll_until

TEST_USER = os.environ.get("ARCHY_TEST_USER", "archytest")
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class PodmanError(subprocess.CalledProcessError):
    """A podman command failed; str() includes its stderr."""

    def __str__(self) -> str:
        cmd = shlex.join(self.cmd) if isinstance(self.cmd, list) else str(self.cmd)
        err = (
            self.stderr.decode(errors="replace") if isinstance(self.stderr, bytes) else self.stderr
        )
        return f"`{cmd}` exited {self.returncode}: {(err or '').strip()}"


@dataclass(frozen=True)
class RootlessPodman:
    """Runs commands as the rootless test user. Build it with ``for_user``."""

    user: str
    uid: int
    gid: int
    home: Path
    runtime_dir: Path

    @classmethod
    def for_user(cls, user: str = TEST_USER) -> RootlessPodman:
        """The test user (raises KeyError if it does not exist).

        When the tests themselves run as a non-root user, that user is used
        instead and nothing is switched.
        """
        if os.geteuid() != 0:
            pw = pwd.getpwuid(os.geteuid())
            runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{pw.pw_uid}"
        else:
            pw = pwd.getpwnam(user)
            runtime = f"/run/user/{pw.pw_uid}"
        return cls(pw.pw_name, pw.pw_uid, pw.pw_gid, Path(pw.pw_dir), Path(runtime))

    # -- environment ----------------------------------------------------
    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            "HOME": str(self.home),
            "USER": self.user,
            "LOGNAME": self.user,
            "PATH": _PATH,
            "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "DISABLE_HC_SYSTEMD": "true",
        }
        if extra:
            env.update(extra)
        return env

    def argv(self, argv: list[str]) -> list[str]:
        """``argv`` prefixed with the switch to the test user (if needed)."""
        if os.geteuid() == self.uid:
            return list(argv)
        return [
            "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
            "--", *argv,
        ]  # fmt: skip

    def ensure_runtime_dir(self) -> None:
        """Create XDG_RUNTIME_DIR (0700, owned by the user) if it is gone.

        /run may be a tmpfs; setup-test-env made it once, a reboot loses it.
        """
        if os.geteuid() != 0:
            return
        self.runtime_dir.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.runtime_dir.mkdir(mode=0o700, exist_ok=True)
        os.chown(self.runtime_dir, self.uid, self.gid)
        os.chmod(self.runtime_dir, 0o700)

    # -- running ----------------------------------------------------------
    def command(
        self,
        argv: list[str],
        *,
        check: bool = True,
        input: str | bytes | None = None,
        text: bool = True,
        timeout: float = 300.0,
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[Any]:
        """Run any command as the test user; stdout/stderr captured, no TTY."""
        if isinstance(input, str) and not text:
            input = input.encode()
        proc = subprocess.run(
            self.argv(argv),
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=text,
            timeout=timeout,
            cwd=cwd if cwd is not None else self.home,
            env=self.env(env),
        )
        if check and proc.returncode != 0:
            raise PodmanError(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc

    def run(
        self,
        *args: str,
        check: bool = True,
        input: str | bytes | None = None,
        text: bool = True,
        timeout: float = 300.0,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.CompletedProcess[Any]:
        """``podman <args>`` as the test user. Raises PodmanError if check."""
        return self.command(
            ["podman", *args], check=check, input=input, text=text, timeout=timeout, cwd=cwd
        )

    # -- conveniences -----------------------------------------------------
    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.run("info", "--format", "json").stdout)
        return info

    def image_exists(self, ref: str) -> bool:
        return self.run("image", "exists", ref, check=False).returncode == 0

    def container_exists(self, name: str) -> bool:
        return self.run("container", "exists", name, check=False).returncode == 0

    def inspect_field(self, name: str, template: str) -> str:
        """``podman inspect --format <template> <name>``, stripped."""
        return str(self.run("inspect", "--format", template, name).stdout).strip()

    def health_status(self, name: str) -> str:
        """``starting`` / ``healthy`` / ``unhealthy`` (empty: no healthcheck)."""
        return self.inspect_field(name, "{{.State.Health.Status}}")

    def logs(self, name: str) -> str:
        p = self.run("logs", name, check=False)
        return str(p.stdout + p.stderr).strip()

    def remove(self, *names: str) -> None:
        """Stop (no grace period) and remove containers; absent ones are fine."""
        if names:
            self.run("rm", "--force", "--ignore", "--time", "0", *names)

    def chown_to_user(self, path: str | os.PathLike[str]) -> None:
        """Make ``path`` (recursively) owned by the test user (needs root)."""
        if os.geteuid() != 0:
            return
        for root, dirs, files in os.walk(path):
            for n in (*dirs, *files):
                os.lchown(os.path.join(root, n), self.uid, self.gid)
        os.lchown(path, self.uid, self.gid)

    def make_tmpdir(self, prefix: str = "t") -> Path:
        """A fresh directory owned by the test user, under a base dir it owns."""
        base = Path(f"/tmp/archy-test-{self.user}")
        base.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(base, self.uid, self.gid)
        path = base / f"{prefix}-{uuid.uuid4().hex[:12]}"
        path.mkdir(mode=0o755)
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)
        return path


def wait_healthy(podman: RootlessPodman, name: str, *, timeout: float = 60.0) -> None:
    """Wait until container ``name`` is healthy.

    Runs ``podman healthcheck run`` (the check itself: no systemd timers here)
    and reads ``.State.Health.Status`` in a deadline loop. Fails at once if
    the container stops running, with its logs.
    """
    last: dict[str, str] = {"status": "?", "check": ""}

    def check() -> bool:
        state = podman.inspect_field(name, "{{.State.Status}}")
        if state not in ("running", "created", "configured", "initialized"):
            raise AssertionError(
                f"container {name} is {state} while waiting for healthy; logs:\n{podman.logs(name)}"
            )
        hc = podman.run("healthcheck", "run", name, check=False)
        last["check"] = (hc.stdout + hc.stderr).strip()
        last["status"] = podman.health_status(name)
        return last["status"] == "healthy"

    poll_until(
        check,
        timeout=timeout,
        interval=0.2,
        what=f"container {name} to become healthy",
        describe_last=lambda: (
            f"status {last['status']!r}, last check output {last['check']!r}, "
            f"logs:\n{podman.logs(name)}"
        ),
    )


def check_rootless_ready(podman: RootlessPodman) -> None:
    """Fail (with how to fix it) unless rootless podman works for the user."""
    for tool in ("podman", "setpriv", "newuidmap", "newgidmap", "slirp4netns", "runc"):
        if shutil.which(tool, path=_PATH) is None:
            pytest.fail(f"`{tool}` is not installed: {SETUP_HINT}", pytrace=False)
    conf = podman.home / ".config/containers/containers.conf"
    if not conf.is_file():
        pytest.fail(f"{conf} is missing: {SETUP_HINT}", pytrace=False)
    try:
        mode = stat.S_IMODE(os.stat("/dev/net/tun").st_mode)
    except FileNotFoundError:
        pytest.fail(f"/dev/net/tun does not exist: {SETUP_HINT}", pytrace=False)
    if os.geteuid() == 0 and mode & 0o006 != 0o006:
        pytest.fail(
            f"/dev/net/tun is mode {mode:o}; rootless port publishing needs 0666: {SETUP_HINT}",
            pytrace=False,
        )
    podman.ensure_runtime_dir()
    proc = podman.run("info", "--format", "json", check=False, timeout=120)
    if proc.returncode != 0:
        pytest.fail(
            f"`podman info` as {podman.user} failed ({proc.returncode}): "
            f"{proc.stderr.strip()}\n{SETUP_HINT}",
            pytrace=False,
        )
    info = json.loads(proc.stdout)
    host = info.get("host", {})
    got = {
        "rootless": host.get("security", {}).get("rootless"),
        "runtime": host.get("ociRuntime", {}).get("name"),
        "cgroupManager": host.get("cgroupManager"),
    }
    want = {"rootless": True, "runtime": "runc", "cgroupManager": "cgroupfs"}
    if got != want:
        pytest.fail(
            f"podman as {podman.user} is not configured as expected: got {got}, want {want} "
            f"(see {conf}); {SETUP_HINT}",
            pytrace=False,
        )


def clear_leftovers(podman: RootlessPodman) -> None:
    """Remove every container and secret of the test user: what an interrupted run left behind.

    The test user exists only for these tests, so a session starts from a clean
    engine (images stay: they are content-addressed and costly to rebuild). Two
    test sessions at once on one machine would clear each other's containers:
    run one at a time.
    """
    podman.run("rm", "--all", "--force", "--time", "0", check=False)
    podman.run("secret", "rm", "--all", check=False)


@pytest.fixture(scope="session")
def rootless_podman() -> RootlessPodman:
    """Rootless podman as the test user, checked to work (runc, cgroupfs), with no leftovers."""
    try:
        podman: RootlessPodman | None = RootlessPodman.for_user()
    except KeyError:
        podman = None
    if podman is None:
        pytest.fail(f"test user {TEST_USER!r} does not exist: {SETUP_HINT}", pytrace=False)
    check_rootless_ready(podman)
    clear_leftovers(podman)
    return podman


@pytest.fixture
def podman_tmp_path(rootless_podman: RootlessPodman) -> Iterator[Path]:
    """A fresh directory owned by the test user (build contexts, volumes)."""
    path = rootless_podman.make_tmpdir()
    yield path
    if os.geteuid() == 0:
        shutil.rmtree(path, ignore_errors=True)
    else:
        # files written by containers belong to subordinate ids
        rootless_podman.run("unshare", "rm", "-rf", str(path), check=False)
