"""What a manifest member means to a container engine, decided once for every backend.

The Quadlet renderer (``pipeline.render``) and the podman backend
(``node_runtime.engines.podman_args``) both turn a :class:`MemberSpec` into their
own syntax and decide nothing themselves, so the two cannot drift.  Pure:
a manifest in, frozen values out (or a :class:`RuntimeSpecError` listing every
field that cannot be run).

This module builds the specs; the decisions it relies on each have one home:
names and host paths in :mod:`catalog.runtime_names`, secret homes in
:mod:`catalog.secret_homes`, the value types in :mod:`catalog.member_spec`, the
volume layout rule (P021) in :mod:`catalog.volume_layout`, and the problem
types in :mod:`catalog.spec_problems`.

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
  for adoption; policy P007/P022 keep it unique).  One network per registry,
  never derived from an app id: ``archy-net`` (unit ``archy-net.network``) for the
  official registry, ``archy-<hex>-net`` for a third party's (``catalog.app_network``);
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
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical
from catalog.manifest import Container, Health, Manifest, SecretRef, SettingRef
from catalog.member_spec import BindMount, HealthCheck, MemberSpec, PublishedPort, SecretEnv
from catalog.runtime_names import (
    DEFAULT_DATA_ROOT,
    LABEL_APP,
    LABEL_CONFIG_HASH,
    LABEL_MEMBER,
    NETWORK_NAME,
    app_data_dir,
    capability_secret_home,
    member_unit_name,
    podman_secret_name,
    volume_host_path,
)
from catalog.secret_homes import secret_home
from catalog.spec_problems import (
    SAFE_PATH,
    Location,
    ProblemCollector,
    RuntimeSpecError,
    SpecProblem,
)
from catalog.volume_layout import check_volume_layout

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
    collect: ProblemCollector,
    network: str = NETWORK_NAME,
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
        network="host" if host_network else network,
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


def app_runtime_specs(
    manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT, network: str = NETWORK_NAME
) -> list[MemberSpec]:
    """Every member's spec, in manifest order, on ``network`` (its registry's: ``archy-net``
    for the official one); raises RuntimeSpecError listing every problem."""
    collect = ProblemCollector()
    if SAFE_PATH.fullmatch(data_root) is None or not data_root.startswith("/"):
        collect.add((), f"data root {data_root!r} must be an absolute path of plain characters")
    mount_users = _mount_users(manifest, data_root)
    check_volume_layout(manifest, data_root, collect)
    specs = [
        _member_spec(manifest, index, member, data_root, mount_users, collect, network)
        for index, member in enumerate(manifest.containers)
    ]
    try:
        start_order(specs)
    except RuntimeSpecError as error:
        collect.problems.extend(error.problems)
    if collect.problems:
        raise RuntimeSpecError(_unique(collect.problems))
    return specs


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
