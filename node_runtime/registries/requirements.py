"""A third-party app's requirements, resolved within its own registry.  Pure.

Each registry's apps are on a network of their own (``catalog.app_network``), so a
capability never crosses registries (P034): a third-party app's ``requires`` can only be
met by an app of its own registry.  Before ``install NAME/app`` changes anything, every
non-optional requirement must be met by an installed app of registry NAME; otherwise the
refusal names the registry's apps that would meet it (``install NAME/provider`` first),
or says that none does, instead of pointing at an official provider it could not reach.
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.capabilities import candidates
from catalog.manifest import Manifest


def registry_requirement_problem(
    registry: str,
    app_id: str,
    manifest: Manifest,
    installed_of_registry: Mapping[str, Manifest],
    registry_apps: Mapping[str, Manifest],
) -> str | None:
    """Why ``registry/app_id`` cannot be installed yet (one line), or None.

    ``installed_of_registry``: the registry's apps installed here; ``registry_apps``:
    every app of the registry's verified catalog."""
    for requirement in manifest.requires:
        if requirement.optional or candidates(requirement, installed_of_registry, app_id):
            continue
        wanted = requirement.app + (f" {requirement.version}" if requirement.version else "")
        found = candidates(requirement, registry_apps, app_id)
        if found:
            hint = (
                f"install one of {', '.join(f'{registry}/{each}' for each in found)} first "
                f"(archy-node install {registry}/{found[0]})"
            )
        else:
            hint = (
                f"no app of registry {registry} provides it (a capability never crosses registries)"
            )
        return (
            f"{registry}/{app_id} requires {wanted!r}, which no installed app of registry "
            f"{registry} provides; {hint} (P027)"
        )
    return None
