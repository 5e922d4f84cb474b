"""Mapping what a Compose service asks of the sandbox: health, resources, user, isolation.

Each request is carried over faithfully (``privileged``, host namespaces, devices,
capabilities) so the security policy judges it; what has no equivalent is dropped and
said (``I004``), and every Compose key the importer does not convert is reported.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.importer.compose import HealthSpec, Service
from pipeline.importer.compose_values import byte_count, duration_ms
from pipeline.importer.mapper_base import MapperBase
from pipeline.importer.reasons import refuse

# Compose service keys: converted, dropped as expected (a note), or dropped with a consequence.
CONVERTED_KEYS = frozenset(
    {
        "image",
        "command",
        "entrypoint",
        "environment",
        "env_file",
        "ports",
        "volumes",
        "depends_on",
        "healthcheck",
        "user",
        "privileged",
        "network_mode",
        "cap_add",
        "devices",
        "read_only",
        "mem_limit",
        "cpus",
        "pids_limit",
        "deploy",
        "pid",
        "ipc",
        "userns_mode",
        "security_opt",
        "cgroup",
        "extends",
        "build",
        "profiles",
        "container_name",
        "gpus",
        "volumes_from",
    }
)


EXPECTED_KEYS = frozenset(
    {
        "restart",
        "stop_grace_period",
        "init",
        "labels",
        "logging",
        "networks",
        "hostname",
        "tty",
        "stdin_open",
        "expose",
        "platform",
        "pull_policy",
        "mem_reservation",
        "cpu_shares",
        "oom_score_adj",
        "cap_drop",
    }
)


ISOLATION_KEYS = {"pid": "host", "ipc": "host", "userns_mode": "host", "cgroup": "host"}


def as_mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def duration_text(millis: int | None) -> str | None:
    if millis is None or millis <= 0:
        return None
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if millis % size == 0 and millis // size < 1_000_000:
            return f"{millis // size}{unit}"
    return None


def memory_text(count: int | None) -> str | None:
    if count is None or count < 1024:
        return None
    for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if count % size == 0 and count // size < 10_000_000:
            return f"{count // size}{unit}"
    kib = -(-count // 1024)
    return f"{kib}k" if kib < 10_000_000 else None


class SandboxMapping(MapperBase):
    """The sandbox steps of :class:`~pipeline.importer.mapping.Mapper`."""

    def health(self, spec: HealthSpec, service: Service) -> dict[str, Any] | None:
        if spec.test is None:
            self.say(
                "I004", f"{service.name}: healthcheck disabled in the source", "note", spec.line
            )
            return None
        health: dict[str, Any] = {"cmd": spec.test}
        for key, text in (
            ("interval", spec.interval),
            ("timeout", spec.timeout),
            ("start_period", spec.start_period),
        ):
            if text is None:
                continue
            millis = duration_ms(text)
            converted = duration_text(millis)
            if converted is None:
                self.say(
                    "I004",
                    f"{service.name}: healthcheck {key} {text!r} dropped (not a "
                    "duration the manifest takes)",
                    "warning",
                    spec.line,
                )
                continue
            health[key] = converted
        if spec.retries is not None and 1 <= spec.retries <= 100:
            health["retries"] = spec.retries
        return health

    def resources(self, service: Service) -> dict[str, Any] | None:
        raw = service.raw
        deploy = as_mapping(raw.get("deploy"))
        limits = as_mapping(as_mapping(deploy.get("resources")).get("limits"))
        line = service.line_of("deploy") if limits else service.line_of("mem_limit")
        result: dict[str, Any] = {}
        memory = limits.get("memory", raw.get("mem_limit"))
        if memory is not None:
            converted = memory_text(byte_count(memory))
            if converted is None:
                self.say(
                    "I004",
                    f"{service.name}: memory limit {memory!r} dropped (unreadable or below 1 KiB)",
                    "warning",
                    line,
                )
            else:
                result["memory"] = converted
        cpus = limits.get("cpus", raw.get("cpus"))
        if cpus is not None:
            text = str(cpus).strip()
            if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,2})?", text) and float(text) > 0:
                result["cpus"] = text
            else:
                self.say("I004", f"{service.name}: cpus {cpus!r} dropped", "warning", line)
        pids = limits.get("pids", raw.get("pids_limit"))
        if isinstance(pids, int) and not isinstance(pids, bool):
            if 16 <= pids <= 1_000_000:
                result["pids"] = pids
            else:
                self.say(
                    "I004",
                    f"{service.name}: pids limit {pids} dropped (16..1000000)",
                    "warning",
                    line,
                )
        replicas = deploy.get("replicas")
        if isinstance(replicas, int) and replicas > 1:
            self.say(
                "I004",
                f"{service.name}: deploy.replicas {replicas}: one container runs here",
                "warning",
                service.line_of("deploy"),
            )
        return result or None

    def user(self, service: Service, member: dict[str, Any]) -> None:
        raw = service.raw.get("user")
        if raw is None:
            return
        text = str(raw).strip()
        text = re.sub(r"^root\b", "0", text).replace(":root", ":0")
        if re.fullmatch(r"[0-9]{1,10}(:[0-9]{1,10})?", text):
            member["user"] = text
            uid = int(text.split(":")[0])
            if member.get("volumes") and uid <= 65535:
                member["data_uid"] = uid
                self.say(
                    "I004",
                    f"{service.name}: the data dir is owned by uid {uid}, the user it runs as",
                    "note",
                    service.line_of("user"),
                )
            self.origin_member_field(member, "user", service.line_of("user"))
        else:
            self.say(
                "I004",
                f"{service.name}: user {text!r} is not numeric; dropped (the image's "
                "default user runs)",
                "warning",
                service.line_of("user"),
            )

    def origin_member_field(self, member: dict[str, Any], key: str, line: int | None) -> None:
        self.origin(f"{member['_path']}.{key}", line)

    def isolation(self, service: Service, member: dict[str, Any], path: str) -> None:
        raw = service.raw
        if raw.get("privileged") is True:
            member["privileged"] = True
            self.origin(f"{path}.privileged", service.line_of("privileged"))
        mode = raw.get("network_mode")
        if isinstance(mode, str):
            if mode == "host":
                member["host_network"] = True
                self.origin(f"{path}.host_network", service.line_of("network_mode"))
            elif mode.startswith(("service:", "container:")):
                raise refuse(
                    "I005",
                    f"{service.name}: network_mode {mode} (sharing another "
                    "container's network) has no equivalent",
                    self.file,
                    service.line_of("network_mode"),
                )
            elif mode not in ("bridge", "default"):
                self.say(
                    "I004",
                    f"{service.name}: network_mode {mode} dropped; members join archy-net",
                    "warning",
                    service.line_of("network_mode"),
                )
        for key, bad in ISOLATION_KEYS.items():
            if str(raw.get(key, "")).strip() == bad:
                raise refuse(
                    "I006",
                    f"{service.name}: {key}: {bad} shares the host's {key} "
                    "namespace; no manifest field or permission allows it",
                    self.file,
                    service.line_of(key),
                )
        for option in raw.get("security_opt") or []:
            text = str(option)
            if "unconfined" in text or "disable" in text:
                raise refuse(
                    "I006",
                    f"{service.name}: security_opt {text} turns off a "
                    "confinement; no manifest field or permission allows it",
                    self.file,
                    service.line_of("security_opt"),
                )
            self.say(
                "I004",
                f"{service.name}: security_opt {text} dropped",
                "note",
                service.line_of("security_opt"),
            )
        if raw.get("gpus") is not None:
            raise refuse(
                "I006",
                f"{service.name}: gpus: hands the host's GPUs to the container; "
                "list the devices under permissions.devices by hand",
                self.file,
                service.line_of("gpus"),
            )
        if raw.get("volumes_from") is not None:
            raise refuse(
                "I005",
                f"{service.name}: volumes_from has no equivalent; declare the "
                "volumes on each member",
                self.file,
                service.line_of("volumes_from"),
            )
        if raw.get("extends") is not None:
            raise refuse(
                "I005",
                f"{service.name}: extends: is not followed by the importer; inline the service",
                self.file,
                service.line_of("extends"),
            )
        capabilities = raw.get("cap_add") or []
        if isinstance(capabilities, list) and capabilities:
            member["cap_add"] = [str(item).upper() for item in capabilities]
            self.origin(f"{path}.cap_add", service.line_of("cap_add"))
        devices = raw.get("devices") or []
        if isinstance(devices, list) and devices:
            hosts = []
            for device in devices:
                host = (
                    device.get("source") if isinstance(device, dict) else str(device).split(":")[0]
                )
                hosts.append(str(host))
            member["devices"] = hosts
            self.origin(f"{path}.devices", service.line_of("devices"))
        if raw.get("read_only") is True:
            member["read_only_rootfs"] = True

    def leftover_keys(self, service: Service) -> None:
        for key in service.raw:
            if key in CONVERTED_KEYS or key.startswith("x-"):
                continue
            if key in EXPECTED_KEYS:
                self.say(
                    "I004",
                    f"{service.name}: {key} not converted (the node manages it)",
                    "note",
                    service.line_of(key),
                )
            else:
                self.say(
                    "I004",
                    f"{service.name}: {key} has no equivalent in the manifest; dropped",
                    "warning",
                    service.line_of(key),
                )
