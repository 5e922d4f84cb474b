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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.manifest_fields import (
    APP_ID_PATTERN,
    NAME_PATTERN,
    URL_PATTERN,
    VERSION_PATTERN,
    parse_image_reference,
)
from pipeline.hostpaths import canonical, data_dir, is_within
from pipeline.importer.compose import (
    HealthSpec,
    PortSpec,
    Service,
    VolumeSpec,
    byte_count,
    duration_ms,
)
from pipeline.importer.reasons import Reason, refuse
from pipeline.importer.source_app import SECRET_MARK, SourceApp

Origin = tuple[str, int | None]

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
TIME_FILES = ("/etc/localtime", "/etc/timezone")
CREDENTIAL_KEY = re.compile(r"(PASSWORD|PASSWD|_PASS$|^PASS$|SECRET|_TOKEN$|_KEY$)", re.IGNORECASE)
NOT_CREDENTIAL = re.compile(
    r"(_FILE|_PATH|_LENGTH|_URL|_ENABLED|_TYPE|_NAME|_USER)$", re.IGNORECASE
)

HOST_KEY = re.compile(
    r"(HOST|SERVER|ADDR|ADDRESS|URL|URI|ENDPOINT|BACKEND|UPSTREAM|BROKER)(_?NAME)?$", re.IGNORECASE
)

CATEGORIES: dict[str, str] = {
    "bitcoin": "bitcoin",
    "crypto": "bitcoin",
    "explorers": "bitcoin",
    "wallets": "bitcoin",
    "wallet": "bitcoin",
    "lightning": "lightning",
    "lightning node management": "lightning",
    "ecash": "ecash",
    "nostr": "nostr",
    "networking": "networking",
    "network": "networking",
    "security": "security",
    "media": "media",
    "gallery": "media",
    "downloader": "media",
    "gaming": "media",
    "files": "files",
    "cloud": "files",
    "backup": "files",
    "productivity": "productivity",
    "finance": "productivity",
    "automation": "home",
    "home": "home",
    "home automation": "home",
    "smart home": "home",
    "developer": "developer",
    "developer tools": "developer",
    "ai": "ai",
    "monitoring": "monitoring",
    "analytics": "monitoring",
    "social": "communication",
    "chat": "communication",
    "communication": "communication",
    "utilities": "system",
    "system": "system",
}


@dataclass
class MappedApp:
    """The manifest document to write, and everything the owner should know about it."""

    app_id: str
    document: dict[str, Any]
    origins: dict[str, Origin] = field(default_factory=dict)
    reasons: list[Reason] = field(default_factory=list)
    converted: list[str] = field(default_factory=list)  # IMPORT.md: what mapped as it was

    def origin_of(self, field_path: str) -> Origin | None:
        """The source place of ``field_path`` or of its nearest parent that has one."""
        path = field_path
        while path:
            if path in self.origins:
                return self.origins[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


NameTaken = Callable[[str], bool]


def safe_name(text: str, pattern: str = NAME_PATTERN, limit: int = 63) -> str:
    """Lowercase, runs of other characters to '-', a leading letter, cut to ``limit``."""
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    if not name or not name[0].isalpha():
        name = f"v-{name}" if name else "v"
    name = name[:limit].rstrip("-_")
    return name if re.fullmatch(pattern, name) else "v"


def app_id_of(raw: str, file: str, line: int | None) -> tuple[str, Reason | None]:
    """The manifest id for a store id; a warning when it had to change."""
    candidate = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:40].rstrip("-")
    if not re.fullmatch(APP_ID_PATTERN, candidate):
        raise refuse("I013", f"app id {raw!r} cannot be made into an id like 'my-app'", file, line)
    if candidate == raw:
        return candidate, None
    return candidate, Reason("I013", f"app id {raw!r} became {candidate!r}", "warning", file, line)


