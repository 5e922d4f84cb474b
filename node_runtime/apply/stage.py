"""Staging: what apply can honestly do without a container engine (``--engine stage``).

Units written (the catalog's bytes), data dirs and secrets created, nothing
started; every app reported ``staged``, never ``ok``, and nothing recorded as
applied.  An uninstalled app's staged units are removed (its data and secrets
are kept, as with every engine).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from catalog.app_network import networks_named_by_units
from catalog.catalog_model import AppCatalog
from catalog.runtime_names import NETWORK_NAME, app_data_dir
from catalog.secret_homes import secret_homes
from catalog.spec_problems import RuntimeSpecError
from node_runtime.apply.data_dirs import create_data_dir, data_dir_exists
from node_runtime.apply.hook_dropins import app_hooks_dropins, node_program
from node_runtime.apply.outcome import ActionFailed, ApplyReport, AppResult
from node_runtime.apply.secrets import first_secret_value, write_secret_once
from node_runtime.engines.container_engine import EngineError
from node_runtime.engines.quadlet_engine import app_unit_files, network_unit_networks
from node_runtime.engines.stage_engine import StageEngine, staged_reason
from node_runtime.plan.app_plan import exported_secrets_before, hooked_members
from node_runtime.plan.desired import UnitsRefused, app_data_dirs, desired_app
from node_runtime.store.paths import NodePaths, secret_file, secret_file_exists
from node_runtime.store.stopped import read_stopped


def stage_apps(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: StageEngine,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
    hook_sources: Sequence[str] = (),
) -> ApplyReport:
    """What apply can honestly do without a container engine (see ``engines.stage_engine``).

    For each installed app: its units (the catalog's bytes) into the engine's unit dir,
    its data dirs, its generated secrets (once); the result is ``staged``, never ``ok``,
    and nothing is recorded as applied.  An uninstalled app's staged units are removed
    (``removed``; its data and secrets are kept, as with every engine).
    """
    report = ApplyReport(engine.name)
    stopped_apps = read_stopped(NodePaths(state_root)) if stopped is None else set(stopped)
    wanted = set(installed) if only is None else set(installed) & set(only)
    for app_id in sorted(wanted):
        report.results[app_id] = _stage_app(catalog, app_id, state_root, data_root, engine,
                                            app_id in stopped_apps, hook_sources)  # fmt: skip
        report.steps.append(f"stage:{app_id}")
    leaving = set(catalog.apps) - set(installed)
    for app_id in sorted(leaving if only is None else leaving & set(only)):
        if app_unit_files(engine.unit_dir, app_id):
            engine.remove_units(app_id)
            report.results[app_id] = AppResult(
                app_id, "removed", "staged units removed; data and secrets kept", None, "remove"
            )
            report.steps.append(f"unstage:{app_id}")
    for network in unused_networks(engine.unit_dir):
        engine.remove_network(network)
        report.steps.append(f"remove-network:{network}")
    return report


def unused_networks(unit_dir: Path) -> list[str]:
    """Registry networks whose unit is staged but that no staged member unit joins any more
    (``archy-net`` always stays)."""
    members = {
        path.name: path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(unit_dir.glob("*.container"))
        if path.is_file() and not path.is_symlink()
    }
    joined = set(networks_named_by_units(members))
    return sorted(network_unit_networks(unit_dir) - joined - {NETWORK_NAME})


def plan_stage(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    engine: StageEngine,
    only: Collection[str] | None = None,
) -> list[str]:
    """What :func:`stage_apps` would do now (``apply --dry-run --engine stage``): one step
    per app, naming the unit dir; nothing is pulled, created or started by staging."""
    wanted = set(installed) if only is None else set(installed) & set(only)
    steps = [
        f"stage:{app_id} (write {len(catalog.apps[app_id].units)} units to {engine.unit_dir}, "
        "its data dirs and secrets; start nothing)"
        if app_id in catalog.apps
        else f"stage:{app_id} (fails: not in the current catalog)"
        for app_id in sorted(wanted)
    ]
    leaving = set(catalog.apps) - set(installed)
    for app_id in sorted(leaving if only is None else leaving & set(only)):
        if app_unit_files(engine.unit_dir, app_id):
            steps.append(f"unstage:{app_id} (remove its units from {engine.unit_dir})")
    return steps


def _stage_app(
    catalog: AppCatalog,
    app_id: str,
    state_root: Path,
    data_root: str,
    engine: StageEngine,
    stopped: bool,
    hook_sources: Sequence[str] = (),
) -> AppResult:
    app = catalog.apps.get(app_id)
    if app is None:
        return AppResult(app_id, "failed", "is not in the current catalog")
    try:
        desired = desired_app(app, data_root)
    except UnitsRefused as error:
        return AppResult(app_id, "failed", str(error))
    except RuntimeSpecError as error:
        return AppResult(app_id, "failed", f"cannot be run on any engine: {error}")
    warnings: list[str] = []
    app_dir = app_data_dir(app_id, data_root)
    if any(m.host_path.startswith(app_dir) for spec in desired.specs for m in spec.mounts) and not (
        any(app_dir in text for _, text in desired.units)
    ):
        warnings.append(
            f"the catalog's units mount the catalog's data root, not {data_root} (this node's)"
        )
    try:
        for path, container_uid in app_data_dirs(desired, data_root):
            existed = data_dir_exists(path, data_root)
            create_data_dir(engine, path, container_uid, data_root)
            if container_uid and not existed:
                warnings.append(
                    f"{path} is owned by the node user, not container uid {container_uid} "
                    "(the stage engine maps no uids)"
                )
        before = exported_secrets_before(app.manifest)
        for home in secret_homes(app.manifest):
            value_file = secret_file(state_root, home.owner, home.name)
            if home.secret is not None and not secret_file_exists(value_file, state_root):
                kept = before.get(home.name)
                kept_file = None if kept is None else secret_file(state_root, *kept)
                value = first_secret_value(home.secret, kept_file, state_root)
                write_secret_once(value_file, value, state_root)
        dropins = app_hooks_dropins(app_id, hooked_members(desired.manifest), node_program(),
                                    state_root, hook_sources)  # fmt: skip
        engine.write_units(app_id, dict(desired.units), dropins)
    except (OSError, EngineError, ActionFailed) as error:
        return AppResult(app_id, "failed", f"staging: {error}", desired.version_text, "stage")
    reason = staged_reason(engine.unit_dir) + ("; stopped by the owner" if stopped else "")
    return AppResult(app_id, "staged", reason, desired.version_text, "stage", tuple(warnings))
