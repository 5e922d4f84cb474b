"""Host ports, container names and UI routes already taken, and free values for an import.

The claims come from the apps in the target ``apps/`` and from the apps
imported earlier in the same run; an imported app that asks for a taken value
gets the next free one, and the change is said (``I007``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog.manifest import Manifest
from pipeline.importer.reasons import Reason

LOWEST_REASSIGNED_PORT = 1024


@dataclass
class Claims:
    """What other apps hold: host ports per protocol, container names, routes."""

    ports: dict[tuple[int, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)

    def add(self, manifest: Manifest) -> None:
        for member in manifest.containers:
            self.names.setdefault(member.name, manifest.id)
            for port in member.ports:
                self.ports.setdefault((port.host_port, port.protocol), manifest.id)
        for name in manifest.migration.adopt:
            self.names.setdefault(name, manifest.id)
        if manifest.ui is not None and manifest.ui.route is not None:
            self.routes.setdefault(manifest.ui.route, manifest.id)

    def without(self, app_id: str) -> Claims:
        """These claims minus one app's (the app an import replaces with --force)."""
        return Claims(
            {key: owner for key, owner in self.ports.items() if owner != app_id},
            {key: owner for key, owner in self.names.items() if owner != app_id},
            {key: owner for key, owner in self.routes.items() if owner != app_id},
        )

    def name_taken(self, name: str) -> bool:
        return name in self.names

    def route_owner(self, route: str) -> str | None:
        for other, owner in self.routes.items():
            if other.startswith(route) or route.startswith(other):
                return owner
        return None


def _free_port(wanted: int, protocol: str, taken: set[tuple[int, str]]) -> int | None:
    candidates = [*range(wanted + 1, 65536), *range(LOWEST_REASSIGNED_PORT, wanted)]
    return next((port for port in candidates if (port, protocol) not in taken), None)


def reassign(
    document: dict[str, Any],
    claims: Claims,
    origin_of: Callable[[str], tuple[str, int | None] | None],
) -> list[Reason]:
    """Move host ports and the route of ``document`` off values other apps hold; say each move."""
    reasons: list[Reason] = []
    taken = set(claims.ports)
    for i, member in enumerate(document["containers"]):
        for j, port in enumerate(member.get("ports", [])):
            file, line = origin_of(f"containers[{i}].ports[{j}]") or (None, None)
            protocol = port.get("protocol", "tcp")
            wanted = port.get("host", port["container"])
            key = (wanted, protocol)
            if key not in taken:
                taken.add(key)
                continue
            free = _free_port(wanted, protocol, taken)
            owner = claims.ports.get(key, document["id"])
            if free is None:
                reasons.append(
                    Reason("I007", f"no free host port for {wanted}/{protocol}", "refusal", file)
                )
                continue
            port["host"] = free
            taken.add((free, protocol))
            reasons.append(
                Reason(
                    "I007",
                    f"{member['name']}: host port {wanted}/{protocol} is used by {owner!r}; "
                    f"published on {free} instead",
                    "warning",
                    file,
                    line,
                )
            )
    ui = document.get("ui")
    if ui is not None and "route" in ui:
        file, line = origin_of("ui") or (None, None)
        route = ui["route"]
        base, suffix = route.rstrip("/"), 2
        while claims.route_owner(route) is not None:
            route, suffix = f"{base}-{suffix}/", suffix + 1
        if route != ui["route"]:
            reasons.append(
                Reason(
                    "I007",
                    f"route {ui['route']} is used by {claims.route_owner(ui['route'])!r}; "
                    f"{route} instead",
                    "warning",
                    file,
                )
            )
            ui["route"] = route
    return reasons
