"""A :class:`SourceApp` as an Archipelago manifest document, with where each field came from.

Faithful first: what the source asks for goes into the manifest as it is
(``privileged``, host networking, a Docker socket mount, a host path, a
device), so the security policy judges it with its own rule and code; the
importer never grants a permission to make an app pass.  What has no
equivalent is dropped and said (``I004``), what the manifest cannot express
safely is refused (``I003``, ``I005``, ``I006``).  Each manifest field records
its source file and line (:attr:`MappedApp.origins`), so a policy problem found
later points at the line of the Compose file that caused it.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.manifest_fields import (
    parse_image_reference,
)
from pipeline.importer.app_fields import (
    app_metadata,
    app_permissions,
    app_requires,
    choose_ui_port,
    fixed_credentials,
)
from pipeline.importer.compose import Service
from pipeline.importer.compose_values import PortSpec
from pipeline.importer.map_sandbox import (
    SandboxMapping,
)
from pipeline.importer.map_volumes import VolumeMapping
from pipeline.importer.mapper_base import MappedApp, NameTaken, safe_name
from pipeline.importer.reasons import refuse
from pipeline.importer.source_app import SECRET_MARK, SourceApp

HOST_KEY = re.compile(
    r"(HOST|SERVER|ADDR|ADDRESS|URL|URI|ENDPOINT|BACKEND|UPSTREAM|BROKER)(_?NAME)?$", re.IGNORECASE
)


class Mapper(VolumeMapping, SandboxMapping):
    """Maps one :class:`SourceApp`: members, names, addresses, secrets, images, env and ports."""

    # -- helpers -----------------------------------------------------------------------------

    # -- members -----------------------------------------------------------------------------

    def members(self) -> list[Service]:
        kept = []
        for service in self.project.services:
            if service.name in self.source.dropped_services:
                self.say(
                    "I004",
                    f"service {service.name!r} dropped: "
                    f"{self.source.dropped_services[service.name]}",
                    "note",
                    service.line,
                )
                continue
            if service.raw.get("profiles"):
                self.say(
                    "I004",
                    f"service {service.name!r} dropped: it runs only with a Compose profile",
                    "warning",
                    service.line_of("profiles"),
                )
                continue
            kept.append(service)
        if not kept:
            raise refuse("I001", "no service is left to run", self.file, None)
        return kept

    def choose_names(self, services: list[Service]) -> None:
        ui_service = self.ui_service(services)
        taken_here: set[str] = set()
        for service in services:
            if len(services) == 1 or service.name == ui_service:
                base = self.app_id
            else:
                own = service.name.lower().startswith(f"{self.app_id}-")
                base = safe_name(service.name if own else f"{self.app_id}-{service.name}", limit=55)
            name, suffix = base, 2
            while name in taken_here or self.name_taken(name):
                name, suffix = f"{base}-{suffix}", suffix + 1
            if name != base:
                self.say(
                    "I007",
                    f"container name {base!r} is taken by another app; this member is {name!r}",
                    "warning",
                    service.line,
                )
            taken_here.add(name)
            self.container_names[service.name] = name

    def ui_service(self, services: list[Service]) -> str | None:
        ui = self.source.ui
        if ui is None:
            return None
        if ui.service is not None:
            return ui.service
        for service in services:
            if any(port.host == ui.host_port for port in service.ports):
                return service.name
        return None

    def address_map(self) -> dict[str, str]:
        """Every name or address the source uses for a member -> its container name here."""
        addresses: dict[str, str] = {}
        for address, service in self.source.hostnames.items():
            if service in self.container_names:
                addresses[address] = self.container_names[service]
        for service, name in self.container_names.items():
            addresses[service] = name
        return {old: new for old, new in addresses.items() if old != new}

    def rewrite_addresses(
        self,
        value: str,
        addresses: dict[str, str],
        where: str,
        line: int | None,
        whole_value: bool = False,
    ) -> str:
        """Addresses of this app's members -> their container names here, in one pass.

        A name is rewritten where it is clearly an address (``name:5432``,
        ``//name``, ``@name``), or as a whole value when ``whole_value`` (an env
        key that names a host); an IP of a member is rewritten anywhere.
        """
        if not addresses:
            return value
        if whole_value and value in addresses:
            result = addresses[value]
        else:
            parts = []
            for old in sorted(addresses, key=len, reverse=True):
                escaped = re.escape(old)
                if re.fullmatch(r"[0-9.]+", old):
                    parts.append(rf"(?<![0-9.]){escaped}(?![0-9])")
                else:
                    parts.append(
                        rf"(?:(?<=//)|(?<=@)){escaped}(?![A-Za-z0-9_.-])"
                        rf"|(?<![A-Za-z0-9_./-]){escaped}(?=:[0-9])"
                    )
            pattern = re.compile("|".join(f"(?:{part})" for part in parts))
            result = pattern.sub(lambda match: addresses[match.group(0)], value)
        if result != value:
            self.say(
                "I004",
                f"{where}: addresses of this app's containers rewritten to their "
                f"names here ({value[:80]!r} -> {result[:80]!r}); check it",
                "note",
                line,
            )
        return result

    def secret_value(self, value: str, where: str, line: int | None) -> str | dict[str, str]:
        """A whole-value secret mark -> {secret: NAME}; a mark inside a longer value refuses."""
        match = SECRET_MARK.fullmatch(value)
        if match is not None:
            name = match.group(1)
            for variable in self.source.variables.platform.values():
                if variable.stands_for == name and variable.from_capability is not None:
                    return {"secret": name, "from": variable.from_capability}  # the provider's
            self.declare_secret(name)
            return {"secret": name}
        if SECRET_MARK.search(value):
            names = ", ".join(sorted({m.group(1) for m in SECRET_MARK.finditer(value)}))
            raise refuse(
                "I003",
                f"{where} uses the secret {names} inside a longer value; the manifest passes "
                "a secret only as a whole env value (pass it in its own variable and build the "
                "value in the app's entrypoint)",
                self.file,
                line,
            )
        return value

    def declare_secret(self, name: str) -> None:
        if name in self.secrets:
            return
        spec: dict[str, Any] = {"name": name, "length": 32, "charset": "alphanumeric"}
        for variable in self.source.variables.platform.values():
            if variable.stands_for == name:
                spec = {"name": name, "length": variable.length, "charset": variable.charset}
        self.secrets[name] = spec

    def plain_argv(
        self, argv: list[str] | None, where: str, line: int | None, addresses: dict[str, str]
    ) -> list[str] | None:
        if argv is None:
            return None
        out = []
        for index, arg in enumerate(argv):
            value = self.secret_value(arg, f"{where}[{index}]", line)
            if not isinstance(value, str):
                raise refuse(
                    "I003",
                    f"{where}[{index}] is a secret; the manifest passes secrets only as env values",
                    self.file,
                    line,
                )
            out.append(self.rewrite_addresses(value, addresses, f"{where}[{index}]", line))
        return out

    def image(self, service: Service, path: str) -> str:
        line = service.line_of("image")
        if service.image is None:
            if "build" in service.raw:
                raise refuse(
                    "I005",
                    f"service {service.name!r} is built from source (build: "
                    "without image:); import needs a published image",
                    self.file,
                    service.line_of("build"),
                )
            raise refuse("I001", f"service {service.name!r} has no image", self.file, service.line)
        reference = service.image.strip()
        first, _, rest = reference.partition("/")
        if not rest:
            reference = f"docker.io/library/{reference}"
        elif "." not in first and ":" not in first and first != "localhost":
            reference = f"docker.io/{reference}"
        try:
            parse_image_reference(reference)
        except ValueError:
            raise refuse(
                "I005",
                f"image {service.image!r} is not a reference the manifest "
                "accepts (repository:tag@sha256:digest, lowercase)",
                self.file,
                line,
            ) from None
        if "build" in service.raw:
            self.say(
                "I004",
                f"service {service.name!r}: build: ignored; the published image is used",
                "note",
                service.line_of("build"),
            )
        self.origin(f"{path}.image", line)
        return reference

    def environment(self, service: Service, path: str, addresses: dict[str, str]) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for key, line in service.unset_environment:
            self.say(
                "I004",
                f"{service.name}: environment {key} takes its value from the host's "
                "environment; dropped",
                "warning",
                line,
            )
        for key, value in service.environment.items():
            line = service.environment_lines.get(key)
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,127}", key):
                self.say(
                    "I004",
                    f"{service.name}: environment name {key!r} is not allowed in a "
                    "manifest; dropped",
                    "warning",
                    line,
                )
                continue
            converted = self.secret_value(value, f"{service.name}: environment {key}", line)
            if isinstance(converted, str):
                converted = self.rewrite_addresses(
                    converted,
                    addresses,
                    f"{service.name}: environment {key}",
                    line,
                    whole_value=HOST_KEY.search(key) is not None,
                )
            env[key] = converted
            self.origin(f"{path}.env.{key}", line)
        return env

    def port(self, spec: PortSpec, service: Service, path: str) -> dict[str, Any] | None:
        if spec.protocol not in ("tcp", "udp"):
            self.say(
                "I004",
                f"{service.name}: port {spec.container}/{spec.protocol} dropped; only tcp and udp",
                "warning",
                spec.line,
            )
            return None
        port: dict[str, Any] = {"container": spec.container, "host": spec.host or spec.container}
        if spec.protocol != "tcp":
            port["protocol"] = spec.protocol
        local = spec.host_ip in ("127.0.0.1", "::1", "localhost")
        port["expose"] = "local" if local else "lan"
        if spec.host is None:
            self.say(
                "I004",
                f"{service.name}: port {spec.container} had no host port (Docker "
                "picks one); it is published on the same number",
                "note",
                spec.line,
            )
        self.origin(path, spec.line)
        return port

    def member(
        self,
        index: int,
        service: Service,
        addresses: dict[str, str],
        ui_port: tuple[str, int, int | None] | None,
    ) -> dict[str, Any]:
        path = f"containers[{index}]"
        self.origin(path, service.line)
        member: dict[str, Any] = {"_path": path, "name": self.container_names[service.name]}
        member["image"] = self.image(service, path)
        wanted = service.raw.get("container_name")
        if isinstance(wanted, str) and wanted != member["name"]:
            self.say(
                "I004",
                f"{service.name}: container_name {wanted} is {member['name']} here (names carry "
                "the app id); references to it were rewritten",
                "note",
                service.line_of("container_name"),
            )
        entrypoint = self.plain_argv(
            service.entrypoint,
            f"{service.name}: entrypoint",
            service.line_of("entrypoint"),
            addresses,
        )
        command = self.plain_argv(
            service.command, f"{service.name}: command", service.line_of("command"), addresses
        )
        if entrypoint is not None:
            member["entrypoint"] = entrypoint
        if command is not None:
            member["command"] = command
        env = self.environment(service, path, addresses)
        if env:
            member["env"] = env
        ports: list[dict[str, Any]] = []
        for spec in service.ports:
            port = self.port(spec, service, f"{path}.ports[{len(ports)}]")
            if port is not None:
                ports.append(port)
        if ui_port is not None and ui_port[0] == service.name:
            _, container, host = ui_port
            existing = next(
                (
                    p
                    for p in ports
                    if p["container"] == container and p.get("protocol", "tcp") == "tcp"
                ),
                None,
            )
            if existing is None:
                ports.append({"container": container, "host": host or container, "expose": "lan"})
                self.origin(
                    f"{path}.ports[{len(ports) - 1}]",
                    self.source.ui.line if self.source.ui else None,
                    self.source.ui.file if self.source.ui else None,
                )
        if ports:
            member["ports"] = ports
        volumes: list[dict[str, Any]] = []
        used: set[str] = set()
        for volume_spec in service.volumes:
            volume = self.volume(volume_spec, service, f"{path}.volumes[{len(volumes)}]", used)
            if volume is not None:
                volumes.append(volume)
        if volumes:
            member["volumes"] = volumes
        if service.health is not None:
            health = self.health(service.health, service)
            if health is not None:
                member["health"] = health
                self.origin(f"{path}.health", service.health.line)
        depends = []
        for other, condition in service.depends_on:
            if other in self.source.dropped_services:
                continue
            if other not in self.container_names:
                raise refuse(
                    "I001",
                    f"{service.name}: depends_on names {other!r}, which is not "
                    "a service of this app",
                    self.file,
                    service.line_of("depends_on"),
                )
            depends.append(self.container_names[other])
            if condition != "service_healthy":
                self.say(
                    "I004",
                    f"{service.name}: depends_on {other} ({condition}) waits here "
                    "until it is healthy",
                    "note",
                    service.line_of("depends_on"),
                )
        if depends:
            member["depends_on"] = depends
            self.origin(f"{path}.depends_on", service.line_of("depends_on"))
        self.user(service, member)
        self.isolation(service, member, path)
        resources = self.resources(service)
        if resources is not None:
            member["resources"] = resources
        self.leftover_keys(service)
        return member


def map_app(source: SourceApp, name_taken: NameTaken) -> MappedApp:
    """Map one source app; raise ImportRefused when it cannot be imported."""
    mapper = Mapper(source, name_taken)
    services = mapper.members()
    mapper.choose_names(services)
    addresses = mapper.address_map()
    ui_service = mapper.ui_service(services)
    ui_port = choose_ui_port(mapper, services, ui_service)
    members = [mapper.member(i, service, addresses, ui_port) for i, service in enumerate(services)]
    for key in mapper.project.top_level:
        line = mapper.project.top_lines.get(key)
        if key == "include":
            raise refuse(
                "I005",
                "include: is not followed by the importer; merge the files",
                mapper.file,
                line,
            )
        if key in ("secrets", "configs"):
            mapper.say(
                "I004",
                f"top-level {key} have no equivalent; dropped (use generated "
                "secrets or a companion image)",
                "warning",
                line,
            )
    document = app_metadata(mapper)
    document["containers"] = []
    for member in members:
        member.pop("_path")
        document["containers"].append(member)
    requires = app_requires(mapper)
    if requires:
        document["requires"] = requires
    if ui_port is not None and ui_service is not None:
        ui_name = mapper.container_names[ui_service]
        document["ui"] = {"container": ui_name, "port": ui_port[1]}
        if source.ui is not None and source.ui.path not in ("", "/"):
            document["ui"]["path"] = source.ui.path
        document["ui"]["route"] = f"/apps/{mapper.app_id}/"
        if source.ui is not None:
            mapper.origin("ui", source.ui.line, source.ui.file)
        ui_member = next(m for m in document["containers"] if m["name"] == ui_name)
        if "health" not in ui_member:
            ui_member["health"] = {"tcp": {"port": ui_port[1]}}
            mapper.say(
                "I004",
                f"{ui_service}: no healthcheck; a TCP check on the UI port {ui_port[1]} was added",
                "note",
                None,
            )
    fixed_credentials(mapper, document)
    if mapper.secrets:
        document["generated_secrets"] = list(mapper.secrets.values())
    permissions = app_permissions(mapper)
    if permissions:
        document["permissions"] = permissions
    mapper.mapped.document = document
    return mapper.mapped