class _Mapper:
    def __init__(self, source: SourceApp, name_taken: NameTaken) -> None:
        self.source = source
        self.project = source.project
        self.file = source.project.filename
        self.name_taken = name_taken
        meta = source.meta
        assert meta.id is not None
        self.app_id, renamed = app_id_of(meta.id, meta.file, meta.line("id"))
        self.mapped = MappedApp(self.app_id, {})
        self.reasons = self.mapped.reasons
        self.reasons.extend(source.reasons)
        if renamed is not None:
            self.reasons.append(renamed)
        self.home = data_dir(self.app_id)
        self.secrets: dict[str, dict[str, Any]] = {}
        self.container_names: dict[str, str] = {}
        self.permissions: dict[str, Any] = {}
        self.provider_paths: dict[str, str] = {}

    # -- helpers -----------------------------------------------------------------------------

    def say(
        self,
        code: str,
        message: str,
        severity: str = "warning",
        line: int | None = None,
        file: str | None = None,
    ) -> None:
        self.reasons.append(Reason(code, message, severity, file or self.file, line))  # type: ignore[arg-type]

    def origin(self, path: str, line: int | None, file: str | None = None) -> None:
        self.mapped.origins[path] = (file or self.file, line)

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

    def volume(
        self, spec: VolumeSpec, service: Service, path: str, used: set[str]
    ) -> dict[str, Any] | None:
        where = f"{service.name}: volume {spec.target}"
        if spec.kind == "tmpfs":
            self.say(
                "I004",
                f"{where}: tmpfs has no equivalent; dropped (the path is part of the "
                "container's own file system)",
                "warning",
                spec.line,
            )
            return None
        if spec.kind not in ("bind", "volume"):
            raise refuse(
                "I005", f"{where}: volume type {spec.kind!r} is not supported", self.file, spec.line
            )
        volume: dict[str, Any] = {"path": spec.target}
        if spec.kind == "volume":
            base = spec.source or spec.target.strip("/").replace("/", "-") or "data"
            name = safe_name(base)
            self.note_named_volume(spec, where)
        else:
            source = spec.source or ""
            if source.startswith((".", "~")) or not source.startswith("/"):
                relative = source.removeprefix("./").strip("/")
                self.say(
                    "I012",
                    f"{where}: mounts {source} from the app's own folder; here it is "
                    "an empty directory in the data dir: ship its content in a companion image "
                    "or create it in a hook",
                    "warning",
                    spec.line,
                )
                name = safe_name(relative or "data")
            else:
                host = canonical(source)
                inside = self.inside_data_dir(host)
                if host in TIME_FILES:
                    self.say(
                        "I004",
                        f"{where}: the host's {host} is not mounted; set TZ instead",
                        "warning",
                        spec.line,
                    )
                    return None
                if inside is not None:
                    name = safe_name(inside.replace("/", "-") or "data")
                    if inside != name:
                        # Each volume is one sub-directory of the data dir: a nested path or
                        # the data dir itself would let one mount reach another's (P021).
                        self.say(
                            "I015",
                            f"{where}: {source} becomes the data dir's sub-directory {name!r} "
                            "(volumes are side by side, never nested or the data dir itself); "
                            "move existing data there",
                            "warning",
                            spec.line,
                        )
                    self.check_seeded(inside, where, spec.line)
                else:
                    name = safe_name(spec.target.rstrip("/").rsplit("/", 1)[-1] or "root")
                    volume["host_path"] = host
                    self.provider_permission(host, where, spec)
        unique, suffix = name, 2
        while unique in used:
            unique, suffix = f"{name}-{suffix}", suffix + 1
        used.add(unique)
        volume = {"name": unique, **volume}
        if spec.read_only:
            volume["read_only"] = True
        self.origin(path, spec.line)
        return volume

    def note_named_volume(self, spec: VolumeSpec, where: str) -> None:
        definitions = self.project.top_level.get("volumes")
        if spec.source and isinstance(definitions, dict):
            definition = definitions.get(spec.source)
            if isinstance(definition, dict) and (
                definition.get("driver")
                or definition.get("external")
                or definition.get("driver_opts")
            ):
                self.say(
                    "I004",
                    f"{where}: named volume {spec.source!r} sets a driver or is "
                    "external; here it is a directory in the app's data dir",
                    "warning",
                    self.project.top_lines.get("volumes"),
                )

    def inside_data_dir(self, host: str) -> str | None:
        """The part of ``host`` below the app's data dir (or the store's name for it), or None."""
        for home in (self.home, *self.source.data_dir_aliases):
            home = canonical(home)
            if is_within(host, home):
                return host[len(home) :].strip("/")
        return None

    def check_seeded(self, inside: str, where: str, line: int | None) -> None:
        if self.source.store != "umbrel" or not inside:
            return
        shipped = self.source.folder / inside
        if shipped.exists() and not shipped.is_symlink():
            self.say(
                "I012",
                f"{where}: Umbrel seeds {inside} from the app folder; the node "
                "starts with it empty (ship it in a companion image or a hook)",
                "warning",
                line,
            )

    def provider_permission(self, host: str, where: str, spec: VolumeSpec) -> None:
        for name in self.source.variables.used:
            variable = self.source.variables.platform[name]
            if variable.provider_path and is_within(host, canonical(variable.value)):
                self.permissions.setdefault("host_paths", [])
                if host not in self.permissions["host_paths"]:
                    self.permissions["host_paths"].append(host)
                self.origin("permissions.host_paths", spec.line)
                self.say("I009", f"{where}: {variable.attention}", "warning", spec.line)
                if not spec.read_only:
                    self.say(
                        "I009",
                        f"{where}: another app's data is mounted writable; make it "
                        "read-only unless the app must write there",
                        "warning",
                        spec.line,
                    )
                return

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
            converted = _duration_text(millis)
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
        deploy = _mapping(raw.get("deploy"))
        limits = _mapping(_mapping(deploy.get("resources")).get("limits"))
        line = service.line_of("deploy") if limits else service.line_of("mem_limit")
        result: dict[str, Any] = {}
        memory = limits.get("memory", raw.get("mem_limit"))
        if memory is not None:
            converted = _memory_text(byte_count(memory))
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


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _duration_text(millis: int | None) -> str | None:
    if millis is None or millis <= 0:
        return None
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if millis % size == 0 and millis // size < 1_000_000:
            return f"{millis // size}{unit}"
    return None


