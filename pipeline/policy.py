"""The security policy: what an app may ask of a node, checked before anything is built.

Pure functions over parsed manifests (:class:`~catalog.loader.ManifestSource`):
:func:`check_app` runs the rules one manifest can break, :func:`check_app_set`
the rules only the whole catalog shows (``pipeline.crossapp``), and
:func:`check_all` both.  Every problem names the file, the line and the field
path, says how to fix it, and carries a rule id (``P001`` …) that never
changes meaning; ``docs/policy.md`` is the table app authors read.  Every
problem is reported, in a fixed order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol

from catalog.loader import Location, ManifestSource
from catalog.manifest import SecretRef
from catalog.problems import Problem, format_field_path
from catalog.runtime_spec import ALLOWED_CAPABILITIES, NET_ADMIN_CAPABILITIES, app_runtime_specs
from catalog.spec_problems import RuntimeSpecError
from pipeline.crossapp import check_catalog
from pipeline.crossapp_messages import port_location
from pipeline.dependency_cycles import find_cycles
from pipeline.hostpaths import (
    canonical,
    host_side,
)
from pipeline.policy_host_access import (
    check_devices,
    check_engine_mounts,
    check_hooks,
    check_host_paths,
)
from pipeline.policy_rules import problem_order, warning

AppRule = Callable[[ManifestSource], Iterable[Problem]]


def check_privileged(app: ManifestSource) -> Iterator[Problem]:
    """P001."""
    for i, member in enumerate(app.manifest.containers):
        if member.privileged:
            yield app.problem(
                ("containers", i, "privileged"),
                "privileged containers are never allowed; remove 'privileged: true' and add "
                "only the capabilities the app needs with cap_add",
                "P001",
            )


def check_host_network(app: ManifestSource) -> Iterator[Problem]:
    """P004."""
    if app.manifest.permissions.host_network:
        return
    for i, member in enumerate(app.manifest.containers):
        if member.host_network:
            yield app.problem(
                ("containers", i, "host_network"),
                "host networking needs a reviewed permission; publish ports instead, or add "
                "'host_network: true' under permissions and say why in the pull request",
                "P004",
            )


def check_image_tags(app: ManifestSource) -> Iterator[Problem]:
    """P005: a human-readable, non-moving tag on every image."""
    for i, member in enumerate(app.manifest.containers):
        tag = member.image_tag
        if tag is None:
            yield app.problem(
                ("containers", i, "image"),
                f"image {member.image!r} has no tag; write repository:tag "
                "(e.g. nginx:1.27.3), with @sha256:… after the tag if you pin a digest",
                "P005",
            )
        elif tag.lower() == "latest":
            yield app.problem(
                ("containers", i, "image"),
                f"image tag {tag!r} moves; pin the release tag (e.g. nginx:1.27.3)",
                "P005",
            )


def image_digests(app: ManifestSource, *, required: bool) -> Iterator[Problem]:
    """P015: every image pinned by digest; an error when publishing, a warning otherwise."""
    for i, member in enumerate(app.manifest.containers):
        if member.image_digest is None:
            problem = app.problem(
                ("containers", i, "image"),
                f"image {member.image!r} is not pinned; append @sha256:<digest> "
                "(podman image inspect --format '{{.Digest}}' shows it); publishing refuses "
                "images without one",
                "P015",
            )
            yield problem if required else warning(problem)


def check_host_ports_in_app(app: ManifestSource) -> Iterator[Problem]:
    """P006 inside one app: two members (or ports) of a stack cannot share a host port."""
    seen: dict[tuple[int, str], Location] = {}
    for i, member in enumerate(app.manifest.containers):
        for j, port in enumerate(member.ports):
            key = (port.host_port, port.protocol)
            location = port_location(i, j, port)
            first = seen.setdefault(key, location)
            if first is not location:
                yield app.problem(
                    location,
                    f"host port {port.host_port}/{port.protocol} is already published by "
                    f"{format_field_path(first[:4])} (line {app.line_of(*first)}); give this "
                    "one another host port",
                    "P006",
                )


def check_secrets(app: ManifestSource) -> Iterator[Problem]:
    """P008: every secret used is declared; a declared secret never used is a warning."""
    declared = {secret.name for secret in app.manifest.generated_secrets}
    used: set[str] = set()
    for i, member in enumerate(app.manifest.containers):
        for key, value in member.env.items():
            if not isinstance(value, SecretRef) or value.from_capability is not None:
                continue  # a provider's exported secret: P024 (catalog) checks it
            used.add(value.secret)
            if value.secret not in declared:
                yield app.problem(
                    ("containers", i, "env", key, "secret"),
                    f"secret {value.secret!r} is not declared; add '- name: {value.secret}' "
                    "under generated_secrets",
                    "P008",
                )
    for k, secret in enumerate(app.manifest.generated_secrets):
        if secret.name not in used and app.manifest.exported_secret(secret.name) is None:
            yield warning(
                app.problem(
                    ("generated_secrets", k, "name"),
                    f"secret {secret.name!r} is generated but no env uses it; use it with "
                    f"{{secret: {secret.name}}} or remove it",
                    "P008",
                )
            )


def check_start_order(app: ManifestSource) -> Iterator[Problem]:
    """P010 inside one app: depends_on between members never loops."""
    members = app.manifest.containers
    graph = {member.name: list(member.depends_on) for member in members}
    for cycle in find_cycles(graph):
        i = next(index for index, member in enumerate(members) if member.name == cycle[0])
        j = members[i].depends_on.index(cycle[1])
        yield app.problem(
            ("containers", i, "depends_on", j),
            f"start-order cycle: {' -> '.join(cycle)}; members cannot wait for each other, "
            "remove one of these depends_on",
            "P010",
        )


def check_capabilities(app: ManifestSource) -> Iterator[Problem]:
    """P011."""
    net_admin = app.manifest.permissions.net_admin
    for i, member in enumerate(app.manifest.containers):
        for k, name in enumerate(member.cap_add):
            capability = name.removeprefix("CAP_")
            if capability in ALLOWED_CAPABILITIES:
                continue
            if capability in NET_ADMIN_CAPABILITIES:
                if net_admin:
                    continue
                message = (
                    f"{name} needs a reviewed permission; add 'net_admin: true' under "
                    "permissions (VPN and firewall apps only)"
                )
            else:
                message = (
                    f"{name} is not allowed; use only "
                    f"{', '.join(sorted(ALLOWED_CAPABILITIES))} (and NET_ADMIN, NET_RAW with "
                    "permissions.net_admin)"
                )
            yield app.problem(("containers", i, "cap_add", k), message, "P011")


def check_ui(app: ManifestSource) -> Iterator[Problem]:
    """P014: the proxy reaches the UI through a published port; UI members report health."""
    ui = app.manifest.ui
    if ui is None:
        return
    member = app.manifest.member(ui.container)
    published = sorted({port.container for port in member.ports})
    if ui.port not in published:
        choices = f"one of {published}" if published else "a port you publish"
        yield app.problem(
            ("ui", "port"),
            f"ui.port {ui.port} is not a container port of {ui.container!r}; add "
            f"'- container: {ui.port}' to its ports, or set ui.port to {choices}",
            "P014",
        )
    if member.health is None:
        yield warning(
            app.problem(
                ("ui", "container"),
                f"{ui.container!r} serves the UI but has no health check, so the node cannot "
                "tell when the UI is up; add health: {http: {port: "
                f"{ui.port}, path: /}}}}",
                "P014",
            )
        )


def check_data_uid(app: ManifestSource) -> Iterator[Problem]:
    """P017."""
    for i, member in enumerate(app.manifest.containers):
        if member.data_uid is not None and not member.volumes:
            yield warning(
                app.problem(
                    ("containers", i, "data_uid"),
                    "data_uid sets the owner of the member's volumes, but it has none; "
                    "remove data_uid or add the volume",
                    "P017",
                )
            )


def check_unused_permissions(app: ManifestSource) -> Iterator[Problem]:
    """P020: ask only for what a member uses, so reviewers review what matters."""
    manifest = app.manifest
    permissions = manifest.permissions
    members = manifest.containers

    def unused(location: Location, what: str) -> Problem:
        return warning(
            app.problem(location, f"{what}, but no member uses it; remove the permission", "P020")
        )

    if permissions.host_network and not any(member.host_network for member in members):
        yield unused(("permissions", "host_network"), "host_network is granted")
    if permissions.net_admin and not any(
        capability.removeprefix("CAP_") in NET_ADMIN_CAPABILITIES
        for member in members
        for capability in member.cap_add
    ):
        yield unused(("permissions", "net_admin"), "net_admin is granted")
    used_devices = {canonical(device) for member in members for device in member.devices}
    for k, device in enumerate(permissions.devices):
        if canonical(device) not in used_devices:
            yield unused(("permissions", "devices", k), f"device {device} is granted")
    used_paths = {
        host_side(volume.host_path, manifest.id)
        for member in members
        for volume in member.volumes
        if volume.host_path is not None
    }
    for k, path in enumerate(permissions.host_paths):
        if canonical(path) not in used_paths:
            yield unused(("permissions", "host_paths", k), f"host path {path} is granted")


APP_RULES: tuple[AppRule, ...] = (
    check_privileged,
    check_engine_mounts,
    check_host_paths,
    check_host_network,
    check_image_tags,
    check_host_ports_in_app,
    check_secrets,
    check_start_order,
    check_capabilities,
    check_devices,
    check_hooks,
    check_ui,
    check_data_uid,
    check_unused_permissions,
)


def runtime_spec_problems(app: ManifestSource, reported: Sequence[Problem]) -> Iterator[Problem]:
    """What ``catalog.runtime_spec`` refuses (P021, P023, and parts of P003), as problems.

    Rendering and the node build the same spec, so running it here makes
    "validate passes" mean "render and build accept the app".  A refusal
    another rule already reported (same rule, same field or a field below it:
    P001, P003's '..', P008, P010, P012) is not repeated.
    """
    try:
        app_runtime_specs(app.manifest)
    except RuntimeSpecError as error:
        for spec_problem in error.problems:
            problem = app.problem(spec_problem.location, spec_problem.message, spec_problem.rule)
            if not any(
                other.rule == problem.rule
                and other.severity == "error"
                and _is_at_or_below(other.field, problem.field)
                for other in reported
            ):
                yield problem


def _is_at_or_below(field: str, ancestor: str) -> bool:
    """``containers[0].env.A.secret`` is at or below ``containers[0].env.A``."""
    return field == ancestor or field.startswith((f"{ancestor}.", f"{ancestor}["))


def check_app(app: ManifestSource, *, require_digests: bool = False) -> list[Problem]:
    """Every per-app rule on one manifest; ``require_digests`` makes P015 an error (publishing)."""
    problems: list[Problem] = []
    for rule in APP_RULES:
        problems.extend(rule(app))
    problems.extend(image_digests(app, required=require_digests))
    problems.extend(list(runtime_spec_problems(app, problems)))
    return sorted(problems, key=problem_order)


def check_app_set(apps: Sequence[ManifestSource]) -> list[Problem]:
    """The cross-app rules only (P006, P007, P009, P010, P016, P018, P019, P021, P022)."""
    return sorted(check_catalog(apps), key=problem_order)


class AppVerdicts(Protocol):
    """Remembers the per-app rules' warnings for manifests they found no error in."""

    def known(self, app: ManifestSource, require_digests: bool) -> list[Problem] | None: ...

    def record(self, app: ManifestSource, require_digests: bool, found: list[Problem]) -> None: ...


def check_all(
    apps: Sequence[ManifestSource],
    *,
    require_digests: bool = False,
    verdicts: AppVerdicts | None = None,
) -> list[Problem]:
    """Everything: each app's rules and the cross-app rules, in one deterministic list.

    With ``verdicts`` (the build cache), an app whose per-app rules found no
    error before is not checked again (its warnings are remembered); the
    cross-app rules always run.
    """
    problems = check_catalog(apps)
    for app in apps:
        found = None if verdicts is None else verdicts.known(app, require_digests)
        if found is None:
            found = check_app(app, require_digests=require_digests)
            if verdicts is not None and all(p.severity != "error" for p in found):
                verdicts.record(app, require_digests, found)
        problems.extend(found)
    return sorted(problems, key=problem_order)
