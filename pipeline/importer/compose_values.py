"""Single Compose values in every syntax the specification allows, normalised to one shape.

Ports (short ``[ip:]host:container[/proto]`` with ranges, or long form), volumes (short
``source:target[:mode]`` or long form), ``env_file`` text, durations (``1m30s``) and
byte sizes (``512m``).  A malformed value is refused naming the file and line; a port
range wider than :data:`MAX_PORT_RANGE` is refused rather than expanded.  Pure.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from pipeline.importer.reasons import refuse

MAX_PORT_RANGE = 32


@dataclass(frozen=True)
class PortSpec:
    container: int
    host: int | None
    protocol: str
    host_ip: str | None
    line: int | None


@dataclass(frozen=True)
class VolumeSpec:
    kind: str  # bind, volume, tmpfs, or another Compose type
    source: str | None
    target: str
    read_only: bool
    line: int | None


def scalar_text(value: Any) -> str:
    """A YAML scalar as Compose reads it: true/false, whole floats without ".0"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def argv_value(value: Any, filename: str, line: int | None, what: str) -> list[str] | None:
    """A command as an argument list: a string split like a shell would, or a list."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as error:
            raise refuse(
                "I001", f"{what}: cannot split {value[:60]!r}: {error}", filename, line
            ) from None
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [scalar_text(item) for item in value]
    raise refuse("I001", f"{what} must be a string or a list of strings", filename, line)


def _port_number(text: str, filename: str, line: int | None) -> list[int]:
    text = text.strip()
    first, _, last = text.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        raise refuse("I001", f"{text!r} is not a port or port range", filename, line)
    low, high = int(first), int(last or first)
    if not 1 <= low <= high <= 65535:
        raise refuse("I001", f"port {text!r} is out of range", filename, line)
    if high - low + 1 > MAX_PORT_RANGE:
        raise refuse(
            "I005",
            f"port range {text} has {high - low + 1} ports; the importer converts ranges of at "
            f"most {MAX_PORT_RANGE} (list the ports you need)",
            filename,
            line,
        )
    return list(range(low, high + 1))


def _pair_ports(
    containers: list[int],
    hosts: list[int] | None,
    protocol: str,
    host_ip: str | None,
    filename: str,
    line: int | None,
) -> list[PortSpec]:
    if hosts is not None and len(hosts) not in (1, len(containers)):
        raise refuse("I001", "host and container port ranges differ in length", filename, line)
    specs = []
    for index, container in enumerate(containers):
        host = None if hosts is None else hosts[index if len(hosts) > 1 else 0]
        specs.append(PortSpec(container, host, protocol, host_ip, line))
    return specs


def parse_port(value: Any, filename: str, line: int | None) -> list[PortSpec]:
    """Short (``"127.0.0.1:8080:80/udp"``) or long (``target:``/``published:``) port syntax."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _pair_ports(
            _port_number(str(value), filename, line), None, "tcp", None, filename, line
        )
    if isinstance(value, dict):
        target = value.get("target")
        if target is None:
            raise refuse("I001", "a long-syntax port needs target", filename, line)
        protocol = scalar_text(value.get("protocol", "tcp")).lower()
        published = value.get("published")
        hosts = (
            None
            if published in (None, "")
            else _port_number(scalar_text(published), filename, line)
        )
        host_ip = value.get("host_ip")
        return _pair_ports(
            _port_number(scalar_text(target), filename, line),
            hosts,
            protocol,
            None if host_ip is None else scalar_text(host_ip),
            filename,
            line,
        )
    if not isinstance(value, str):
        raise refuse("I001", "a port is a number, a string or a mapping", filename, line)
    text, _, protocol = value.strip().partition("/")
    protocol = (protocol or "tcp").lower()
    host_ip = None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise refuse("I001", f"port {value!r}: unclosed [ in the host address", filename, line)
        host_ip, text = text[1:close], text[close + 1 :].lstrip(":")
    parts = text.split(":")
    if len(parts) == 3 and host_ip is None:
        host_ip = parts.pop(0)
    if len(parts) == 1:
        return _pair_ports(
            _port_number(parts[0], filename, line), None, protocol, host_ip, filename, line
        )
    if len(parts) == 2:
        hosts = _port_number(parts[0], filename, line) if parts[0] else None
        return _pair_ports(
            _port_number(parts[1], filename, line), hosts, protocol, host_ip, filename, line
        )
    raise refuse(
        "I001", f"port {value!r} is not [host_ip:][host:]container[/protocol]", filename, line
    )


def parse_volume(value: Any, filename: str, line: int | None) -> VolumeSpec:
    """Short (``src:dst[:ro]``) or long (``type:``/``source:``/``target:``) volume syntax."""
    if isinstance(value, dict):
        target = value.get("target")
        if not isinstance(target, str) or not target:
            raise refuse("I001", "a long-syntax volume needs target", filename, line)
        kind = scalar_text(value.get("type", "volume"))
        source = value.get("source")
        return VolumeSpec(
            kind,
            None if source is None else scalar_text(source),
            target,
            value.get("read_only") is True,
            line,
        )
    if not isinstance(value, str) or not value:
        raise refuse("I001", "a volume is a string or a mapping", filename, line)
    parts = value.split(":")
    read_only = False
    if len(parts) >= 3 or (len(parts) == 2 and not parts[1].startswith("/")):
        *parts, mode = parts
        read_only = "ro" in mode.split(",")
    if len(parts) == 1:
        return VolumeSpec("volume", None, parts[0], read_only, line)
    if len(parts) != 2:
        raise refuse("I001", f"volume {value!r} is not source:target[:mode]", filename, line)
    source, target = parts
    kind = "bind" if source.startswith(("/", ".", "~")) else "volume"
    return VolumeSpec(kind, source, target, read_only, line)


def parse_env_file_text(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (``export``, ``#`` comments, quotes); values not yet interpolated."""
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)")


_UNIT_MS = {
    "h": 3_600_000,
    "m": 60_000,
    "s": 1000,
    "ms": 1,
    "us": 0.001,
    "µs": 0.001,
    "ns": 0.000001,
}


def duration_ms(text: str) -> int | None:
    """``1m30s`` -> 90000; None when it is not a Compose duration."""
    text = text.strip()
    if not text:
        return None
    total = 0.0
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        position = match.end()
    if position != len(text):
        return None
    return round(total)


_BYTE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


def byte_count(value: Any) -> int | None:
    """``512m``, ``1.5G``, ``268435456`` -> bytes; None when unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", scalar_text(value))
    if match is None or match.group(2).lower() not in _BYTE_UNITS:
        return None
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()])