def _memory_text(count: int | None) -> str | None:
    if count is None or count < 1024:
        return None
    for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if count % size == 0 and count // size < 10_000_000:
            return f"{count // size}{unit}"
    kib = -(-count // 1024)
    return f"{kib}k" if kib < 10_000_000 else None


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split()) if limit <= 160 else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def map_app(source: SourceApp, name_taken: NameTaken) -> MappedApp:
    """Map one source app; raise ImportRefused when it cannot be imported."""
    mapper = _Mapper(source, name_taken)
    services = mapper.members()
    mapper.choose_names(services)
    addresses = mapper.address_map()
    ui_service = mapper.ui_service(services)
    ui_port = _ui_port(mapper, services, ui_service)
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
    document = _metadata(mapper)
    document["containers"] = []
    for member in members:
        member.pop("_path")
        document["containers"].append(member)
    requires = _requires(mapper)
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
    _fixed_credentials(mapper, document)
    if mapper.secrets:
        document["generated_secrets"] = list(mapper.secrets.values())
    permissions = _permissions(mapper)
    if permissions:
        document["permissions"] = permissions
    mapper.mapped.document = document
    return mapper.mapped


def _ui_port(
    mapper: _Mapper, services: list[Service], ui_service: str | None
) -> tuple[str, int, int | None] | None:
    ui = mapper.source.ui
    if ui is None or ui_service is None:
        if ui is not None:
            mapper.say(
                "I004",
                "the UI's service could not be found; no ui: block",
                "warning",
                ui.line,
                ui.file,
            )
        return None
    service = next(s for s in services if s.name == ui_service)
    if ui.container_port is not None:
        return ui_service, ui.container_port, ui.host_port
    for port in service.ports:
        if ui.host_port is not None and port.host == ui.host_port:
            return ui_service, port.container, port.host
    if len(service.ports) == 1 and ui.host_port is None:
        port = service.ports[0]
        return ui_service, port.container, port.host
    if ui.host_port is not None:
        mapper.say(
            "I008",
            f"no port of {ui_service!r} is published on {ui.host_port}; the UI is "
            f"assumed on container port {ui.host_port}",
            "warning",
            ui.line,
            ui.file,
        )
        return ui_service, ui.host_port, ui.host_port
    mapper.say(
        "I004", f"{ui_service}: the UI port is not known; no ui: block", "warning", ui.line, ui.file
    )
    return None


