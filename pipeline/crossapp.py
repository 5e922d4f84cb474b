"""Cross-app rules: what no single manifest can show, checked over the whole catalog.

Host ports, container names, adopted names and UI routes are shared by every
app on a node; ``requires`` must resolve to some app and must not loop.  Each
problem lands in the file that has to change and names the other app and its
file, so the author knows whom the clash is with.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from catalog.capabilities import satisfies, setting_matches
from catalog.loader import Location, ManifestSource
from catalog.manifest import Capability, Port, Requirement, SecretRef
from catalog.manifest_fields import SettingValue
from catalog.problems import Problem, format_field_path
from catalog.runtime_names import (
    CAPABILITY_OWNER,
    DEFAULT_DATA_ROOT,
    member_unit_name,
    path_is_within,
    podman_secret_name,
)
from catalog.secret_homes import secret_home
from catalog.volume_layout import volume_host_sides


def port_location(member_index: int, port_index: int, port: Port) -> Location:
    """The field that sets a port's host side: ``host`` when given, else ``container``."""
    field = "host" if port.host is not None else "container"
    return ("containers", member_index, "ports", port_index, field)


def place(source: ManifestSource, location: Location) -> str:
    """``apps/bitcoin-knots/manifest.yml:25``, for messages."""
    line = source.line_of(*location)
    return source.filename if line is None else f"{source.filename}:{line}"


def where(source: ManifestSource, location: Location) -> str:
    """``'bitcoin-knots' (apps/bitcoin-knots/manifest.yml:25)``, for messages."""
    return f"{source.manifest.id!r} ({place(source, location)})"


def setting_text(value: SettingValue) -> str:
    """A setting value as it is written in YAML: true, 0, "full"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


# -- dependency cycles (shared with the per-app depends_on rule) -------------------------------


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per tangle (strongly connected component) of ``graph``, as ``[a, b, a]``.

    Each cycle starts at the node of its tangle that comes first in ``graph``
    (file order for members, id order for apps) and is a shortest way back to
    it, so the answer is the same for the same graph.  Edges to nodes outside
    ``graph`` are ignored.
    """
    position = {node: index for index, node in enumerate(graph)}
    nodes = sorted(graph)
    edges = {node: sorted({n for n in graph[node] if n in graph}) for node in nodes}
    cycles = []
    for component in _strongly_connected(nodes, edges):
        start = min(component, key=position.__getitem__)
        if len(component) == 1 and start not in edges[start]:
            continue
        cycles.append(_shortest_cycle(start, set(component), edges))
    return sorted(cycles, key=lambda cycle: position[cycle[0]])


