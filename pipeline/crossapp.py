"""Cross-app rules: what no single manifest can show, checked over the whole catalog.

Host ports, container names, adopted names and UI routes are shared by every
app on a node; ``requires`` must resolve to some app and must not loop.  Each
problem lands in the file that has to change and names the other app and its
file, so the author knows whom the clash is with.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from catalog.loader import Location, ManifestSource
from catalog.problems import Problem, format_field_path
from catalog.runtime_names import (
    DEFAULT_DATA_ROOT,
    member_unit_name,
    path_is_within,
    podman_secret_name,
)
from catalog.secret_homes import secret_home
from catalog.volume_layout import volume_host_sides
from pipeline.crossapp_messages import place, port_location, where
from pipeline.crossapp_requirements import (
    check_capability_exports,
    check_capability_references,
    check_copied_provider_secrets,
    check_requirement_cycles,
    check_requirements,
)

Key = TypeVar("Key")


@dataclass(frozen=True)
class _Claim:
    """One app's use of a shared name (a host port, a container name, a route)."""

    source: ManifestSource
    location: Location
    kind: str = ""  # what the name is, where one key holds names of several kinds


def _clashes(claims: Mapping[Key, list[_Claim]]) -> Iterator[tuple[Key, _Claim, list[_Claim]]]:
    """Every claim whose key other apps claim too, with those other apps' claims."""
    shared = [key for key, owners in claims.items() if len(owners) > 1]  # one owner: no clash
    for key in sorted(shared, key=repr):
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
        # every ancestor but "/", nearest first; host sides are normalised absolute paths
        # (no "//", no trailing "/"), so cutting at the last "/" is posixpath.dirname
        ancestor = volume.host
        while (cut := ancestor.rfind("/")) > 0:
            ancestor = ancestor[:cut]
            for outer in by_host.get(ancestor, ()):
                if volumes[outer][0].manifest.id != app.manifest.id:
                    related.setdefault(index, set()).add(outer)
                    related.setdefault(outer, set()).add(index)
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
