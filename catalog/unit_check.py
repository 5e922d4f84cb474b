"""Is this unit what the renderer would write for this app?  The node asks before writing it.

A node cannot re-render (it carries no jinja2), and the catalog's units are
bytes CI produced after the policy ran: a tampered or hostile catalog that is
still validly signed could carry ``PodmanArgs=--privileged``, ``Volume=/:/host``
or an extra ``ExecStartPre=``.  So the node reads every unit back with the
project's systemd parser (:mod:`catalog.systemd_syntax`) and accepts it only
when it holds exactly the entries the renderer derives from the embedded
manifest through :mod:`catalog.runtime_spec`, the one place both share:

* the unit file names are the app's derived names (one ``.container`` per
  member, plus the network unit of its registry: ``archy-net.network`` for the
  official one, ``archy-<hex>-net.network`` for a third party's,
  :mod:`catalog.app_network`), nothing else (no drop-ins,
  no other unit types);
* each file starts with the renderer's header naming the app, has only the
  sections and keys of :data:`ALLOWED_KEYS`, no line continuations, and every
  entry equals one the member's spec yields (``Volume=`` host sides,
  ``Secret=``, ``ContainerName=``, ``Network=``, ``AddCapability=``,
  ``PodmanArgs=`` memory/cpus …), escaped the way the renderer escapes it;
  every expected entry is present (a unit that drops ``DropCapability=ALL`` or
  ``NoNewPrivileges=true`` escapes the sandbox just as well);
* the embedded manifest itself asks for nothing the policy forbids without a
  permission (:func:`sandbox_problems`): capabilities off the allowlist,
  devices not granted, host networking not granted, host paths outside the
  app's data dir that are not granted, read-only and under the data root.

The two values the node cannot recompute are treated leniently and are
harmless: ``TimeoutStartSec=`` (any whole number of seconds) and ``Image=``
(the manifest's reference or the catalog's pinned one).

``tests/catalog/test_unit_check.py`` renders every app in ``apps/`` and
requires its units to pass, so this module and the renderer stay in step.
Pure: text in, a list of one-line problems out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from catalog.app_network import network_unit_file
from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.runtime_names import (
    DEFAULT_DATA_ROOT,
    NETWORK_NAME,
    app_data_dir,
    member_unit_name,
    volume_host_path,
)
from catalog.runtime_spec import ALLOWED_CAPABILITIES, NET_ADMIN_CAPABILITIES, app_runtime_specs
from catalog.spec_problems import RuntimeSpecError
from catalog.systemd_syntax import (
    UnitSyntaxError,
    parse_unit,
    plain_text_value,
    quote_word,
    quote_words,
    raw_value,
)

# Every (section, key) the member template can write.
ALLOWED_KEYS: Mapping[str, frozenset[str]] = {
    "Unit": frozenset({"Description", "Requires", "After"}),
    "Container": frozenset(
        {
            "ContainerName",
            "Image",
            "Entrypoint",
            "Exec",
            "Network",
            "NetworkAlias",
            "PublishPort",
            "Volume",
            "Environment",
            "Secret",
            "User",
            "UserNS",
            "DropCapability",
            "AddCapability",
            "NoNewPrivileges",
            "ReadOnly",
            "AddDevice",
            "PidsLimit",
            "PodmanArgs",
            "HealthCmd",
            "HealthInterval",
            "HealthTimeout",
            "HealthRetries",
            "HealthStartPeriod",
            "Notify",
            "Label",
        }
    ),
    "Service": frozenset({"Restart", "TimeoutStartSec"}),
    "Install": frozenset({"WantedBy"}),
}

NETWORK_HEADER = "# Rendered by the Archipelago registry; shared by every app; do not edit."


# Every app network is isolated: podman drops traffic between two isolated networks, so
# an app of one registry cannot reach another registry's app by IP either.
NETWORK_ISOLATION = "isolate=true"


def network_entries(network: str = NETWORK_NAME) -> list[Entry]:
    """The entries of the network unit the renderer writes for ``network``.  The check also
    accepts ``archy-net``'s without the isolation option (catalogs rendered before it):
    the engines refuse to create a registry's network beside such an ``archy-net``."""
    return [
        ("Unit", "Description", "Archipelago app network"),
        ("Network", "NetworkName", raw_value(network)),
        ("Network", "Options", NETWORK_ISOLATION),
    ]


_TIMEOUT = re.compile(r"^[1-9][0-9]{0,6}$")

Entry = tuple[str, str, str]


def unit_header(app_id: str) -> str:
    """The first line the renderer writes into every member unit of ``app_id``."""
    return f"# Rendered by the Archipelago registry from the manifest of {app_id}; do not edit."


def container_unit_file(app_id: str, member: str) -> str:
    """The file name of a member's unit: its derived unit name + ``.container``."""
    return f"{member_unit_name(app_id, member)}.container"


def service_unit(app_id: str, member: str) -> str:
    """The systemd service Quadlet generates from a member's unit."""
    return f"{member_unit_name(app_id, member)}.service"


