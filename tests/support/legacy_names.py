"""A node as binaries before the ``_`` separator left it: the explicit fixture of the
naming migration's tests (docs/naming-migration.md).

Those binaries named an app's units and Podman secrets ``archy-<app>-<part>``; the
units' text named the same (``Secret=``, ``Requires=``/``After=`` of other members).
Everything else (container names, labels, data dirs, secret value files, state
files) was as today.  Building that state here takes today's rendering and spec and
puts the old separator back, which is exactly the one thing that changed
(commit 44f475a, "Names joined with '_'").
"""

from __future__ import annotations

import dataclasses

from catalog.catalog_model import CatalogApp
from catalog.member_spec import MemberSpec, SecretEnv
from catalog.runtime_names import LABEL_CONFIG_HASH, NAME_PREFIX, NAME_SEPARATOR
from catalog.runtime_spec import config_hash
from node_runtime.plan.name_migration import LEGACY_SEPARATOR


def legacy_text(app_id: str, text: str) -> str:
    """Every ``archy-<app>_`` in ``text`` written the old way, ``archy-<app>-``."""
    return text.replace(
        f"{NAME_PREFIX}{app_id}{NAME_SEPARATOR}", f"{NAME_PREFIX}{app_id}{LEGACY_SEPARATOR}"
    )


def legacy_units(app: CatalogApp) -> dict[str, str]:
    """The app's units as the old renderer wrote them: old file names, old names inside."""
    app_id = app.manifest.id
    units = app.units.items()
    return {legacy_text(app_id, name): legacy_text(app_id, text) for name, text in units}


def legacy_catalog_app(app: CatalogApp) -> CatalogApp:
    """The catalog entry an old binary applied (``state/applied.json`` keeps it)."""
    return app.model_copy(update={"units": legacy_units(app)})


def legacy_spec(spec: MemberSpec, version: str, revision: int) -> MemberSpec:
    """The member as the old podman engine ran it: old secret names, the hash of that spec."""
    secrets = tuple(
        SecretEnv(each.env_name, legacy_text(spec.app_id, each.secret_name))
        for each in spec.secrets
    )
    plain = dataclasses.replace(
        spec,
        secrets=secrets,
        labels=tuple(label for label in spec.labels if label[0] != LABEL_CONFIG_HASH),
    )
    digest = config_hash(plain, version, revision)
    return dataclasses.replace(
        plain, labels=tuple(sorted((*plain.labels, (LABEL_CONFIG_HASH, digest))))
    )
