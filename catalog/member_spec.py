"""The frozen values a container engine runs: one :class:`MemberSpec` per app member.

Both backends (Quadlet units and podman arguments) read these values and decide
nothing themselves; each value also knows its own command-line form.
:meth:`MemberSpec.to_document` is what the config hash covers, so every field that
shapes the container must appear in it.  Built by :mod:`catalog.runtime_spec`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.runtime_names import LABEL_CONFIG_HASH


@dataclass(frozen=True)
class PublishedPort:
    host_address: str
    host_port: int
    container_port: int
    protocol: Literal["tcp", "udp"]

    @property
    def publish_argument(self) -> str:
        """``127.0.0.1:8080:80/tcp`` or ``8080:80/tcp`` (every interface)."""
        host = f"{self.host_address}:" if self.host_address else ""
        return f"{host}{self.host_port}:{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class BindMount:
    host_path: str
    container_path: str
    read_only: bool
    selinux_label: Literal["Z", "z", ""]

    @property
    def volume_argument(self) -> str:
        """``host:container[:ro,Z]`` as ``podman run -v`` and ``Volume=`` take it."""
        options = [
            option for option in ("ro" if self.read_only else "", self.selinux_label) if option
        ]
        suffix = f":{','.join(options)}" if options else ""
        return f"{self.host_path}:{self.container_path}{suffix}"


@dataclass(frozen=True)
class SecretEnv:
    env_name: str
    secret_name: str

    @property
    def secret_argument(self) -> str:
        """``archy-app-pw,type=env,target=PASSWORD``."""
        return f"{self.secret_name},type=env,target={self.env_name}"


@dataclass(frozen=True)
class HealthCheck:
    command: tuple[str, ...]
    interval: str
    timeout: str
    retries: int
    start_period: str

    @property
    def command_argument(self) -> str:
        """The ``--health-cmd`` value: a JSON array, which Podman runs without a shell."""
        return json.dumps(list(self.command), ensure_ascii=True, separators=(", ", ": "))


@dataclass(frozen=True)
class MemberSpec:
    """One container of an app, normalised: what both backends run."""

    app_id: str
    name: str
    unit_name: str
    description: str
    image: str
    entrypoint: tuple[str, ...] | None
    command: tuple[str, ...] | None
    environment: tuple[tuple[str, str], ...]
    secrets: tuple[SecretEnv, ...]
    ports: tuple[PublishedPort, ...]
    mounts: tuple[BindMount, ...]
    health: HealthCheck | None
    depends_on: tuple[str, ...]
    user: str | None
    userns: str
    network: str
    network_aliases: tuple[str, ...]
    read_only_rootfs: bool
    cap_add: tuple[str, ...]
    devices: tuple[str, ...]
    memory: str | None
    cpus: str | None
    pids_limit: int | None
    data_uid: int | None
    labels: tuple[tuple[str, str], ...] = field(default=())

    @property
    def config_hash(self) -> str:
        return dict(self.labels)[LABEL_CONFIG_HASH]

    @property
    def entrypoint_argument(self) -> str | None:
        """The ``--entrypoint`` value: a JSON array (Podman's exec form), or None."""
        if self.entrypoint is None:
            return None
        return json.dumps(list(self.entrypoint), ensure_ascii=True, separators=(", ", ": "))

    @property
    def cap_drop(self) -> tuple[str, ...]:
        return ("ALL",)

    @property
    def no_new_privileges(self) -> bool:
        return True

    def to_document(self) -> dict[str, Any]:
        """Plain data (canonical-JSON-able) of everything that shapes the container."""
        return {
            "app": self.app_id,
            "name": self.name,
            "image": self.image,
            "entrypoint": None if self.entrypoint is None else list(self.entrypoint),
            "command": None if self.command is None else list(self.command),
            "environment": [list(pair) for pair in self.environment],
            "secrets": [[s.env_name, s.secret_name] for s in self.secrets],
            "ports": [
                [p.host_address, p.host_port, p.container_port, p.protocol] for p in self.ports
            ],
            "mounts": [
                [m.host_path, m.container_path, m.read_only, m.selinux_label] for m in self.mounts
            ],
            "health": None
            if self.health is None
            else {
                "command": list(self.health.command),
                "interval": self.health.interval,
                "timeout": self.health.timeout,
                "retries": self.health.retries,
                "start_period": self.health.start_period,
            },
            "depends_on": list(self.depends_on),
            "user": self.user,
            "userns": self.userns,
            "network": self.network,
            **({"network_aliases": list(self.network_aliases)} if self.network_aliases else {}),
            "read_only_rootfs": self.read_only_rootfs,
            "cap_drop": list(self.cap_drop),
            "cap_add": list(self.cap_add),
            "no_new_privileges": self.no_new_privileges,
            "devices": list(self.devices),
            "memory": self.memory,
            "cpus": self.cpus,
            "pids_limit": self.pids_limit,
            "data_uid": self.data_uid,
            "labels": [list(pair) for pair in self.labels if pair[0] != LABEL_CONFIG_HASH],
        }
