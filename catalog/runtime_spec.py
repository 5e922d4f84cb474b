"""What a manifest member means to a container engine, decided once for every backend.

The Quadlet renderer (``pipeline.render``) and the podman backend
(``node_runtime.podman_backend``) both turn a :class:`MemberSpec` into their
own syntax and decide nothing themselves, so the two cannot drift.  Pure:
a manifest in, frozen values out (or a :class:`RuntimeSpecError` listing every
field that cannot be run).

Decisions, in one place:

* **Names.** Every name built from an app id joins the id and the part with
  ``_`` (:data:`NAME_SEPARATOR`), which app ids (``^[a-z][a-z0-9-]{1,39}$``)
  cannot contain, so the first ``_`` after ``archy-`` ends the app id and two
  different (app, part) pairs never give the same name
  (:func:`split_derived_name` reads it back).  Unit
  ``archy-<app>_<container>.container`` (service ``archy-<app>_<container>.service``);
  Podman secret ``archy-<app>_<secret>``, handed to the container as an
  environment variable; data dir ``<data_root>/<app>`` (ids hold no ``/``).
  The container itself is named by the manifest (``ContainerName=<name>``, kept
  for adoption; policy P007/P022 keep it unique).  One shared network
  ``archy-net`` (unit ``archy-net.network``), never derived from an app id;
  no named volumes (every volume is a bind mount of a dir below the data dir).
* **Ports.** ``expose: local`` and ``tor`` bind 127.0.0.1 (Tor reaches the port
  through a hidden service on the node); ``lan`` binds every interface.
* **Volumes.** Host side ``<data_root>/<app>/<volume name>`` (or the validated
  ``host_path``).  SELinux: ``Z`` (private label) when one member mounts the
  dir, ``z`` (shared) when several members of the app do, and no relabelling
  of a granted host path outside the app's data dir (relabelling a system
  path would break the host).  Never ``U``: it re-owns the data on every
  start, and the node must never re-own app data.
* **Users.** ``UserNS=host``: rootless Podman's own mapping, pinned so a
  node-wide ``userns`` default cannot change it.  Container uid 0 is the node
  user; container uid N >= 1 is subordinate uid ``subuid_start + N - 1``
  (:func:`host_uid_for`).  The node creates each data dir and chowns it to
  the host uid that ``data_uid`` maps to (e.g. 999 -> 100998 with subuids
  from 100000), which is how existing data (immich: 100998) is already
  owned, so adoption needs no re-owning.  ``keep-id`` would map data_uid to
  the node user instead, and every existing data dir would need a chown.
* **Sandbox.** Every capability dropped, the manifest's (policy-checked)
  ``cap_add`` added back, no new privileges, ``read_only_rootfs`` as asked.
* **Health.** ``cmd`` runs as given (exec form, no shell); ``http`` and ``tcp``
  run a small ``/bin/sh`` probe inside the container (curl or wget; nc or
  bash's /dev/tcp), the URL passed as ``$1``, never spliced into the script.
* **Config hash.** BLAKE3 of the canonical JSON of everything above plus the
  app's version and revision; the label ``archy.config-hash`` lets the node
  adopt a container whose configuration is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical
from catalog.manifest import (
    Container,
    GeneratedSecret,
    Health,
    Manifest,
    SecretRef,
    SettingRef,
)
from catalog.problems import format_field_path
from catalog.systemd_syntax import unit_text_problem

DEFAULT_DATA_ROOT = "/var/lib/archipelago"
NETWORK_NAME = "archy-net"
NETWORK_UNIT_FILE = f"{NETWORK_NAME}.network"
LABEL_APP = "archy.app"
LABEL_MEMBER = "archy.member"
LABEL_CONFIG_HASH = "archy.config-hash"

# The sandbox's one capability rule (policy P011, the node's unit check): what any app
# may add back after dropping every capability, and the two that need net_admin.
ALLOWED_CAPABILITIES = frozenset(
    {
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "AUDIT_WRITE",
    }
)
NET_ADMIN_CAPABILITIES = frozenset({"NET_ADMIN", "NET_RAW"})

# Paths that pass through ``-v host:container:options`` and unit files unchanged.
SAFE_PATH = re.compile(r"^/[A-Za-z0-9._@+=~/-]*$")

# Joins an app id and the part a derived name is for; app ids never contain it.
NAME_SEPARATOR = "_"
NAME_PREFIX = "archy-"

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """One field of a manifest that no backend can run, and the policy rule it breaks."""

    location: Location
    message: str
    rule: str = "P023"


class RuntimeSpecError(ValueError):
    """The manifest cannot become containers; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            "; ".join(
                f"{format_field_path(p.location)}: {p.message} ({p.rule})" for p in self.problems
            )
        )


