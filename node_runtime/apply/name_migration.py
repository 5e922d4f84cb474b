"""The one-time move of a node's units and Podman secrets to ``archy-<app>_<part>`` names.

A node that ran a binary from before the ``_`` separator holds unit files and
Podman secrets named ``archy-<app>-<part>`` (:mod:`node_runtime.plan.name_migration`
finds them from the node's state, never from a name alone).  :func:`apply`
(:mod:`.run`) calls :func:`migrate_before_apply` before it observes the node and
:func:`finish_after_apply` after the apps were applied; once nothing old is left,
``derived-names`` is recorded in ``state/migrations.json`` and never looked for
again (a noop apply then costs one file read).

* **Units** (Quadlet, stage): for every app that this apply brings to its new units
  (its plan is not refused) or removes, each old unit's service is stopped while its
  file is still there, the container it ran removed if Quadlet's clean-up left it,
  the owner's drop-ins moved to the new unit's ``.d`` dir, the old file removed and
  systemd reloaded.  The apply then writes the new units and starts them.  An app
  that stays on its old units (refused, held after a failed update) keeps them
  running; the migration is looked for again next time.
* **Secrets**: values never change.  The apply makes each new Podman secret from
  the value file (``secrets/<app>/<name>``, not renamed); afterwards each old Podman
  secret of an app that did not fail is removed and the owners record updated.  An
  old Podman secret without its value file is never replaced by a new value: its
  app is held (not applied, reported failed with the reason) until the file is back.
* **Containers** keep their names (the manifest's) and data dirs their paths; a
  member whose container used an old secret name is recreated by the apply (its
  configuration changed), with its data, which is a bind mount.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from catalog.catalog_model import AppCatalog, CatalogApp
from catalog.secret_homes import secret_homes
from catalog.spec_problems import RuntimeSpecError
from node_runtime.apply.outcome import ApplyReport
from node_runtime.apply.secrets import read_secret_file
from node_runtime.engines import is_podman_engine, is_quadlet_engine, is_stage_engine
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.actions import Plan
from node_runtime.plan.desired import desired_app
from node_runtime.plan.name_migration import (
    DERIVED_NAMES_MIGRATION,
    LegacySecret,
    LegacyUnit,
    legacy_part,
    legacy_secrets,
    legacy_unit,
    units_renamed,
)
from node_runtime.store.applied import AppliedApp, record_applied
from node_runtime.store.migrations import migration_done, record_migration_done
from node_runtime.store.paths import NodePaths, secret_file, secret_file_exists
from node_runtime.store.secret_owners import (
    forget_secret_owners,
    read_secret_owners,
    record_secret_owners,
)


@dataclass
class NameMigration:
    """What :func:`migrate_before_apply` found and did, for :func:`finish_after_apply`."""

    held: dict[str, str] = field(default_factory=dict)
    secrets: list[LegacySecret] = field(default_factory=list)
    renamed_records: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)


def unit_dir_of(engine: ContainerEngine) -> Path | None:
    """The dir an engine keeps units in (Quadlet, stage), None for the podman engine."""
    if is_quadlet_engine(engine) or is_stage_engine(engine):
        return engine.unit_dir
    return None


def find_legacy_units(unit_dir: Path) -> dict[str, list[LegacyUnit]]:
    """{app: its unit files under old names}, each file's app read from its header."""
    found: dict[str, list[LegacyUnit]] = {}
    if not unit_dir.is_dir():
        return found
    from node_runtime.engines.quadlet_engine import unit_file_owner  # a unit dir: loaded

    for path in sorted(unit_dir.iterdir()):
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue
        try:
            owner = unit_file_owner(path)
        except EngineError:  # a file the registry did not write: not the node's to migrate
            continue
        legacy = legacy_unit(owner, path.name) if owner else None
        if legacy is not None:
            found.setdefault(owner or "", []).append(legacy)
    return found


def _declared_secrets(apps: Collection[CatalogApp]) -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {}
    for app in apps:
        manifest = app.manifest
        names = {home.name for home in secret_homes(manifest) if home.owner == manifest.id}
        declared.setdefault(manifest.id, set()).update(names)
    return declared


def find_legacy_secrets(
    engine: ContainerEngine,
    owners: Mapping[str, str],
    catalog: AppCatalog,
    applied: Mapping[str, AppliedApp],
) -> list[LegacySecret]:
    """The Podman secrets under old names (one ``podman secret ls``; none without podman)."""
    if not is_podman_engine(engine):
        return []  # the stage engine holds no Podman secrets
    apps = [*catalog.apps.values(), *(record.app for record in applied.values())]
    return legacy_secrets(engine.observe().podman_secrets, owners, _declared_secrets(apps))


