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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.importer.compose_values import (
    PortSpec,
    VolumeSpec,
    argv_value,
    parse_env_file_text,
    parse_port,
    parse_volume,
    scalar_text,
)
from pipeline.importer.compose_yaml import Location, YamlDocument
from pipeline.importer.interpolation import Interpolation, InterpolationError, Lookup
from pipeline.importer.reasons import Reason, refuse

MAX_ENV_FILE_BYTES = 256 * 1024


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
        service.environment[key] = scalar_text(item)
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
        None if value.get("interval") is None else scalar_text(value["interval"]),
        None if value.get("timeout") is None else scalar_text(value["timeout"]),
        None if value.get("start_period") is None else scalar_text(value["start_period"]),
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
    service.command = argv_value(raw.get("command"), filename, lines.get("command"), "command")
    service.entrypoint = argv_value(
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