# -- names and paths -------------------------------------------------------------------------


def derived_name(app_id: str, part: str) -> str:
    """``archy-<app>_<part>``: the one way a name is built from an app id."""
    return f"{NAME_PREFIX}{app_id}{NAME_SEPARATOR}{part}"


def split_derived_name(name: str) -> tuple[str, str] | None:
    """``archy-<app>_<part>`` -> (app, part); None for a name no app id derives.

    Unit names are read without their ``.container``/``.service`` suffix.
    """
    if not name.startswith(NAME_PREFIX):
        return None
    app_id, separator, part = name[len(NAME_PREFIX) :].partition(NAME_SEPARATOR)
    if not separator or not app_id or not part:
        return None
    return app_id, part


def member_unit_name(app_id: str, container_name: str) -> str:
    """The unit's base name: ``archy-<app>_<container>`` (+ .container / .service)."""
    return derived_name(app_id, container_name)


def podman_secret_name(app_id: str, secret_name: str) -> str:
    """The Podman secret that holds one generated secret of an app: ``archy-<app>_<secret>``."""
    return derived_name(app_id, secret_name)


# The owner part of the names of capability-exported secrets: a reserved app id (P024),
# so ``archy-cap_<capability>_<secret>`` is never another app's derived name.
CAPABILITY_OWNER = "cap"


def secret_home(manifest: Manifest, secret_name: str) -> tuple[str, str]:
    """(owner, name) under which the node keeps one of ``manifest``'s generated secrets.

    An app's own secret is ``(app, name)``; a secret it exports with a capability
    is ``("cap", "<capability>_<name>")``: kept once per node for the capability,
    so every dependent and whichever provider is installed use one Podman secret
    (``archy-cap_<capability>_<name>``), and switching providers keeps its value.
    """
    exported = manifest.exported_secret(secret_name)
    if exported is None:
        return manifest.id, secret_name
    return capability_secret_home(exported.capability, secret_name)


@dataclass(frozen=True)
class SecretHome:
    """One generated secret of an app and where the node keeps it.

    ``secret`` carries the name the node files it under (``name``), so generating
    it needs nothing else; ``exported`` is True for a capability's secret.  An owner
    setting (``owner_settings``) has no ``secret``: the node never generates it, the
    owner supplies it with ``archy-node configure``.
    """

    secret: GeneratedSecret | None
    owner: str
    name: str
    exported: bool

    @property
    def podman_name(self) -> str:
        return podman_secret_name(self.owner, self.name)


def secret_homes(manifest: Manifest) -> list[SecretHome]:
    """Every generated secret of ``manifest`` with the (owner, name) the node keeps it under."""
    homes: list[SecretHome] = []
    for secret in manifest.generated_secrets:
        owner, name = secret_home(manifest, secret.name)
        homes.append(
            SecretHome(
                secret.model_copy(update={"name": name}),
                owner,
                name,
                exported=owner != manifest.id,
            )
        )
    homes += [
        SecretHome(None, manifest.id, setting.name, exported=False)
        for setting in manifest.owner_settings
    ]
    return homes


def capability_secret_home(capability: str, secret_name: str) -> tuple[str, str]:
    """The (owner, name) of the secret a capability's provider exports."""
    return CAPABILITY_OWNER, f"{capability}{NAME_SEPARATOR}{secret_name}"


def app_data_dir(app_id: str, data_root: str = DEFAULT_DATA_ROOT) -> str:
    """``<data_root>/<app>``: every volume of the app lives below it."""
    return posixpath.join(data_root, app_id)


def volume_host_path(
    app_id: str, volume_name: str, host_path: str | None, data_root: str = DEFAULT_DATA_ROOT
) -> str:
    """The host side of a volume: the granted ``host_path``, or ``<data_root>/<app>/<name>``.

    Normalised (``//`` and ``.`` collapse, no trailing ``/``), so equal dirs compare
    equal.  A relative ``host_path`` is refused (P003); it would name a dir of the
    app's data dir.
    """
    if host_path is not None:
        return normalise_path(posixpath.join(app_data_dir(app_id, data_root), host_path))
    return posixpath.join(app_data_dir(app_id, data_root), volume_name)


def normalise_path(path: str) -> str:
    """``//var/./lib/x/`` -> ``/var/lib/x`` (``..`` steps up; it is refused elsewhere)."""
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


