"""The rules between registries: an app of one registry never replaces, shadows or reads an
app of another.  Checked on every install, official or third-party.  Pure.

Each refusal is one line with a policy-style code:

* P030 the app id is already another registry's (the official catalog's ids, and the ids
  a third-party registry owns on this node, data kept included);
* P031 a host port (and protocol) an installed app of another registry publishes;
* P032 a name on the node another registry's app derives (unit file, container, or a
  network alias: container names are one namespace per node, whatever the network);
* P033 a Podman secret name another registry's app holds;
* P034 a capability (``requires`` / ``provides``) linking apps of two registries: each
  registry's apps are on a network of their own, so the dependent could not reach the
  provider; refused even where the owner allowed the capability (``--allow-capabilities``);
* P035 ``migration.adopt`` in a third-party app naming a container that is not one of its
  own members (it would take over a container it did not create);
* P037 a third-party app whose units join any network but its registry's
  (``catalog.app_network``): ``archy-net``, another registry's, or any other.

The node-side unit check (``catalog.unit_check`` through ``plan.desired``) runs first,
for every registry: an app whose units are not what the renderer writes is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from catalog.app_network import app_network, networks_named_by_units
from catalog.catalog_model import CatalogApp
from catalog.runtime_names import NETWORK_NAME
from catalog.spec_problems import RuntimeSpecError
from node_runtime.plan.desired import derived_names, desired_app

OFFICIAL = None


@dataclass(frozen=True)
class PlacedApp:
    """An app with the registry it comes from (None: the official registry)."""

    registry: str | None
    app: CatalogApp

    @property
    def app_id(self) -> str:
        return self.app.manifest.id

    @property
    def label(self) -> str:
        if self.registry is None:
            return f"official app {self.app_id}"
        return f"{self.registry}/{self.app_id}"


def _host_ports(app: CatalogApp) -> set[tuple[int, str]]:
    return {
        (port.host, port.protocol)
        for member in app.manifest.containers
        for port in member.ports
        if port.host
    }


def _names(placed: PlacedApp, data_root: str) -> set[tuple[str, str]]:
    return derived_names(desired_app(placed.app, data_root))


def _requirement_links(
    candidate: PlacedApp, installed: Collection[PlacedApp]
) -> list[tuple[str, PlacedApp, PlacedApp]]:
    """(capability or app id, needer, provider) for every link between the candidate and an
    installed app of another registry, in either direction."""
    links = []
    for other in installed:
        if other.registry == candidate.registry:
            continue
        for needer, provider in ((candidate, other), (other, candidate)):
            wanted = {requirement.app for requirement in needer.app.manifest.requires}
            offered = {provider.app_id, *provider.app.manifest.capabilities}
            links += [(name, needer, provider) for name in sorted(wanted & offered)]
    return links


def placed_network(placed: PlacedApp) -> str | None:
    """The network the app's registry puts it on; None for a third-party entry that names
    no developer (no network is its: pull refuses such a catalog whole)."""
    if placed.registry is None:
        return NETWORK_NAME
    return None if placed.app.developer is None else app_network(placed.app)


def network_problem(candidate: PlacedApp) -> str | None:
    """P037: a third-party app whose units join a network that is not its registry's."""
    if candidate.registry is None:
        return None
    expected = placed_network(candidate)
    foreign = [name for name in networks_named_by_units(candidate.app.units) if name != expected]
    if not foreign:
        return None
    return (
        f"{candidate.label}: its units join network {', '.join(foreign)}, not its registry's "
        f"{expected or '(none: the entry names no developer)'}; apps of two registries never "
        "share a network (P037)"
    )


def _capability_problem(name: str, needer: PlacedApp, provider: PlacedApp) -> str:
    return (
        f"{needer.label} requires {name!r} from {provider.label}; apps of two registries are "
        f"on separate networks ({placed_network(needer)}, {placed_network(provider)}), so a "
        "capability never crosses registries, even when allowed; install a provider from "
        f"{'the official registry' if needer.registry is None else needer.registry} (P034)"
    )


def cross_registry_problems(
    candidate: PlacedApp,
    installed: Collection[PlacedApp],
    official: Collection[PlacedApp],
    owners: Mapping[str, str],
    allowed: Mapping[str, Collection[str]],
    data_root: str,
) -> list[str]:
    """Every reason ``candidate`` may not join the ``installed`` apps (other registries').

    ``official``: every app of the official catalog (installed or not: a third-party app
    may not take the names they would use either); ``owners``: app id -> registry for
    the ids third-party registries own here; ``allowed``: registry -> the capabilities the
    owner lets it share (kept, but no capability crosses separate networks: P034).  A
    candidate on a network not its registry's is refused with that alone (P037).  Raises
    RuntimeSpecError (the unit check) for another candidate the node could not run.
    """
    network = network_problem(candidate)
    if network is not None:
        return [network]
    app_id = candidate.app_id
    official_ids = {each.app_id for each in official}
    problems: list[str] = []
    owner = owners.get(app_id)
    if candidate.registry is not None and app_id in official_ids and owner is None:
        problems.append(
            f"{candidate.label}: the id {app_id!r} is an app of the official registry; an app "
            "of one registry never replaces or shadows another's (P030)"
        )
    if owner is not None and owner != candidate.registry:
        problems.append(
            f"{candidate.label}: the id {app_id!r} belongs to {owner}/{app_id} on this node "
            f"(its data and secrets are kept until purged) (P030)"
        )
    members = {member.name for member in candidate.app.manifest.containers}
    foreign = sorted(set(candidate.app.manifest.migration.adopt) - members)
    if candidate.registry is not None and foreign:
        problems.append(
            f"{candidate.label}: migration.adopt names {', '.join(foreign)}, not its own "
            "members; a third-party app adopts only containers of its own names (P035)"
        )
    others = [other for other in installed if other.registry != candidate.registry]
    ports = _host_ports(candidate.app)
    for other in others:
        for host, protocol in sorted(ports & _host_ports(other.app)):
            problems.append(
                f"{candidate.label}: host port {host}/{protocol} is published by "
                f"{other.label} (P031)"
            )
    names = _names(candidate, data_root)
    holders = {(other.registry, other.app_id): other for other in [*official, *others]}
    for other in holders.values():
        if other.registry == candidate.registry or other.app_id == app_id:
            continue
        try:
            shared = names & _names(other, data_root)
        except RuntimeSpecError:
            continue  # an installed app the node cannot run holds no names yet
        for kind, name in sorted(shared):
            code = "P033" if kind == "podman secret" else "P032"
            where = " (a container name on this node)" if kind == "container" else ""
            problems.append(
                f"{candidate.label}: {kind} {name!r}{where} is {other.label}'s ({code})"
            )
    problems += [
        _capability_problem(name, needer, provider)
        for name, needer, provider in _requirement_links(candidate, others)
    ]
    return problems