def _metadata(mapper: _Mapper) -> dict[str, Any]:
    meta = mapper.source.meta
    file = meta.file

    def warn(code: str, message: str, key: str) -> None:
        mapper.say(code, message, "warning", meta.line(key), file)

    name = meta.name or mapper.app_id
    version = meta.version
    if version is None:
        tag = _main_image_tag(mapper)
        version = tag or "0"
        warn(
            "I008",
            f"no version in the source; {version!r} taken from the image tag"
            if tag
            else "no version in the source; '0' written",
            "version",
        )
    cleaned = re.sub(r"[^0-9A-Za-z.+_~-]+", "-", version.strip()).strip("-")[:64] or "0"
    if not cleaned[0].isalnum():
        cleaned = "0" + cleaned[:63]
    if cleaned != version:
        warn("I008", f"version {version!r} written as {cleaned!r}", "version")
    assert re.fullmatch(VERSION_PATTERN, cleaned)
    summary = meta.summary or (meta.description or name).split("\n")[0]
    description = meta.description or meta.summary or name
    document: dict[str, Any] = {
        "schema": 1,
        "id": mapper.app_id,
        "name": _short(name, 160),
        "version": cleaned,
        "revision": 1,
        "summary": _short(summary, 160),
        "description": _short(description, 4000),
    }
    if len(description) > 4000:
        warn("I004", "description cut to 4000 characters", "description")
    raw_category = (meta.category or "").strip().lower()
    category = CATEGORIES.get(raw_category)
    if category is None:
        category = next(
            (value for key, value in CATEGORIES.items() if key in raw_category), "system"
        )
        warn("I008", f"category {meta.category!r} has no match; {category!r} guessed", "category")
    document["category"] = category
    document["license"] = "NOASSERTION"
    warn("I008", "the source does not state a license; NOASSERTION written: set the SPDX id", "id")
    urls = [
        u for u in (meta.website, meta.repo, meta.support) if u and re.fullmatch(URL_PATTERN, u)
    ]
    sources = [
        u for u in (meta.repo, meta.website, meta.support) if u and re.fullmatch(URL_PATTERN, u)
    ]
    if not urls:
        raise refuse(
            "I008",
            "no https website, repo or support link; the manifest needs a homepage and a source",
            file,
            meta.line("website"),
        )
    document["homepage"] = urls[0]
    document["source"] = sources[0]
    if meta.repo is None or not re.fullmatch(URL_PATTERN, meta.repo):
        warn("I008", f"no https repository link; source is {sources[0]}", "repo")
    if meta.release_notes:
        document["release_notes"] = meta.release_notes[:8000]
    architectures = meta.architectures or []
    kept = [arch for arch in ("amd64", "arm64") if arch in architectures]
    if not kept:
        raise refuse(
            "I008",
            f"architectures {architectures} include neither amd64 nor arm64",
            file,
            meta.line("architectures"),
        )
    if mapper.source.store == "umbrel":
        mapper.say(
            "I008",
            "architectures amd64 and arm64 assumed (Umbrel builds for both)",
            "note",
            None,
            file,
        )
    document["architectures"] = kept
    if mapper.source.icon is None:
        mapper.say(
            "I008",
            "no local SVG icon in the source; add icon.svg before building",
            "warning",
            None,
            file,
        )
    return document


def _main_image_tag(mapper: _Mapper) -> str | None:
    ui = mapper.source.ui
    services = mapper.project.services
    service = mapper.project.service(ui.service) if ui and ui.service else services[0]
    if service is None or service.image is None:
        return None
    tag = (
        service.image.split("@")[0].rpartition(":")[2]
        if ":" in service.image.split("@")[0].rsplit("/", 1)[-1]
        else None
    )
    return None if tag in (None, "latest") else tag


_PROVIDERS = {
    "bitcoin": "bitcoin",
    "lightning": "lnd",
    "lnd": "lnd",
    "electrs": "electrs",
    "tor": "tor",
}