def bind_address(expose: Literal["lan", "tor", "local"]) -> str:
    """The host address a published port binds: "" (all interfaces) for lan, else loopback."""
    return "" if expose == "lan" else "127.0.0.1"


def host_uid_for(container_uid: int, user_uid: int, subuid_start: int, subuid_count: int) -> int:
    """The host uid that rootless Podman (``UserNS=host``) maps ``container_uid`` to."""
    if container_uid == 0:
        return user_uid
    if not 1 <= container_uid <= subuid_count:
        raise ValueError(
            f"container uid {container_uid} is outside the node user's "
            f"{subuid_count} subordinate uids"
        )
    return subuid_start + container_uid - 1


# -- the spec --------------------------------------------------------------------------------


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


# -- health probes ---------------------------------------------------------------------------

_HTTP_PROBE = 'curl -fsS -o /dev/null "$1" 2>/dev/null || wget -q -O /dev/null "$1"'
_TCP_PROBE = (
    'nc -z 127.0.0.1 "$1" 2>/dev/null || '
    'bash -c \'exec 3<>"/dev/tcp/127.0.0.1/$0"\' "$1" 2>/dev/null'
)


def health_command(health: Health) -> tuple[str, ...]:
    """The exec-form command that checks a member's health inside its container."""
    if health.cmd is not None:
        return tuple(health.cmd)
    if health.http is not None:
        url = f"http://127.0.0.1:{health.http.port}{health.http.path}"
        return ("/bin/sh", "-c", _HTTP_PROBE, "archy-health", url)
    assert health.tcp is not None  # the model allows exactly one kind
    return ("/bin/sh", "-c", _TCP_PROBE, "archy-health", str(health.tcp.port))


# -- building specs --------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def add(self, location: Location, message: str, rule: str = "P023") -> None:
        self.problems.append(SpecProblem(location, message, rule))

    def text(self, location: Location, value: str) -> None:
        problem = unit_text_problem(value)
        if problem is not None:
            self.add(location, f"{problem}; remove it")

    def path(self, location: Location, value: str, what: str, dots_rule: str = "P003") -> None:
        if SAFE_PATH.fullmatch(value) is None:
            self.add(
                location,
                f"{what} {value!r} may use only letters, digits and . _ @ + = ~ / - "
                "(':' and ',' would split the volume option, '%' is a systemd specifier, "
                "spaces and quotes would need a shell); rename the path",
            )
        elif ".." in value.split("/"):
            self.add(
                location, f"{what} {value!r} must not contain '..'; write it without", dots_rule
            )


def _mount_users(manifest: Manifest, data_root: str) -> dict[str, int]:
    """How many members of the app mount each host dir."""
    users: dict[str, int] = {}
    for member in manifest.containers:
        for host in {
            volume_host_path(manifest.id, v.name, v.host_path, data_root) for v in member.volumes
        }:
            users[host] = users.get(host, 0) + 1
    return users


def _selinux_label(
    host: str, manifest: Manifest, data_root: str, sharers: int
) -> Literal["Z", "z", ""]:
    data_dir = app_data_dir(manifest.id, data_root)
    if not (host == data_dir or host.startswith(data_dir + "/")):
        return ""
    return "z" if sharers > 1 else "Z"


