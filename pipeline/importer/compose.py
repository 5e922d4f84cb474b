"""A Compose file as plain services: the Compose specification's syntaxes, normalised.

Takes the YAML document (anchors and merge keys already resolved by
:mod:`~pipeline.importer.compose_yaml`), interpolates every value (not keys,
not ``x-`` extension blocks) and turns each service into a :class:`Service`
whose ports, volumes, environment, health check and dependencies have one
shape each, whatever syntax the source used (short or long ports and volumes,
list or mapping environment, ``env_file``).  Every field keeps its source line.
Malformed structure is refused with the file and line; what is well formed
but has no equivalent in our manifest is left for :mod:`~pipeline.importer.mapping`
to judge (``Service.raw`` holds every key the source set).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.importer.compose_yaml import Location, YamlDocument
from pipeline.importer.interpolation import Interpolation, InterpolationError, Lookup
from pipeline.importer.reasons import Reason, refuse

MAX_PORT_RANGE = 32
MAX_ENV_FILE_BYTES = 256 * 1024


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


@dataclass(frozen=True)
class HealthSpec:
    test: list[str] | None  # None: disabled
    interval: str | None
    timeout: str | None
    start_period: str | None
    retries: int | None
    line: int | None


@dataclass
class Service:
    name: str
    raw: dict[str, Any]
    line: int | None
    lines: dict[str, int | None]
    image: str | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    environment_lines: dict[str, int | None] = field(default_factory=dict)
    unset_environment: list[tuple[str, int | None]] = field(default_factory=list)
    ports: list[PortSpec] = field(default_factory=list)
    volumes: list[VolumeSpec] = field(default_factory=list)
    depends_on: list[tuple[str, str]] = field(default_factory=list)  # (service, condition)
    health: HealthSpec | None = None
    warnings: list[Reason] = field(default_factory=list)

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.line)


@dataclass
class Project:
    filename: str
    name: str | None
    services: list[Service]
    top_level: dict[str, Any]
    top_lines: dict[str, int | None]
    interpolation_warnings: list[Reason]

    def service(self, name: str) -> Service | None:
        return next((each for each in self.services if each.name == name), None)


FileReader = Callable[[str, str, int | None], bytes | None]


# -- interpolation over the tree ---------------------------------------------------------------


def interpolate_document(document: YamlDocument, lookup: Lookup) -> tuple[Any, list[Reason]]:
    """Interpolate every string value (not keys, not ``x-`` blocks); warn once per unset name."""
    warnings: list[Reason] = []
    seen: set[str] = set()

    def walk(node: Any, location: Location) -> Any:
        if isinstance(node, dict):
            return {
                key: value if key.startswith("x-") else walk(value, (*location, key))
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [walk(value, (*location, index)) for index, value in enumerate(node)]
        if not isinstance(node, str) or "$" not in node:
            return node
        line = document.line_of(location)
        run = Interpolation(lookup)
        try:
            result = run.expand(node)
        except InterpolationError as error:
            raise refuse("I001", str(error), document.filename, line) from None
        for name in run.unresolved:
            if name not in seen:
                seen.add(name)
                warnings.append(
                    Reason(
                        "I002",
                        f"${{{name}}} has no value on Archipelago; it was left empty",
                        "warning",
                        document.filename,
                        line,
                    )
                )
        return result

    return walk(document.data, ()), warnings


# -- small syntaxes ----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _argv(value: Any, filename: str, line: int | None, what: str) -> list[str] | None:
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
        return [_text(item) for item in value]
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
        protocol = _text(value.get("protocol", "tcp")).lower()
        published = value.get("published")
        hosts = None if published in (None, "") else _port_number(_text(published), filename, line)
        host_ip = value.get("host_ip")
        return _pair_ports(
            _port_number(_text(target), filename, line),
            hosts,
            protocol,
            None if host_ip is None else _text(host_ip),
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
        kind = _text(value.get("type", "volume"))
        source = value.get("source")
        return VolumeSpec(
            kind,
            None if source is None else _text(source),
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
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", _text(value))
    if match is None or match.group(2).lower() not in _BYTE_UNITS:
        return None
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()])


# -- services ----------------------------------------------------------------------------------


def _environment(
    service: Service, value: Any, filename: str, read_file: FileReader, lookup: Lookup
) -> None:
    env_files = service.raw.get("env_file")
    if env_files is not None:
        entries = env_files if isinstance(env_files, list) else [env_files]
        for entry in entries:
            line = service.line_of("env_file")
            path, required = entry, True
            if isinstance(entry, dict):
                path, required = entry.get("path"), entry.get("required", True) is not False
            if not isinstance(path, str):
                raise refuse("I001", "env_file entries are paths", filename, line)
            data = read_file(path, "env_file", line)
            if data is None:
                if required:
                    raise refuse("I001", f"env_file {path} is missing", filename, line)
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise refuse("I001", f"env_file {path} is not UTF-8", filename, line) from None
            for key, raw in parse_env_file_text(text).items():
                run = Interpolation(lookup)
                try:
                    service.environment[key] = run.expand(raw)
                except InterpolationError as error:
                    raise refuse("I001", f"env_file {path}: {error}", filename, line) from None
                service.environment_lines[key] = line
                for name in run.unresolved:
                    service.warnings.append(
                        Reason(
                            "I002",
                            f"env_file {path}: ${{{name}}} has no value on Archipelago; it was "
                            "left empty",
                            "warning",
                            filename,
                            line,
                        )
                    )
    if value is None:
        return
    line = service.line_of("environment")
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = []
        for entry in value:
            if not isinstance(entry, str):
                raise refuse(
                    "I001", "environment list entries are KEY=VALUE strings", filename, line
                )
            key, equals, rest = entry.partition("=")
            items.append((key, rest if equals else None))
    else:
        raise refuse("I001", "environment is a mapping or a list of KEY=VALUE", filename, line)
    for key, item in items:
        if item is None:
            service.unset_environment.append((key, line))
            service.environment.pop(key, None)
            continue
        if isinstance(item, (dict, list)):
            raise refuse(
                "I001", f"environment {key}: a value is a string, number or boolean", filename, line
            )
        service.environment[key] = _text(item)
        service.environment_lines[key] = line


def _health(value: Any, filename: str, line: int | None) -> HealthSpec:
    if not isinstance(value, dict):
        raise refuse("I001", "healthcheck is a mapping", filename, line)
    test = value.get("test")
    disabled = value.get("disable") is True
    argv: list[str] | None
    if disabled or test in (["NONE"], "NONE"):
        argv = None
    elif isinstance(test, str):
        argv = ["sh", "-c", test]
    elif isinstance(test, list) and test and all(isinstance(item, str) for item in test):
        if test[0] == "CMD":
            argv = list(test[1:])
        elif test[0] == "CMD-SHELL":
            argv = ["sh", "-c", " ".join(test[1:])]
        else:
            argv = list(test)
    else:
        raise refuse("I001", "healthcheck.test is a string or a list", filename, line)
    retries = value.get("retries")
    return HealthSpec(
        argv if argv else None,
        None if value.get("interval") is None else _text(value["interval"]),
        None if value.get("timeout") is None else _text(value["timeout"]),
        None if value.get("start_period") is None else _text(value["start_period"]),
        retries if isinstance(retries, int) and not isinstance(retries, bool) else None,
        line,
    )


def _service(
    name: str, raw: Any, document: YamlDocument, read_file: FileReader, lookup: Lookup
) -> Service:
    filename = document.filename
    location: Location = ("services", name)
    line = document.line_of(location)
    if not isinstance(raw, dict):
        raise refuse("I001", f"services.{name} is not a mapping", filename, line)
    lines = {key: document.line_of((*location, key)) for key in raw}
    service = Service(name, raw, line, lines)
    image = raw.get("image")
    if image is not None and not isinstance(image, str):
        raise refuse("I001", f"services.{name}.image is not a string", filename, lines.get("image"))
    service.image = image
    service.command = _argv(raw.get("command"), filename, lines.get("command"), "command")
    service.entrypoint = _argv(
        raw.get("entrypoint"), filename, lines.get("entrypoint"), "entrypoint"
    )
    _environment(service, raw.get("environment"), filename, read_file, lookup)
    ports = raw.get("ports") or []
    if not isinstance(ports, list):
        raise refuse("I001", f"services.{name}.ports is not a list", filename, lines.get("ports"))
    for index, port in enumerate(ports):
        service.ports.extend(
            parse_port(port, filename, document.line_of((*location, "ports", index)))
        )
    volumes = raw.get("volumes") or []
    if not isinstance(volumes, list):
        raise refuse(
            "I001", f"services.{name}.volumes is not a list", filename, lines.get("volumes")
        )
    for index, volume in enumerate(volumes):
        service.volumes.append(
            parse_volume(volume, filename, document.line_of((*location, "volumes", index)))
        )
    depends = raw.get("depends_on")
    if isinstance(depends, list):
        service.depends_on = [(str(item), "service_started") for item in depends]
    elif isinstance(depends, dict):
        for other, condition in depends.items():
            wanted = (
                condition.get("condition", "service_started")
                if isinstance(condition, dict)
                else "service_started"
            )
            service.depends_on.append((other, str(wanted)))
    elif depends is not None:
        raise refuse(
            "I001",
            f"services.{name}.depends_on is a list or a mapping",
            filename,
            lines.get("depends_on"),
        )
    if raw.get("healthcheck") is not None:
        service.health = _health(raw["healthcheck"], filename, lines.get("healthcheck"))
    return service


def parse_project(document: YamlDocument, lookup: Lookup, read_file: FileReader) -> Project:
    """Interpolate and normalise a Compose document; refuse what is not a Compose file."""
    filename = document.filename
    if not isinstance(document.data, dict):
        raise refuse("I001", "a Compose file is a mapping with services:", filename, 1)
    data, warnings = interpolate_document(document, lookup)
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise refuse("I001", "no services: mapping", filename, document.line_of(("services",)))
    name = data.get("name")
    parsed = [_service(key, value, document, read_file, lookup) for key, value in services.items()]
    for service in parsed:
        warnings.extend(service.warnings)
    return Project(
        filename=filename,
        name=name if isinstance(name, str) else None,
        services=parsed,
        top_level=data,
        top_lines={key: document.line_of((key,)) for key in data},
        interpolation_warnings=warnings,
    )