def _strongly_connected(nodes: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a catalog may be long; recursion is not needed)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(start: str, component: set[str], edges: Mapping[str, list[str]]) -> list[str]:
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child not in component:
                    continue
                if child == start:
                    path = [start]
                    while node != start:
                        path.append(node)
                        node = came_from[node]
                    return [start, *reversed(path[1:]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError("a strongly connected component always has a cycle")


# -- the cross-app rules ---------------------------------------------------------------------------


Key = TypeVar("Key")


@dataclass(frozen=True)
class _Claim:
    """One app's use of a shared name (a host port, a container name, a route)."""

    source: ManifestSource
    location: Location
    kind: str = ""  # what the name is, where one key holds names of several kinds


def _clashes(claims: Mapping[Key, list[_Claim]]) -> Iterator[tuple[Key, _Claim, list[_Claim]]]:
    """Every claim whose key other apps claim too, with those other apps' claims."""
    for key in sorted(claims, key=repr):
        owners = claims[key]
        for claim in owners:
            others = [
                other for other in owners if other.source.manifest.id != claim.source.manifest.id
            ]
            if others:
                yield key, claim, others


def _others(claims: Iterable[_Claim]) -> str:
    return ", ".join(where(claim.source, claim.location) for claim in claims)


def check_unique_ids(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P016: an id names one app, and is never another app's ``provides``."""
    ids: dict[str, list[_Claim]] = {}
    for app in apps:
        ids.setdefault(app.manifest.id, []).append(_Claim(app, ("id",)))
    for claims in ids.values():
        for claim in claims:
            others = [other for other in claims if other.source.filename != claim.source.filename]
            if others:
                yield claim.source.problem(
                    ("id",),
                    f"app id {claim.source.manifest.id!r} is also the id in "
                    f"{', '.join(place(other.source, ('id',)) for other in others)}; "
                    "every app needs its own id",
                    "P016",
                )
    for app in apps:
        for index, capability in enumerate(app.manifest.capabilities):
            owners = [claim for claim in ids.get(capability, []) if claim.source is not app]
            if owners:
                yield app.problem(
                    ("provides", index),
                    f"provides {capability!r}, which is the id of {_others(owners)}; "
                    "provide a capability name that is no app's id (e.g. 'bitcoin', not "
                    "'bitcoin-core'), or require that app instead",
                    "P016",
                )


def check_host_ports(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P006 across apps: a host port (per protocol) belongs to one app in the catalog."""
    claims: dict[tuple[int, str], list[_Claim]] = {}
    for app in apps:
        for i, member in enumerate(app.manifest.containers):
            for j, port in enumerate(member.ports):
                claims.setdefault((port.host_port, port.protocol), []).append(
                    _Claim(app, port_location(i, j, port))
                )
    for (number, protocol), claim, others in _clashes(claims):
        yield claim.source.problem(
            claim.location,
            f"host port {number}/{protocol} is also published by {_others(others)}; "
            "pick a host port no other app in the catalog uses",
            "P006",
        )


def check_container_names(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P007: a container name belongs to one app (names are how the node adopts containers)."""
    claims: dict[str, list[_Claim]] = {}
    for app in apps:
        for i, member in enumerate(app.manifest.containers):
            claims.setdefault(member.name, []).append(_Claim(app, ("containers", i, "name")))
    for key, claim, others in _clashes(claims):
        yield claim.source.problem(
            claim.location,
            f"container name {key!r} is also used by {_others(others)}; container names are "
            "global on a node: give each app's containers names of their own, prefixed with "
            "the app id",
            "P007",
        )


def check_adopted_names(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P019: ``migration.adopt`` never takes over another app's container."""
    claims: dict[str, list[_Claim]] = {}
    for app in apps:
        for i, member in enumerate(app.manifest.containers):
            claims.setdefault(member.name, []).append(_Claim(app, ("containers", i, "name")))
        for k, name in enumerate(app.manifest.migration.adopt):
            claims.setdefault(name, []).append(_Claim(app, ("migration", "adopt", k)))
    for key, claim, others in _clashes(claims):
        if claim.location[0] != "migration":
            continue  # a container name clash alone is P007; report only the adopting side
        yield claim.source.problem(
            claim.location,
            f"adopts the container {key!r}, which is also claimed by {_others(others)}; "
            "an app may adopt only containers that were its own",
            "P019",
        )


def check_ui_routes(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P018: proxy routes on the node's web server neither repeat nor nest."""
    routes = [
        (app.manifest.ui.route, app)
        for app in apps
        if app.manifest.ui is not None and app.manifest.ui.route is not None
    ]
    for route, app in routes:
        others = [
            _Claim(other, ("ui", "route"))
            for other_route, other in routes
            if other.manifest.id != app.manifest.id
            and (other_route.startswith(route) or route.startswith(other_route))
        ]
        if others:
            yield app.problem(
                ("ui", "route"),
                f"route {route!r} is the same as, or nested with, the route of {_others(others)}; "
                f"give each app a route of its own that holds no other (e.g. '/apps/<id>/')",
                "P018",
            )


def providers(requirement: Requirement, apps: Sequence[ManifestSource]) -> list[ManifestSource]:
    """The apps that satisfy ``requirement.app`` by id or by ``provides``."""
    return [app for app in apps if satisfies(app.manifest.id, app.manifest, requirement)]


def _version_mismatch(range_text: str, provider: ManifestSource) -> str | None:
    version = provider.manifest.version
    try:
        parsed = Version(version)
    except InvalidVersion:
        return (
            f"{where(provider, ('version',))} has version {version!r}, which is not a PEP 440 "
            f"version (like '28.1'), so {range_text!r} cannot be checked against it"
        )
    if SpecifierSet(range_text).contains(parsed, prereleases=True):
        return None
    return f"{where(provider, ('version',))} is version {version}, outside {range_text!r}"


def _setting_mismatch(name: str, wanted: SettingValue, provider: ManifestSource) -> str | None:
    settings = provider.manifest.settings
    if name not in settings:
        return f"{where(provider, ('settings',))} does not declare the setting {name}"
    if setting_matches(wanted, settings[name]):
        return None
    return f"{where(provider, ('settings', name))} runs with {name}: {setting_text(settings[name])}"


def check_requirements(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P009: every ``requires`` names an app that exists, in range, with the settings asked for."""
    for app in apps:
        for index, requirement in enumerate(app.manifest.requires):
            found = providers(requirement, apps)
            if not found:
                if not requirement.optional:
                    yield app.problem(
                        ("requires", index, "app"),
                        f"no app in the catalog has the id or provides {requirement.app!r}; "
                        "fix the name, add that app, or mark the requirement optional: true",
                        "P009",
                    )
                continue
            yield from _requirement_mismatches(app, index, requirement, found)


def _requirement_mismatches(
    app: ManifestSource, index: int, requirement: Requirement, found: list[ManifestSource]
) -> Iterator[Problem]:
    """Problems only when no provider meets the whole requirement; then say what each lacks."""
    # Each check: the field, what the requirement asks, and per provider why it fails (or None).
    checks: list[tuple[Location, str, list[str | None]]] = []
    if requirement.version is not None:
        range_text = requirement.version
        checks.append(
            (
                ("requires", index, "version"),
                f"needs {requirement.app!r} {range_text}",
                [_version_mismatch(range_text, provider) for provider in found],
            )
        )
    for name, wanted in sorted(requirement.settings.items()):
        checks.append(
            (
                ("requires", index, "settings", name),
                f"needs {requirement.app!r} with {name}: {setting_text(wanted)}",
                [_setting_mismatch(name, wanted, provider) for provider in found],
            )
        )
    if any(all(failures[k] is None for _, _, failures in checks) for k in range(len(found))):
        return
    reported = False
    for location, need, failures in checks:
        if all(failure is not None for failure in failures):
            reasons = " and ".join(str(failure) for failure in failures)
            yield app.problem(
                location,
                f"{need}, but {reasons}; change the requirement or the providing app",
                "P009",
            )
            reported = True
    if not reported:
        names = ", ".join(where(provider, ("id",)) for provider in found)
        yield app.problem(
            ("requires", index),
            f"no single provider of {requirement.app!r} meets the whole requirement "
            f"(each of {names} misses part of it); relax the requirement or fix a provider",
            "P009",
        )


def check_requirement_cycles(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P010 across apps: ``requires`` (optional ones aside) never loops back."""
    by_id: dict[str, ManifestSource] = {}
    for app in sorted(apps, key=lambda each: each.manifest.id):
        by_id.setdefault(app.manifest.id, app)
    graph: dict[str, list[str]] = {}
    for app_id, app in by_id.items():
        graph[app_id] = [
            provider.manifest.id
            for requirement in app.manifest.requires
            if not requirement.optional
            for provider in providers(requirement, apps)
        ]
    for cycle in find_cycles(graph):
        app = by_id[cycle[0]]
        index = next(
            i
            for i, requirement in enumerate(app.manifest.requires)
            if not requirement.optional
            and cycle[1] in {p.manifest.id for p in providers(requirement, apps)}
        )
        yield app.problem(
            ("requires", index),
            f"dependency cycle between apps: {' -> '.join(cycle)}; remove one of these "
            "requires, or mark one optional: true",
            "P010",
        )


def check_derived_names(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P022: no name on the node means two apps' things.

    Units (``archy-<app>_<member>``) and Podman secrets (``archy-<app>_<secret>``)
    are built so two apps cannot derive the same one (``catalog.runtime_spec``);
    this rule keeps it so whatever the naming, and catches container names
    (the manifest's own) that equal another app's unit or secret name.  Two
    apps' equal container names are P007's, not repeated here.
    """
    claims: dict[str, list[_Claim]] = {}
    for app in apps:
        app_id = app.manifest.id
        for i, member in enumerate(app.manifest.containers):
            name_field: Location = ("containers", i, "name")
            claims.setdefault(member.name, []).append(_Claim(app, name_field, "container name"))
            claims.setdefault(member_unit_name(app_id, member.name), []).append(
                _Claim(app, name_field, "unit name")
            )
        for k, secret in enumerate(app.manifest.generated_secrets):
            exported = app.manifest.exported_secret(secret.name) is not None
            claims.setdefault(
                podman_secret_name(*secret_home(app.manifest, secret.name)), []
            ).append(
                _Claim(
                    app,
                    ("generated_secrets", k, "name"),
                    "capability secret" if exported else "Podman secret name",
                )
            )
    for name, claim, others in _clashes(claims):
        if claim.kind == "container name":
            others = [other for other in others if other.kind != "container name"]  # P007
        if claim.kind == "capability secret":  # providers of one capability share it (P025)
            others = [other for other in others if other.kind != "capability secret"]
        if not others:
            continue
        theirs = ", ".join(
            f"the {other.kind} of {where(other.source, other.location)}" for other in others
        )
        yield claim.source.problem(
            claim.location,
            f"its {claim.kind} {name!r} is also {theirs}; the node would take one app's "
            "unit, container or secret for the other's: rename the member or the secret",
            "P022",
        )


def _capability_providers(apps: Sequence[ManifestSource]) -> dict[str, list[ManifestSource]]:
    found: dict[str, list[ManifestSource]] = {}
    for app in apps:
        for capability in app.manifest.capabilities:
            found.setdefault(capability, []).append(app)
    return found


def _export_of(app: ManifestSource, capability: str) -> Capability | None:
    for entry in app.manifest.exports:
        if entry.capability == capability:
            return entry
    return None


def check_capability_references(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P024: ``{secret: X, from: C}`` names a capability whose every provider exports X.

    Also keeps the owner part of capability secret names (``archy-cap_…``) free:
    no app may have the id ``cap``.
    """
    by_capability = _capability_providers(apps)
    for app in apps:
        if app.manifest.id == CAPABILITY_OWNER:
            yield app.problem(
                ("id",),
                f"the app id {CAPABILITY_OWNER!r} is reserved: the node names the secrets "
                f"capabilities export 'archy-{CAPABILITY_OWNER}_<capability>_<secret>'; "
                "choose another id",
                "P024",
            )
        for i, member in enumerate(app.manifest.containers):
            for key, value in member.env.items():
                if not isinstance(value, SecretRef) or value.from_capability is None:
                    continue
                capability = value.from_capability
                location: Location = ("containers", i, "env", key, "from")
                found = by_capability.get(capability, [])
                if not found:
                    yield app.problem(
                        location,
                        f"no app in the catalog provides {capability!r}; name a capability "
                        "that a provider declares under provides",
                        "P024",
                    )
                    continue
                lacking = [
                    provider
                    for provider in found
                    if (entry := _export_of(provider, capability)) is None
                    or value.secret not in entry.secrets
                ]
                if lacking:
                    yield app.problem(
                        ("containers", i, "env", key, "secret"),
                        f"secret {value.secret!r} is not exported with {capability!r} by "
                        f"{', '.join(where(p, ('provides',)) for p in lacking)}; use a secret "
                        f"every provider lists under provides[].secrets",
                        "P024",
                    )


def check_copied_provider_secrets(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P024: an app that requires a capability never generates its own copy of a secret
    the capability's providers export (it would never match the provider's)."""
    by_capability = _capability_providers(apps)
    for app in apps:
        exported: dict[str, str] = {}
        for requirement in app.manifest.requires:
            for provider in by_capability.get(requirement.app, []):
                entry = _export_of(provider, requirement.app)
                if provider is not app and entry is not None:
                    exported.update(dict.fromkeys(entry.secrets, requirement.app))
        for k, secret in enumerate(app.manifest.generated_secrets):
            if secret.name in exported:
                capability = exported[secret.name]
                yield app.problem(
                    ("generated_secrets", k, "name"),
                    f"secret {secret.name!r} is a copy of the one {capability!r} exports, and "
                    "a copy never matches the provider's; remove it and use "
                    f"{{secret: {secret.name}, from: {capability}}}",
                    "P024",
                )


def _export_text(entry: Capability | None) -> str:
    if entry is None:
        return "exports nothing"
    settings = ", ".join(f"{k}: {setting_text(v)}" for k, v in sorted(entry.settings.items()))
    return (
        f"alias {entry.alias or '-'}, secrets [{', '.join(sorted(entry.secrets))}], "
        f"settings {{{settings}}}"
    )


def check_capability_exports(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P025: every provider of a capability exports the same alias, secrets and settings,
    so dependents work with whichever one the owner installed; an alias is no other
    app's container name and no other capability's alias (it would take their traffic)."""
    names: dict[str, list[tuple[ManifestSource, str]]] = {}
    for app in apps:
        for member in app.manifest.containers:
            names.setdefault(member.name, []).append((app, ""))
        for entry in app.manifest.exports:
            if entry.alias is not None:
                names.setdefault(entry.alias, []).append((app, entry.capability))
    for app in apps:
        for index, provided in enumerate(app.manifest.provides):
            if isinstance(provided, str) or provided.alias is None:
                continue
            takers = [
                other
                for other, _ in names[provided.alias]
                if other is not app and provided.capability not in other.manifest.capabilities
            ]
            if takers:
                yield app.problem(
                    ("provides", index, "alias"),
                    f"alias {provided.alias!r} is also a container name or alias of "
                    f"{', '.join(where(o, ('containers',)) for o in takers)}; pick a host "
                    "name no other app answers to",
                    "P025",
                )
    for capability, found in sorted(_capability_providers(apps).items()):
        texts = {app.manifest.id: _export_text(_export_of(app, capability)) for app in found}
        if len(set(texts.values())) <= 1:
            continue
        for app in found:
            index = app.manifest.capabilities.index(capability)
            others = [
                f"{where(other, ('provides',))} ({texts[other.manifest.id]})"
                for other in found
                if texts[other.manifest.id] != texts[app.manifest.id]
            ]
            yield app.problem(
                ("provides", index),
                f"provides {capability!r} with {texts[app.manifest.id]}, unlike "
                f"{'; '.join(others)}; export the same alias, secrets and settings so "
                "the providers are interchangeable",
                "P025",
            )


def check_nested_host_paths(apps: Sequence[ManifestSource]) -> Iterator[Problem]:
    """P021 across apps: one app's volume dir never holds another app's volume dir.

    The app that mounts the outer dir could replace the inner one with a
    symlink, and the other app's next start would follow it.  (Inside one app
    the runtime spec refuses the same; several apps mounting the same dir is a
    reviewed grant, P003.)
    """
    volumes = [
        (app, volume)
        for app in apps
        for volume in volume_host_sides(app.manifest)
        if posixpath.dirname(volume.host) != DEFAULT_DATA_ROOT  # not an app's data dir and
        and not path_is_within(DEFAULT_DATA_ROOT, volume.host)  # not the root: P021 per app
    ]
    # Index the dirs, then look only at each dir's ancestors: linear in the volumes, not
    # quadratic (a 1,000-app catalog has thousands of volumes).
    by_host: dict[str, list[int]] = {}
    for index, (_app, volume) in enumerate(volumes):
        by_host.setdefault(volume.host, []).append(index)
    related: dict[int, set[int]] = {}
    for index, (app, volume) in enumerate(volumes):
        ancestor = posixpath.dirname(volume.host)
        while ancestor and ancestor != posixpath.dirname(ancestor):
            for outer in by_host.get(ancestor, ()):
                if volumes[outer][0].manifest.id != app.manifest.id:
                    related.setdefault(index, set()).add(outer)
                    related.setdefault(outer, set()).add(index)
            ancestor = posixpath.dirname(ancestor)
    for index, (app, volume) in enumerate(volumes):
        for other_index in sorted(related.get(index, ())):
            other_app, other = volumes[other_index]
            other_place = (
                f"{format_field_path(other.location)} of {where(other_app, other.location)}"
            )
            if path_is_within(other.host, volume.host):
                relation = f"holds {other.host}, the host path of {other_place}"
            else:
                relation = f"lies inside {other.host}, the host path of {other_place}"
            yield app.problem(
                volume.location,
                f"host path {volume.host} {relation}: the outer app could replace the inner "
                "dir with a symlink; mount the same dir, or dirs side by side",
                "P021",
            )


def check_catalog(apps: Sequence[ManifestSource]) -> list[Problem]:
    """Every cross-app rule over ``apps`` (order of ``apps`` does not matter)."""
    ordered = sorted(apps, key=lambda app: (app.manifest.id, app.filename))
    problems: list[Problem] = []
    for rule in (
        check_unique_ids,
        check_host_ports,
        check_container_names,
        check_adopted_names,
        check_ui_routes,
        check_requirements,
        check_requirement_cycles,
        check_derived_names,
        check_nested_host_paths,
        check_capability_references,
        check_copied_provider_secrets,
        check_capability_exports,
    ):
        problems.extend(rule(ordered))
    return problems