def _member_spec(
    manifest: Manifest,
    index: int,
    member: Container,
    data_root: str,
    mount_users: Mapping[str, int],
    collect: _Collector,
) -> MemberSpec:
    here: Location = ("containers", index)
    declared = {secret.name for secret in manifest.generated_secrets}
    required = {requirement.app for requirement in manifest.requires}
    if member.privileged:
        collect.add(
            (*here, "privileged"),
            "privileged containers are never run; remove 'privileged: true'",
            "P001",
        )

    environment: list[tuple[str, str]] = []
    secrets: list[SecretEnv] = []
    for name, value in sorted(member.env.items()):
        if isinstance(value, SecretRef) and value.from_capability is not None:
            capability = value.from_capability
            if capability not in required:
                collect.add(
                    (*here, "env", name, "from"),
                    f"secret {value.secret!r} comes from {capability!r}, which this app does not "
                    f"require; add '- app: {capability}' to requires",
                    "P024",
                )
            secrets.append(
                SecretEnv(
                    name, podman_secret_name(*capability_secret_home(capability, value.secret))
                )
            )
        elif isinstance(value, SettingRef):  # declared: the manifest model checks it
            secrets.append(SecretEnv(name, podman_secret_name(manifest.id, value.setting)))
        elif isinstance(value, SecretRef):
            if value.secret not in declared:
                collect.add(
                    (*here, "env", name),
                    f"secret {value.secret!r} is not declared in generated_secrets; declare it",
                    "P008",
                )
            secrets.append(
                SecretEnv(name, podman_secret_name(*secret_home(manifest, value.secret)))
            )
        else:
            collect.text((*here, "env", name), value)
            environment.append((name, value))

    for part in ("entrypoint", "command"):
        for position, argument in enumerate(getattr(member, part) or ()):
            collect.text((*here, part, position), argument)
            if part == "command" and argument == "":
                collect.add(
                    (*here, part, position),
                    "an empty argument is dropped by Quadlet (with every argument after it); "
                    "remove it or pass it through sh -c",
                )
            if part == "command" and argument == ";":
                collect.add(
                    (*here, part, position),
                    "a lone ';' is systemd's command separator in ExecStart=; "
                    "run it through sh -c, written as \\;",
                )

    mounts: list[BindMount] = []
    for position, volume in enumerate(member.volumes):
        host = volume_host_path(manifest.id, volume.name, volume.host_path, data_root)
        if volume.host_path is not None and not volume.host_path.startswith("/"):
            collect.add(
                (*here, "volumes", position, "host_path"),
                f"host_path {volume.host_path!r} is relative; write the absolute path, or "
                "leave host_path out (the volume name is the sub-directory of the app's "
                "data dir)",
                "P003",
            )
        elif volume.host_path is not None:  # as written: normalising would hide a '..'
            collect.path((*here, "volumes", position, "host_path"), volume.host_path, "host path")
        collect.path((*here, "volumes", position, "path"), volume.path, "path")
        label = _selinux_label(host, manifest, data_root, mount_users.get(host, 1))
        mounts.append(BindMount(host, volume.path, volume.read_only, label))

    for position, device in enumerate(member.devices):
        collect.path((*here, "devices", position), device, "device", "P012")

    health: HealthCheck | None = None
    if member.health is not None:
        command = health_command(member.health)
        for position, argument in enumerate(command):
            collect.text((*here, "health", "cmd", position), argument)
        health = HealthCheck(
            command,
            member.health.interval,
            member.health.timeout,
            member.health.retries,
            member.health.start_period,
        )

    host_network = member.host_network
    ports = (
        ()
        if host_network
        else tuple(
            PublishedPort(bind_address(port.expose), port.host_port, port.container, port.protocol)
            for port in member.ports
        )
    )
    resources = member.resources
    description = f"{manifest.name} ({member.name})"
    collect.text(("name",), manifest.name)

    spec = MemberSpec(
        app_id=manifest.id,
        name=member.name,
        unit_name=member_unit_name(manifest.id, member.name),
        description=description,
        image=member.image,
        entrypoint=None if member.entrypoint is None else tuple(member.entrypoint),
        command=None if member.command is None else tuple(member.command),
        environment=tuple(environment),
        secrets=tuple(secrets),
        ports=ports,
        mounts=tuple(mounts),
        health=health,
        depends_on=tuple(dict.fromkeys(member.depends_on)),
        user=member.user,
        userns="host",
        network="host" if host_network else NETWORK_NAME,
        network_aliases=()
        if host_network
        else tuple(
            sorted(
                {
                    entry.alias
                    for entry in manifest.exports
                    if entry.alias is not None and entry.container == member.name
                }
            )
        ),
        read_only_rootfs=member.read_only_rootfs,
        cap_add=tuple(sorted({cap.removeprefix("CAP_") for cap in member.cap_add})),
        devices=tuple(dict.fromkeys(member.devices)),
        memory=None if resources is None else resources.memory,
        cpus=None if resources is None else resources.cpus,
        pids_limit=None if resources is None else resources.pids,
        data_uid=member.data_uid,
        labels=((LABEL_APP, manifest.id), (LABEL_MEMBER, member.name)),
    )
    digest = config_hash(spec, manifest.version, manifest.revision)
    labels = tuple(sorted((*spec.labels, (LABEL_CONFIG_HASH, digest))))
    return dataclasses.replace(spec, labels=labels)


def config_hash(spec: MemberSpec, version: str, revision: int) -> str:
    """BLAKE3 of the canonical JSON of the member's spec and the app's version/revision."""
    document = {"app_version": version, "app_revision": revision, "member": spec.to_document()}
    return blake3_hex(encode_canonical(document))


