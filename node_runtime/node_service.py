"""The node agent as a systemd service: ``archy-node.service``, rendered for one node user.

A *system* unit that runs ``archy-node daemon`` as the node user (``User=``),
so systemd's hardening applies without a user namespace of its own (which
would stop rootless podman from mapping its subordinate ids):

* ``Type=notify``: the daemon says ``READY=1`` after its first reconcile
  (``node_runtime.sd_notify``); ``Restart=on-failure`` with a growing delay
  (2 s, 5 steps, up to 60 s);
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

Pure: :func:`render_node_service` returns the unit text; the command in
``node_runtime.service_commands`` writes and enables it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

SERVICE_NAME = "archy-node.service"
SYSTEM_UNIT_DIR = "/etc/systemd/system"
RUNUSER = "/usr/sbin/runuser"
PODMAN = "/usr/bin/podman"
_STATE_PARENT = PurePosixPath("/var/lib")


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
    daemon = [settings.binary, "daemon", "--state-root", settings.state_root,
              *settings.daemon_arguments]  # fmt: skip
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
        "TimeoutStopSec=10min",
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
