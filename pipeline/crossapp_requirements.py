"""Cross-app rules about what apps ask of each other: ``requires`` and capabilities.

``requires`` must resolve to some app of the catalog, in its version range and with
its settings (P009), and must not loop (P010); a secret taken from a capability is
exported by every provider of it, and no app generates its own copy (P024); every
provider of a capability exports the same alias, secrets and settings (P025).
Matching itself is ``catalog.capabilities`` (one rule for the publisher and the node);
this module only turns mismatches into problems.  Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from catalog.capabilities import satisfies, setting_matches
from catalog.loader import Location, ManifestSource
from catalog.manifest import Capability, Requirement, SecretRef
from catalog.manifest_fields import SettingValue
from catalog.problems import Problem
from catalog.runtime_names import (
    CAPABILITY_OWNER,
)
from pipeline.crossapp_messages import setting_text, where
from pipeline.dependency_cycles import find_cycles


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
