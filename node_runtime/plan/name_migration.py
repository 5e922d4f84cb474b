"""Names the node derived before the ``_`` separator, found from the node's own state.  Pure.

Binaries before the separator named an app's units and Podman secrets
``archy-<app>-<part>``; today's are ``archy-<app>_<part>``
(:mod:`catalog.runtime_names`).  Container names (the manifest's), data dirs
(``<data root>/<app>``) and secret value files (``secrets/<app>/<name>``) did not
change.  An old name cannot be split on its own (``archy-foo-bar-web``: app
``foo``'s member ``bar-web``, or app ``foo-bar``'s member ``web``), so nothing here
reads an app from a name: a unit file's app is the one its renderer header names,
a Podman secret's app is the one the node recorded it for
(``state/secret-owners.json``) or the applied app that declares the secret.  Given
the app, ``archy-<app>-`` (old) and ``archy-<app>_`` (new) never overlap.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from catalog.runtime_names import NAME_PREFIX, NETWORK_UNIT_FILE, derived_name

# The name of this migration in ``state/migrations.json``.
DERIVED_NAMES_MIGRATION = "derived-names"

LEGACY_SEPARATOR = "-"


def legacy_derived_name(app_id: str, part: str) -> str:
    """``archy-<app>-<part>``: how binaries before the ``_`` separator built a name."""
    return f"{NAME_PREFIX}{app_id}{LEGACY_SEPARATOR}{part}"


def legacy_part(app_id: str, name: str) -> str | None:
    """The part of ``name`` when it is the old form of a name derived for ``app_id``."""
    prefix = legacy_derived_name(app_id, "")
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


@dataclass(frozen=True)
class LegacyUnit:
    """One unit file of ``app_id`` under its old name, and the name it has now."""

    app_id: str
    file_name: str
    new_file_name: str

    @property
    def service(self) -> str | None:
        """The service systemd made from it (``.container`` units), None for others."""
        stem, _, suffix = self.file_name.rpartition(".")
        return f"{stem}.service" if suffix == "container" else None

    @property
    def container(self) -> str | None:
        """The container its service ran (``ContainerName=`` is the member's name)."""
        if self.service is None:
            return None
        return legacy_part(self.app_id, self.file_name.rpartition(".")[0])


def legacy_unit(app_id: str, file_name: str) -> LegacyUnit | None:
    """``file_name`` (a unit file whose header names ``app_id``) under its old name, or None."""
    if file_name == NETWORK_UNIT_FILE:
        return None
    stem, dot, suffix = file_name.rpartition(".")
    part = legacy_part(app_id, stem) if dot else None
    if part is None:
        return None
    return LegacyUnit(app_id, file_name, f"{derived_name(app_id, part)}.{suffix}")


def units_renamed(app_id: str, units: Mapping[str, str]) -> dict[str, str] | None:
    """``units`` (an applied record's) with every ``archy-<app>-`` written ``archy-<app>_``,
    in file names and text; None when none of its file names is old.

    The result is only a candidate: the caller keeps it only if the node's unit check
    (what the renderer writes for the manifest) accepts it, so a ``ContainerName=`` that
    happened to start with ``archy-<app>-`` can never slip through changed.
    """
    if not any(legacy_unit(app_id, name) for name in units):
        return None
    old, new = legacy_derived_name(app_id, ""), derived_name(app_id, "")
    return {name.replace(old, new, 1): text.replace(old, new) for name, text in units.items()}


@dataclass(frozen=True)
class LegacySecret:
    """A Podman secret the node made for ``owner``'s secret ``name`` under the old name."""

    owner: str
    name: str

    @property
    def legacy_name(self) -> str:
        return legacy_derived_name(self.owner, self.name)

    @property
    def current_name(self) -> str:
        return derived_name(self.owner, self.name)


def legacy_secrets(
    podman_secrets: Collection[str],
    recorded_owners: Mapping[str, str],
    declared: Mapping[str, Iterable[str]],
) -> list[LegacySecret]:
    """The Podman secrets that exist under an old name, each once, sorted.

    ``recorded_owners``: {Podman secret: the app the node made it for};
    ``declared``: {app: the names of its own secrets (generated ones and owner
    settings)}, from the applied records and the catalog.
    """
    found: set[LegacySecret] = set()
    for app_id, names in declared.items():
        for name in names:
            candidate = LegacySecret(app_id, name)
            if candidate.legacy_name in podman_secrets:
                found.add(candidate)
    for podman_name, owner in recorded_owners.items():
        part = legacy_part(owner, podman_name)
        if part is not None and podman_name in podman_secrets:
            found.add(LegacySecret(owner, part))
    return sorted(found, key=lambda secret: (secret.owner, secret.name))