def unit_owner(first_line: str) -> str | None:
    """The app a unit file's first line says it belongs to; "" for the shared network unit;
    None when the line is not one the renderer writes."""
    if first_line == NETWORK_HEADER:
        return ""
    prefix, _, rest = unit_header("\x00").partition("\x00")
    if first_line.startswith(prefix) and first_line.endswith(rest):
        owner = first_line[len(prefix) : len(first_line) - len(rest)]
        return owner or None
    return None


# -- the manifest's own sandbox ---------------------------------------------------------------


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def sandbox_problems(manifest: Manifest, data_roots: Collection[str]) -> list[str]:
    """What the embedded manifest asks for that the policy forbids (one line each)."""
    problems: list[str] = []
    permissions = manifest.permissions
    granted_paths = {path.rstrip("/") or "/" for path in permissions.host_paths}
    for member in manifest.containers:
        where = f"member {member.name}"
        if member.privileged:
            problems.append(f"{where} asks to run privileged")
        if member.host_network and not permissions.host_network:
            problems.append(f"{where} asks for the host network without permissions.host_network")
        for name in member.cap_add:
            capability = name.removeprefix("CAP_")
            if capability in ALLOWED_CAPABILITIES:
                continue
            if capability in NET_ADMIN_CAPABILITIES and permissions.net_admin:
                continue
            problems.append(f"{where} adds capability {capability}, which the policy forbids")
        for device in member.devices:
            if device not in permissions.devices or not device.startswith("/dev/"):
                problems.append(f"{where} asks for device {device}, not in permissions.devices")
        for volume in member.volumes:
            own = [
                volume_host_path(manifest.id, volume.name, volume.host_path, root)
                for root in data_roots
            ]
            if any(_within(host, app_data_dir(manifest.id, root)) for host, root in
                   zip(own, data_roots, strict=True)):  # fmt: skip
                continue
            host = own[0]
            if host not in granted_paths:
                problems.append(
                    f"{where} mounts {host}, outside the app's data dir and not granted "
                    "in permissions.host_paths"
                )
            elif not any(_within(host, root) for root in data_roots):
                problems.append(f"{where} mounts {host}, outside the node's data root")
            elif not volume.read_only:
                problems.append(
                    f"{where} mounts another app's data {host} writable (only read-only)"
                )
    return problems


# -- the units --------------------------------------------------------------------------------


def member_entries(spec: MemberSpec) -> list[Entry]:
    """The entries the member template writes for ``spec``, escaped as it escapes them.

    ``TimeoutStartSec`` is left out (checked for shape only); ``Image`` is the spec's.
    """
    c = "Container"
    entries: list[Entry] = [("Unit", "Description", plain_text_value(spec.description))]
    for dependency in spec.depends_on:
        service = raw_value(service_unit(spec.app_id, dependency))
        entries += [("Unit", "Requires", service), ("Unit", "After", service)]
    entries += [(c, "ContainerName", raw_value(spec.name)), (c, "Image", raw_value(spec.image))]
    if spec.entrypoint_argument is not None:
        entries.append((c, "Entrypoint", raw_value(spec.entrypoint_argument)))
    if spec.command:
        entries.append((c, "Exec", quote_words(spec.command)))
    network = "host" if spec.network == "host" else network_unit_file(spec.network)
    entries.append((c, "Network", raw_value(network)))
    entries += [(c, "NetworkAlias", raw_value(alias)) for alias in spec.network_aliases]
    entries += [(c, "PublishPort", raw_value(p.publish_argument)) for p in spec.ports]
    entries += [(c, "Volume", raw_value(m.volume_argument)) for m in spec.mounts]
    entries += [(c, "Environment", quote_word(f"{k}={v}")) for k, v in spec.environment]
    entries += [(c, "Secret", quote_word(s.secret_argument)) for s in spec.secrets]
    if spec.user is not None:
        entries.append((c, "User", raw_value(spec.user)))
    entries += [
        (c, "UserNS", raw_value(spec.userns)),
        (c, "DropCapability", raw_value(" ".join(spec.cap_drop))),
    ]
    if spec.cap_add:
        entries.append((c, "AddCapability", raw_value(" ".join(spec.cap_add))))
    entries.append((c, "NoNewPrivileges", "true"))
    if spec.read_only_rootfs:
        entries.append((c, "ReadOnly", "true"))
    entries += [(c, "AddDevice", raw_value(device)) for device in spec.devices]
    if spec.pids_limit is not None:
        entries.append((c, "PidsLimit", str(spec.pids_limit)))
    if spec.memory is not None:
        entries.append((c, "PodmanArgs", quote_word(f"--memory={spec.memory}")))
    if spec.cpus is not None:
        entries.append((c, "PodmanArgs", quote_word(f"--cpus={spec.cpus}")))
    if spec.health is not None:
        health = spec.health
        entries += [
            (c, "HealthCmd", raw_value(health.command_argument)),
            (c, "HealthInterval", raw_value(health.interval)),
            (c, "HealthTimeout", raw_value(health.timeout)),
            (c, "HealthRetries", str(health.retries)),
            (c, "HealthStartPeriod", raw_value(health.start_period)),
            (c, "Notify", "healthy"),
        ]
    entries += [(c, "Label", quote_word(f"{k}={v}")) for k, v in spec.labels]
    entries += [("Service", "Restart", "always"), ("Install", "WantedBy", "default.target")]
    return entries


