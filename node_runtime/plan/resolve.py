"""Which installed apps the node can run now, and a one-line reason for each it cannot.

Refusals (DESIGN §7): not in the catalog, another architecture, units or a
manifest no engine runs, a container name held by another app or by no app, a
Podman secret recorded as another app's, a second provider of a capability,
a host port or derived name another app holds (apps already applied keep
theirs; newcomers in id order), and requirements no accepted app meets, to a
fixed point.  Also the dependency order the apps are planned in.  Pure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping

from catalog.capabilities import provider_conflict, satisfies, shortfall
from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from catalog.spec_problems import RuntimeSpecError
from node_runtime.plan.desired import DesiredApp, UnitsRefused, derived_names, desired_app
from node_runtime.plan.observed import ObservedState
from node_runtime.store.applied import AppliedApp


def _dependency_problem(manifest: Manifest, accepted: Mapping[str, DesiredApp]) -> str | None:
    for requirement in manifest.requires:
        if requirement.optional:
            continue
        providers = [
            each
            for each in accepted.values()
            if each.app_id != manifest.id and satisfies(each.app_id, each.manifest, requirement)
        ]
        if not providers:
            return f"needs app {requirement.app!r}, which is not installed (install it first)"
        fitting = [
            each for each in providers if shortfall(requirement, each.app_id, each.manifest) is None
        ]
        if not fitting:
            names = ", ".join(sorted(f"{p.app_id} {p.manifest.version}" for p in providers))
            wanted = requirement.version or "any version"
            settings = ", ".join(f"{k}={v}" for k, v in sorted(requirement.settings.items()))
            return (
                f"needs {requirement.app!r} {wanted}"
                + (f" with {settings}" if settings else "")
                + f"; installed: {names}"
            )
    return None


def _host_ports(desired: DesiredApp) -> set[tuple[int, str]]:
    return {(port.host_port, port.protocol) for spec in desired.specs for port in spec.ports}


def _owner_problem(desired: DesiredApp, observed: ObservedState) -> str | None:
    """A Podman secret this app would use that the node recorded as another app's."""
    for kind, name in sorted(derived_names(desired)):
        owner = observed.secret_owners.get(name) if kind == "podman secret" else None
        if owner is not None and owner != desired.app_id:
            return f"podman secret {name} belongs to app {owner!r}; refusing to hand it over"
    return None


def _container_problem(desired: DesiredApp, observed: ObservedState) -> str | None:
    adoptable = set(desired.manifest.migration.adopt)
    for spec in desired.specs:
        existing = observed.containers.get(spec.name)
        if existing is None:
            continue
        if existing.app_id is not None and existing.app_id != desired.app_id:
            return f"container name {spec.name!r} is used by app {existing.app_id!r}"
        if existing.app_id is None and spec.name not in adoptable:
            return (
                f"a container named {spec.name!r} exists that the node did not create; "
                "remove it, or list it in migration.adopt to adopt it"
            )
    return None


def resolve_desired(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    data_root: str,
    architecture: str,
    applied: Mapping[str, AppliedApp],
    observed: ObservedState,
) -> tuple[dict[str, DesiredApp], dict[str, str]]:
    """The installed apps the node can run, and a reason for each one it cannot."""
    refused: dict[str, str] = {}
    candidates: dict[str, DesiredApp] = {}
    for app_id in sorted(installed):
        app = catalog.apps.get(app_id)
        if app is None:
            refused[app_id] = "is not in the current catalog"
            continue
        if architecture not in app.manifest.architectures:
            supported = ", ".join(app.manifest.architectures)
            refused[app_id] = f"does not run on {architecture} (only {supported})"
            continue
        try:
            candidates[app_id] = desired_app(app, data_root)
        except UnitsRefused as error:
            refused[app_id] = str(error)
            continue
        except RuntimeSpecError as error:
            refused[app_id] = f"cannot be run: {error}"
            continue
        problem = _container_problem(candidates[app_id], observed) or _owner_problem(
            candidates[app_id], observed
        )
        if problem is not None:
            refused[app_id] = problem
            del candidates[app_id]

    # One provider per capability (P026): apps already applied keep theirs; newcomers in id order.
    providing: dict[str, Manifest] = {}
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        conflict = provider_conflict(app_id, candidates[app_id].manifest, providing)
        if conflict is not None:
            refused[app_id] = conflict
            del candidates[app_id]
            continue
        if candidates[app_id].manifest.capabilities:
            providing[app_id] = candidates[app_id].manifest

    # Host ports: apps already applied keep theirs; newcomers in id order.
    owners: dict[tuple[int, str], str] = {}
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        ports = _host_ports(candidates[app_id])
        clash = sorted(port for port in ports if port in owners)
        if clash:
            port, protocol = clash[0]
            refused[app_id] = (
                f"host port {port}/{protocol} is already used by app {owners[port, protocol]!r}"
            )
            continue
        owners.update(dict.fromkeys(ports, app_id))
    # Derived names (units, containers, Podman secrets): the same rule as host ports.
    named: dict[tuple[str, str], str] = {}
    for previous_id, previous in applied.items():
        if previous_id not in candidates:
            with contextlib.suppress(RuntimeSpecError):
                named.update(dict.fromkeys(derived_names(desired_app(previous.app,
                                                                      previous.data_root)),
                                           previous_id))  # fmt: skip
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        if app_id in refused:
            continue
        names = derived_names(candidates[app_id])
        taken = sorted(name for name in names if named.get(name, app_id) != app_id)
        if taken:
            kind, name = taken[0]
            refused[app_id] = f"its {kind} name {name} is also app {named[taken[0]]!r}'s"
            continue
        named.update(dict.fromkeys(names, app_id))
    accepted = {k: v for k, v in candidates.items() if k not in refused}

    # Dependencies, to a fixed point: refusing one app can leave another without a provider.
    changed = True
    while changed:
        changed = False
        for app_id in sorted(accepted):
            problem = _dependency_problem(accepted[app_id].manifest, accepted)
            if problem is not None:
                refused[app_id] = problem
                del accepted[app_id]
                changed = True
    return accepted, refused


def dependency_order(apps: Mapping[str, DesiredApp]) -> list[str]:
    """App ids with every provider before the apps that require it (ties by id)."""
    needs: dict[str, set[str]] = {}
    for app_id, desired in apps.items():
        wanted: set[str] = set()
        for requirement in desired.manifest.requires:
            for other_id, other in apps.items():
                if other_id != app_id and (
                    other_id == requirement.app or requirement.app in other.manifest.capabilities
                ):
                    wanted.add(other_id)
        needs[app_id] = wanted
    order: list[str] = []
    remaining = sorted(apps)
    while remaining:
        ready = [each for each in remaining if needs[each] <= set(order)] or remaining[:1]
        order.append(ready[0])
        remaining.remove(ready[0])
    return order
