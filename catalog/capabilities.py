"""Which installed apps provide what the others require: the node's capability rules.

Pure: manifests in, one-line refusals out.  The node's install and uninstall
(``node_runtime.store.node_state``) and its apply (``node_runtime.plan``) both
ask these, so a hand-edited ``installed.json`` meets the same rules as the
commands.  The rules (docs/policy.md):

* **P026** at most one installed provider of a capability: dependents reach it
  by the capability's alias and use its one exported secret, so two would
  answer to one name;
* **P027** an app is installed only when every non-optional requirement has an
  installed provider (the message names the catalog's candidates);
* **P028** a provider that installed apps depend on (with no other installed
  provider) is uninstalled only with ``--force``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from catalog.manifest import Manifest, Requirement
from catalog.manifest_fields import SettingValue


def satisfies(app_id: str, manifest: Manifest, requirement: Requirement) -> bool:
    """``app_id`` is the required app, or provides the required capability."""
    return app_id == requirement.app or requirement.app in manifest.capabilities


def setting_matches(wanted: SettingValue, actual: SettingValue | None) -> bool:
    """Equal and of the same kind: ``prune: 0`` is not ``prune: false``, nor ``"0"``."""
    return type(wanted) is type(actual) and wanted == actual


def version_in_range(specifier: str | None, version: str) -> bool:
    """``version`` is inside the PEP 440 ``specifier`` (any version when None).

    A version that is not PEP 440 is inside no range: it cannot be compared.
    """
    if specifier is None:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return False


def shortfall(requirement: Requirement, provider_id: str, provider: Manifest) -> str | None:
    """Why ``provider`` (which satisfies the requirement's name) does not meet its version
    range or settings, or None when it does.  The one rule the catalog build, the node's
    install and its apply all use."""
    if not version_in_range(requirement.version, provider.version):
        return f"{provider_id} is version {provider.version}, outside {requirement.version!r}"
    for setting, wanted in sorted(requirement.settings.items()):
        actual = provider.settings.get(setting)
        if not setting_matches(wanted, actual):
            shown = "unset" if actual is None else json.dumps(actual)
            return f"{provider_id} runs with {setting}: {shown}, not {json.dumps(wanted)}"
    return None


def candidates(requirement: Requirement, apps: Mapping[str, Manifest], needer: str) -> list[str]:
    """The apps of ``apps`` (other than ``needer``) that satisfy ``requirement``, by id."""
    return sorted(
        app_id
        for app_id, manifest in apps.items()
        if app_id != needer and satisfies(app_id, manifest, requirement)
    )


def provider_conflict(
    app_id: str, manifest: Manifest, installed: Mapping[str, Manifest]
) -> str | None:
    """P026: why ``app_id`` cannot join ``installed`` (another provider of one of its
    capabilities is there), or None."""
    for capability in manifest.capabilities:
        others = sorted(
            other_id
            for other_id, other in installed.items()
            if other_id != app_id and capability in other.capabilities
        )
        if others:
            return (
                f"{app_id} provides {capability!r}, which {others[0]} (installed) provides "
                f"already; a node runs one provider of a capability: uninstall {others[0]} "
                f"first (archy-node uninstall {others[0]} --force keeps its data) (P026)"
            )
    return None


def missing_providers(
    app_id: str,
    manifest: Manifest,
    installed: Mapping[str, Manifest],
    catalog: Mapping[str, Manifest],
) -> str | None:
    """P027: the first non-optional requirement of ``app_id`` no installed app meets, or None."""
    for requirement in manifest.requires:
        if requirement.optional or candidates(requirement, installed, app_id):
            continue
        found = candidates(requirement, catalog, app_id)
        hint = (
            f"install one of {', '.join(found)} first (archy-node install {found[0]})"
            if found
            else "no app in the catalog provides it"
        )
        return (
            f"{app_id} requires {requirement.app!r}, which no installed app provides; {hint} (P027)"
        )
    return None


def dependents(app_id: str, installed: Mapping[str, Manifest]) -> list[str]:
    """P028: installed apps that need ``app_id``: a requirement it meets and no other
    installed app does."""
    others = {other_id: m for other_id, m in installed.items() if other_id != app_id}
    if app_id not in installed:
        return []
    provider = installed[app_id]
    found: list[str] = []
    for other_id, other in sorted(others.items()):
        for requirement in other.requires:
            if requirement.optional or not satisfies(app_id, provider, requirement):
                continue
            if not candidates(requirement, {k: v for k, v in others.items()}, other_id):
                found.append(other_id)
                break
    return found