def _shape_problems(text: str, header: str) -> tuple[list[str], list[Entry]]:
    """Lines systemd and our parser could read differently, and the entries."""
    lines = text.split("\n")
    if lines[0] != header:
        return [f"its first line is not the renderer's header {header!r}"], []
    for number, line in enumerate(lines, start=1):
        if "\r" in line or line.endswith("\\"):
            return [f"line {number} continues a line (the renderer never does)"], []
        if line != line.strip() and line.strip():
            return [f"line {number} has leading or trailing whitespace"], []
    try:
        parsed = parse_unit(text)
    except UnitSyntaxError as error:
        return [str(error)], []
    return [], [(entry.section, entry.key, entry.value) for entry in parsed]


def _describe(entry: Entry) -> str:
    section, key, value = entry
    shown = value if len(value) <= 120 else value[:117] + "..."
    return f"[{section}] {key}={shown}"


def _member_unit_problems(
    text: str, spec_choices: Sequence[MemberSpec], images: Collection[str]
) -> list[str]:
    """Problems of one member unit against the spec of each data root; the fewest win."""
    header = unit_header(spec_choices[0].app_id)
    shape, entries = _shape_problems(text, header)
    if shape:
        return shape
    best: list[str] | None = None
    for spec in spec_choices:
        problems: list[str] = []
        expected = Counter(member_entries(spec))
        found: Counter[Entry] = Counter()
        for entry in entries:
            section, key, value = entry
            if key not in ALLOWED_KEYS.get(section, frozenset()):
                problems.append(f"{_describe(entry)}: a key the renderer never writes")
            elif (section, key) == ("Service", "TimeoutStartSec"):
                if _TIMEOUT.fullmatch(value) is None:
                    problems.append(f"{_describe(entry)}: not a whole number of seconds")
            elif (section, key) == ("Container", "Image") and value in images:
                found[(section, key, raw_value(spec.image))] += 1
            else:
                found[entry] += 1
        for entry, count in sorted((found - expected).items()):
            problems += [f"{_describe(entry)}: not what the app's manifest asks for"] * count
        for entry, count in sorted((expected - found).items()):
            problems += [f"{_describe(entry)} is missing"] * count
        if best is None or len(problems) < len(best):
            best = problems
        if not problems:
            break
    return best or []


def check_app_units(
    manifest: Manifest,
    units: Mapping[str, str],
    *,
    data_root: str,
    images: Collection[str] = (),
    network: str = NETWORK_NAME,
) -> list[str]:
    """Why the node must not write ``units`` for ``manifest``'s app ([] when they pass).

    ``data_root`` is the node's; units rendered for the catalog's default root pass
    too.  ``network`` is the app's registry's (``catalog.app_network.app_network``).
    ``images`` are further ``Image=`` values allowed (the catalog's pinned
    references).  Every problem names the unit and the offending line.
    """
    roots = list(dict.fromkeys([DEFAULT_DATA_ROOT, data_root]))
    problems = [f"manifest: {p}" for p in sandbox_problems(manifest, roots)]
    try:
        by_root = [app_runtime_specs(manifest, root, network) for root in roots]
    except RuntimeSpecError as error:
        return [*problems, f"manifest: {error}"]
    allowed_images = {raw_value(image) for image in images}
    expected_files = {container_unit_file(manifest.id, m.name) for m in manifest.containers}
    network_file = network_unit_file(network)
    expected_files.add(network_file)
    for name in sorted(set(units) - expected_files):
        problems.append(f"unit {name}: not a unit the renderer writes for this app")
    for name in sorted(expected_files - set(units)):
        problems.append(f"unit {name} is missing")
    for index, member in enumerate(manifest.containers):
        name = container_unit_file(manifest.id, member.name)
        if name not in units:
            continue
        choices = [specs[index] for specs in by_root]
        images_here = allowed_images | {raw_value(member.image)}
        for problem in _member_unit_problems(units[name], choices, images_here):
            problems.append(f"unit {name}: {problem}")
    if network_file in units:
        shape, entries = _shape_problems(units[network_file], NETWORK_HEADER)
        accepted = [sorted(network_entries(network))]
        if network == NETWORK_NAME:  # catalogs rendered before networks were isolated
            accepted.append(sorted(network_entries(network)[:2]))
        if shape or sorted(entries) not in accepted:
            detail = shape[0] if shape else f"its entries are not the network {network}'s"
            problems.append(f"unit {network_file}: {detail}")
    return problems