def _requires(mapper: _Mapper) -> list[dict[str, Any]]:
    meta = mapper.source.meta
    wanted: dict[str, tuple[str, int | None]] = {}
    for dependency in meta.dependencies:
        app = _PROVIDERS.get(dependency, dependency)
        wanted.setdefault(app, (meta.file, meta.line("dependencies")))
    for name in mapper.source.variables.used:
        variable = mapper.source.variables.platform[name]
        if variable.requires and variable.requires not in wanted:
            wanted[variable.requires] = (mapper.file, None)
            if meta.dependencies is not None and mapper.source.store == "umbrel":
                mapper.say(
                    "I009",
                    f"uses ${name} but dependencies do not list it; requires "
                    f"{variable.requires} added",
                    "warning",
                    None,
                )
    requires = []
    for index, (app, origin) in enumerate(sorted(wanted.items())):
        requires.append({"app": app})
        mapper.mapped.origins[f"requires[{index}]"] = origin
    if "lnd" in wanted and "lightning" in meta.dependencies:
        mapper.say(
            "I009",
            "Umbrel's 'lightning' dependency is LND here (requires: lnd); an app "
            "that works with Core Lightning needs the owner to say so",
            "note",
            None,
            meta.file,
        )
    return requires


def _permissions(mapper: _Mapper) -> dict[str, Any]:
    permissions = dict(mapper.permissions)
    attention: list[str] = []
    for name in mapper.source.variables.used:
        variable = mapper.source.variables.platform[name]
        if variable.permission:
            permissions[variable.permission] = True
        if (
            variable.attention
            and not variable.provider_path
            and variable.attention not in attention
        ):
            attention.append(variable.attention)
    for text in attention:
        mapper.say("I009", text, "warning", None)
    ordered: dict[str, Any] = {}
    for key in ("tor", "bitcoin_rpc", "lightning_rpc", "host_paths"):
        if key in permissions:
            ordered[key] = permissions[key]
    return ordered


def _fixed_credentials(mapper: _Mapper, document: dict[str, Any]) -> None:
    """Literal passwords in env -> one generated secret per distinct value (when safe)."""
    members = document["containers"]
    found: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for member in members:
        for key, value in member.get("env", {}).items():
            if (
                isinstance(value, str)
                and value
                and CREDENTIAL_KEY.search(key)
                and not NOT_CREDENTIAL.search(key)
                and "$" not in value
                and value.lower() not in ("true", "false", "yes", "no", "none", "null")
                and not value.startswith("/")
            ):
                found.setdefault(value, []).append((member, key))
    default_password = mapper.source.meta.default_password
    for value, uses in found.items():
        inside = re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(value)}(?![A-Za-z0-9_.-])")
        embedded = [
            f"{m['name']}.{k}"
            for m in members
            for k, v in m.get("env", {}).items()
            if isinstance(v, str) and v != value and inside.search(v)
        ] + [
            f"{m['name']}.command"
            for m in members
            for arg in (m.get("command") or []) + (m.get("entrypoint") or [])
            if inside.search(arg)
        ]
        first_member, first_key = uses[0]
        line = mapper.mapped.origins.get(
            f"{first_member_path(members, first_member)}.env.{first_key}", (None, None)
        )[1]
        if embedded:
            mapper.say(
                "I011",
                f"{first_member['name']}: {first_key} is a fixed password that is "
                f"also written inside {', '.join(sorted(set(embedded)))}; kept as it is: "
                "change it after install",
                "warning",
                line,
            )
            continue
        name = safe_name(first_key.replace("_", "-"))
        while name in mapper.secrets:
            name = f"{name}-2"
        mapper.secrets[name] = {"name": name, "length": 32, "charset": "alphanumeric"}
        for member, key in uses:
            member["env"][key] = {"secret": name}
        places = ", ".join(f"{m['name']}.{k}" for m, k in uses)
        mapper.say(
            "I011",
            f"{places}: the fixed password in the source became the generated secret {name}",
            "warning",
            line,
        )
        if default_password is not None and default_password == value:
            mapper.say(
                "I011",
                f"the UI's default password is now the generated secret {name} "
                "(not the store's published one)",
                "note",
                None,
                mapper.source.meta.file,
            )
    if default_password and default_password not in found:
        mapper.say(
            "I011",
            "the store publishes a default password that is built into the "
            "image; change it after install",
            "warning",
            mapper.source.meta.line("defaultPassword"),
            mapper.source.meta.file,
        )


def first_member_path(members: list[dict[str, Any]], member: dict[str, Any]) -> str:
    return f"containers[{members.index(member)}]"