def rename_applied_units(
    paths: NodePaths, applied: Mapping[str, AppliedApp], data_root: str
) -> list[str]:
    """Rewrite applied records whose units have old names (the rollback target, and what a
    refused app falls back to), when the renamed units pass the node's unit check; returns
    the apps whose records were rewritten.  A record that does not pass is kept as it is."""
    renamed: list[str] = []
    for app_id, record in sorted(applied.items()):
        units = units_renamed(app_id, record.units)
        if units is None:
            continue
        app = record.app.model_copy(update={"units": units})
        try:
            desired_app(app, record.data_root or data_root)
        except RuntimeSpecError:
            continue
        record_applied(paths, app_id, record.model_copy(update={"units": units,
                                                               "catalog_app": app}))  # fmt: skip
        renamed.append(app_id)
    return renamed


def migrate_before_apply(
    catalog: AppCatalog,
    applied: Mapping[str, AppliedApp],
    *,
    paths: NodePaths,
    engine: ContainerEngine,
    data_root: str,
    plan_now: Callable[[], Plan] | None,
) -> NameMigration | None:
    """Retire the old units of the apps this apply moves on; None when nothing is old.

    ``plan_now`` gives the plan the apply would run (asked only when something old was
    found); None for the stage engine, which has no plan and moves every app on.  The
    applied records are renamed first (:func:`rename_applied_units`): the caller reads
    them again when ``renamed_records`` is not empty.
    """
    if migration_done(paths, DERIVED_NAMES_MIGRATION):
        return None
    unit_dir = unit_dir_of(engine)
    units = {} if unit_dir is None else find_legacy_units(unit_dir)
    if unit_dir is not None:
        from node_runtime.engines.quadlet_engine import rename_unit_file  # loaded already

    owners = read_secret_owners(paths)
    old_records = [
        app_id
        for app_id, record in applied.items()
        if any(legacy_unit(app_id, name) for name in record.units)
    ]
    ran_old_binary = bool(units or old_records) or any(
        legacy_part(owner, name) for name, owner in owners.items()
    )
    secrets = find_legacy_secrets(engine, owners, catalog, applied) if ran_old_binary else []
    if not units and not secrets and not old_records:
        if paths.state_dir.is_dir():  # a node with no state yet has nothing to migrate
            record_migration_done(paths, DERIVED_NAMES_MIGRATION)
        return None
    migration = NameMigration(secrets=secrets)
    for secret in secrets:
        value_file = secret_file(paths.root, secret.owner, secret.name)
        if not secret_file_exists(value_file, paths.root):
            migration.held[secret.owner] = (
                f"Podman secret {secret.legacy_name} (its old name) has no value file "
                f"{value_file}; the node does not make a new value for "
                f"{secret.current_name}: put the value back in that file (0600), then apply"
            )
    # a held app stays as the old binary left it, its applied record included
    movable = {app_id: record for app_id, record in applied.items() if app_id not in migration.held}
    migration.renamed_records = rename_applied_units(paths, movable, data_root)
    migration.moved += [f"applied record of {app_id}: its units" for app_id in
                        migration.renamed_records]  # fmt: skip
    refused: set[str] = set()
    if plan_now is not None:
        refused = {plan.app_id for plan in plan_now().apps if plan.change == "refused"}
    moving = [app_id for app_id in sorted(units) if app_id not in refused | set(migration.held)]
    assert unit_dir is not None or not moving
    for app_id in moving:
        for unit in units[app_id]:
            if is_quadlet_engine(engine) and unit.service and unit.container:
                engine.stop_retired_service(unit.service, unit.container)
            if unit_dir is not None and rename_unit_file(
                unit_dir, app_id, unit.file_name, unit.new_file_name
            ):
                migration.moved.append(f"unit {unit.file_name} -> {unit.new_file_name}")
    if moving and is_quadlet_engine(engine):
        engine.reload_units()
    # every app with old units is moved on, installed or not (an uninstalled one's units
    # are then removed by the apply, under their new names)
    return migration


def finish_after_apply(
    migration: NameMigration,
    report: ApplyReport,
    *,
    paths: NodePaths,
    engine: ContainerEngine,
) -> None:
    """Remove the old Podman secrets of apps that did not fail; record the migration done
    when no old unit or Podman secret is left."""
    failed = set(migration.held) | {
        app_id for app_id, result in report.results.items() if result.status == "failed"
    }
    left = False
    if is_podman_engine(engine):
        current = engine.observe().podman_secrets if migration.secrets else frozenset()
        for secret in migration.secrets:
            value = None
            if secret.owner not in failed:
                value = read_secret_file(secret_file(paths.root, secret.owner, secret.name),
                                         paths.root)  # fmt: skip
            if value is None:
                left = True
                continue
            if secret.current_name not in current:
                engine.create_podman_secret(secret.owner, secret.name, value)
            record_secret_owners(paths, secret.owner, [secret.current_name])
            engine.remove_podman_secret_named(secret.legacy_name)
            forget_secret_owners(paths, secret.owner, [secret.legacy_name])
            report.migrated.append(f"podman secret {secret.legacy_name} -> {secret.current_name}")
    unit_dir = unit_dir_of(engine)
    if unit_dir is not None and find_legacy_units(unit_dir):
        left = True
    if not left:
        record_migration_done(paths, DERIVED_NAMES_MIGRATION)