def app_runtime_specs(manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT) -> list[MemberSpec]:
    """Every member's spec, in manifest order; raises RuntimeSpecError listing every problem."""
    collect = _Collector()
    if SAFE_PATH.fullmatch(data_root) is None or not data_root.startswith("/"):
        collect.add((), f"data root {data_root!r} must be an absolute path of plain characters")
    mount_users = _mount_users(manifest, data_root)
    _check_volume_layout(manifest, data_root, collect)
    specs = [
        _member_spec(manifest, index, member, data_root, mount_users, collect)
        for index, member in enumerate(manifest.containers)
    ]
    try:
        start_order(specs)
    except RuntimeSpecError as error:
        collect.problems.extend(error.problems)
    if collect.problems:
        raise RuntimeSpecError(_unique(collect.problems))
    return specs


def path_is_within(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or below it (both normalised)."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def volume_host_sides(manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT) -> list[VolumeHost]:
    """Every volume's normalised host dir and the field that decides it, in manifest order.

    A relative ``host_path`` (refused, P003) is left out: it names no dir yet.
    """
    found: list[VolumeHost] = []
    for i, member in enumerate(manifest.containers):
        for j, volume in enumerate(member.volumes):
            if volume.host_path is not None and not volume.host_path.startswith("/"):
                continue
            field = "name" if volume.host_path is None else "host_path"
            host = volume_host_path(manifest.id, volume.name, volume.host_path, data_root)
            found.append(VolumeHost(("containers", i, "volumes", j, field), host))
    return found


@dataclass(frozen=True)
class VolumeHost:
    """Where a volume's host dir is decided (the field) and which dir that is."""

    location: Location
    host: str


def _check_volume_layout(manifest: Manifest, data_root: str, collect: _Collector) -> None:
    """P021: no volume's host dir is a dir the node keeps, or holds another volume's dir.

    A container that mounts a dir holding another volume's host dir can replace
    that inner dir with a symlink; Podman follows it at the next start and the
    app writes wherever the link points.  So host dirs sit side by side: never
    the data root, never an app's data dir itself, never one inside another
    (the same dir for several volumes is fine: one dir, shared).
    """
    root = normalise_path(data_root)
    own = app_data_dir(manifest.id, root)
    volumes = volume_host_sides(manifest, root)
    refused: set[str] = set()
    for volume in volumes:
        if volume.host == own:
            message = (
                f"host path {volume.host} is the app's data dir itself, which holds the "
                "node's files for the app and every other volume; mount a sub-directory "
                "(leave host_path out: the volume name is the sub-directory)"
            )
        elif path_is_within(root, volume.host):
            message = (
                f"host path {volume.host} holds the data dir of every app ({root}); "
                "mount a sub-directory of the app's own data dir"
            )
        elif posixpath.dirname(volume.host) == root:
            message = (
                f"host path {volume.host} is the data dir of the app "
                f"{posixpath.basename(volume.host)!r}, not a volume of it; mount one of "
                "its volume dirs (read-only) if the permission is granted"
            )
        else:
            continue
        collect.add(volume.location, message, "P021")
        refused.add(volume.host)
    side_by_side = "give every volume a dir of its own, side by side in the app's data dir"
    for volume in volumes:
        for other in volumes:
            if other.host == volume.host or {volume.host, other.host} & refused:
                continue
            where = format_field_path(other.location)
            if path_is_within(other.host, volume.host):
                collect.add(
                    volume.location,
                    f"host path {volume.host} holds {other.host}, the host path of {where}: "
                    "this container could replace that dir with a symlink and redirect the "
                    f"other mount; {side_by_side}",
                    "P021",
                )
            elif path_is_within(volume.host, other.host):
                collect.add(
                    volume.location,
                    f"host path {volume.host} lies inside {other.host}, the host path of "
                    f"{where}, whose container could replace it with a symlink; {side_by_side}",
                    "P021",
                )


def _unique(problems: Iterable[SpecProblem]) -> list[SpecProblem]:
    return list(dict.fromkeys(problems))


def start_order(specs: Sequence[MemberSpec]) -> list[MemberSpec]:
    """Members with every dependency before its dependents; ties keep manifest order."""
    by_name = {spec.name: spec for spec in specs}
    started: list[MemberSpec] = []
    done: set[str] = set()
    remaining = list(specs)
    while remaining:
        ready = [
            spec
            for spec in remaining
            if all(dep in done or dep not in by_name for dep in spec.depends_on)
        ]
        if not ready:
            names = ", ".join(spec.name for spec in remaining)
            raise RuntimeSpecError(
                [
                    SpecProblem(
                        ("containers",),
                        f"depends_on forms a cycle among {names}; remove one of these depends_on",
                        "P010",
                    )
                ]
            )
        first = ready[0]
        started.append(first)
        done.add(first.name)
        remaining.remove(first)
    return started
