"""The node agent as a systemd service: its unit, its readiness, and ``systemctl``.

``archy-node.service`` is rendered for one node user (:func:`render_node_service`):
a *system* unit that runs ``archy-node daemon`` as the node user (``User=``),
so systemd's hardening applies without a user namespace of its own (which
would stop rootless podman from mapping its subordinate ids):

* ``Type=notify``: the daemon says ``READY=1`` after its first reconcile
  (:func:`notify`); ``Restart=on-failure`` with a growing delay
  (2 s, 5 steps, up to 60 s);
* ``KillMode=mixed``, ``TimeoutStopSec=90s``: SIGTERM goes to the agent only, which
  ends an apply between two steps (``node_runtime.daemon``) and abandons a step still
  running 30 s later (exit 143, a ``SuccessExitStatus``); then (or at the timeout)
  what is left of the unit gets SIGKILL;
* self-update (``install-service --self-update``): the daemon runs with ``--self-update``,
  the binary's directory is writable, and its exit 75 (a new binary is in place) makes
  systemd start it again at once (``RestartForceExitStatus``);
* ``NoNewPrivileges``, ``ProtectSystem=strict`` (only the state dir, the data
  root, the user's home and runtime dir are writable), ``PrivateTmp``,
  ``StateDirectory=`` for a state root under ``/var/lib``;
* ``Requires=``/``After=user@UID.service``: the user's systemd runs the
  apps' Quadlet units; the agent drives it through ``XDG_RUNTIME_DIR`` and
  the user bus;
* ``ExecStartPre=+…podman unshare true``: rootless podman's user namespace
  is made with ``newuidmap`` (setuid), which ``NoNewPrivileges`` forbids the
  agent; this one step runs unsandboxed (the ``+`` prefix) as the node user,
  and the agent's podman joins the namespace it leaves behind.

Readiness and status (:func:`notify`) speak the ``sd_notify`` datagram protocol:
systemd passes the socket in ``$NOTIFY_SOCKET`` (a filesystem path, or an abstract
socket name written with a leading ``@``); a notification is one datagram of
newline-separated ``KEY=VALUE`` lines (``READY=1``, ``STOPPING=1``, ``STATUS=…``).
Without ``$NOTIFY_SOCKET`` (not started by systemd) it does nothing and returns False.

:func:`systemctl` runs one ``systemctl`` command and raises :class:`ServiceRefused`
(a :class:`catalog.refusal.Refused`) with systemd's last error line when it fails.
``render_node_service`` is pure; the command in ``node_runtime.commands.service``
writes the unit and enables it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import PurePosixPath

from catalog.refusal import Refused

SERVICE_NAME = "archy-node.service"
SYSTEM_UNIT_DIR = "/etc/systemd/system"
RUNUSER = "/usr/sbin/runuser"
PODMAN = "/usr/bin/podman"
_STATE_PARENT = PurePosixPath("/var/lib")
NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
ABANDONED_EXIT_STATUS = 143  # node_runtime.daemon's, kept equal by a unit test
SELF_UPDATE_EXIT_STATUS = 75
STOP_TIMEOUT_SECONDS = 90  # the daemon abandons a step 30 s after SIGTERM (STOP_GRACE_SECONDS)
SYSTEMCTL_TIMEOUT = 900.0  # `enable --now` waits for READY=1 (the first reconcile)


class ServiceRefused(Refused):
    """systemd is missing, or a ``systemctl`` command failed or did not finish."""


@dataclass(frozen=True)
class ServiceSettings:
    user: str
    uid: int
    group: str
    home: str
    binary: str
    state_root: str
    data_root: str
    daemon_arguments: tuple[str, ...] = ()
    self_update: bool = False  # the daemon replaces its binary: its directory is writable


def _quote(word: str) -> str:
    """One word of a systemd command line (quoted when it has to be)."""
    if word and all(c.isalnum() or c in "/._-=:@+," for c in word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def state_directory(state_root: str) -> str | None:
    """``StateDirectory=`` for a state root directly under /var/lib, else None."""
    path = PurePosixPath(state_root)
    return path.name if path.parent == _STATE_PARENT and path.name else None


def render_node_service(settings: ServiceSettings) -> str:
    runtime = f"/run/user/{settings.uid}"
    bus = f"unix:path={runtime}/bus"
    state_dir = state_directory(settings.state_root)
    writable = [settings.data_root, settings.home, runtime]
    if state_dir is None:
        writable.insert(0, settings.state_root)
    if settings.self_update:
        writable.append(str(PurePosixPath(settings.binary).parent))
    updating = ["--self-update"] if settings.self_update else []
    daemon = [settings.binary, "daemon", "--state-root", settings.state_root,
              *settings.daemon_arguments, *updating]  # fmt: skip
    prepare = [RUNUSER, "-u", settings.user, "--", "/usr/bin/env",
               f"XDG_RUNTIME_DIR={runtime}", f"DBUS_SESSION_BUS_ADDRESS={bus}",
               PODMAN, "unshare", "true"]  # fmt: skip
    lines = [
        "# Written by `archy-node install-service`; run it again to change this file.",
        "[Unit]",
        "Description=Archipelago node agent (signed catalog, apps kept converged)",
        f"Requires=user@{settings.uid}.service",
        f"After=user@{settings.uid}.service network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=all",  # the one-file binary: Python runs in a child of MainPID
        f"User={settings.user}",
        f"Group={settings.group}",
        f"Environment=XDG_RUNTIME_DIR={runtime}",
        f"Environment=DBUS_SESSION_BUS_ADDRESS={bus}",
        "ExecStartPre=+" + " ".join(_quote(word) for word in prepare),
        "ExecStart=" + " ".join(_quote(word) for word in daemon),
        "Restart=on-failure",
        "RestartSec=2s",
        "RestartSteps=5",
        "RestartMaxDelaySec=60s",
        "TimeoutStartSec=15min",
        # SIGTERM to the agent alone: it ends its apply between two steps (its podman and
        # systemctl children finish theirs; killed, they made a sound step look failed);
        # whatever is left after it exits gets SIGKILL, as does all of it after the timeout
        "KillMode=mixed",
        f"TimeoutStopSec={STOP_TIMEOUT_SECONDS}s",
        # 143: the daemon abandoned a step after its stop grace; 75: it installed a new
        # binary and exits to be restarted onto it
        f"SuccessExitStatus={ABANDONED_EXIT_STATUS} {SELF_UPDATE_EXIT_STATUS}",
        f"RestartForceExitStatus={SELF_UPDATE_EXIT_STATUS}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        *([f"StateDirectory={state_dir}", "StateDirectoryMode=0700"] if state_dir else []),
        "ReadWritePaths=" + " ".join(_quote(path) for path in writable),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ]
    return "\n".join(lines)


def systemctl(*args: str) -> None:
    """Run ``systemctl ARGS``; refuse with its last error line when it fails."""
    try:
        process = subprocess.run(
            ["systemctl", *args], capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT
        )
    except FileNotFoundError:
        raise ServiceRefused(
            "systemctl is not installed: this machine does not run systemd"
        ) from None
    except subprocess.TimeoutExpired:
        raise ServiceRefused(
            f"`systemctl {' '.join(args)}` did not finish in {SYSTEMCTL_TIMEOUT:g}s"
        ) from None
    if process.returncode != 0:
        lines = [line for line in process.stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {process.returncode}"
        raise ServiceRefused(f"`systemctl {' '.join(args)}` failed: {reason}")


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock or something else this agent does not speak


def notify(*assignments: str) -> bool:
    """Send ``assignments`` (e.g. ``"READY=1"``) to systemd; True when sent."""
    value = os.environ.get(NOTIFY_SOCKET_ENV, "")
    address = _address(value) if value else None
    if address is None:
        return False
    message = "\n".join(assignments).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message)
        except OSError:
            return False
    return True
