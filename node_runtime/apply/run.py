"""Apply: run a reconcile plan through a container engine, app by app.

:func:`apply` is what ``archy-node apply``, ``install``, ``uninstall`` and the
daemon call.  It observes the node (one bounded ``podman ps``, ``secret ls``
and ``network exists``), asks :mod:`node_runtime.plan` for a plan and has the
executor run it.  One app failing never stops the others; a failed install or
update is rolled back (:mod:`.rollback`).  When the engine is too slow to
answer, nothing is done rather than act on a partial view.  With no container
engine (``--engine stage``) it stages instead (:mod:`.stage`).

Every state write is atomic; a noop apply writes nothing.  Callers that change
state hold ``NodeState.lock()``; :func:`apply` itself takes no lock, so a command
already holding it can call it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import AppCatalog
from node_runtime.apply.executor import ExecutionContext, run_actions
from node_runtime.apply.name_migration import finish_after_apply, migrate_before_apply
from node_runtime.apply.observe import node_architecture, observe_for, remember_observation
from node_runtime.apply.onion_sync import sync_onion_services
from node_runtime.apply.outcome import ActionFailed, ApplyReport, AppResult, Status
from node_runtime.apply.rollback import after_failure
from node_runtime.engines import is_stage_engine
from node_runtime.engines.container_engine import (
    ContainerEngine,
    EngineError,
    EngineObservation,
    EngineTimeout,
    PodmanRunner,
)
from node_runtime.plan.actions import AppPlan, Plan, StartMember
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.onion_services import TOR_APP
from node_runtime.plan.reconcile import plan_reconcile
from node_runtime.store.applied import AppliedApp, read_applied
from node_runtime.store.failures import FailedUpdate, read_failures, save_failures
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.stopped import read_stopped


def _result_for_success(plan: AppPlan, warnings: Sequence[str]) -> AppResult:
    status: Status = {"remove": "removed", "stop": "stopped", "unchanged": "unchanged"}.get(
        plan.change, "ok"
    )  # type: ignore[assignment]
    return AppResult(plan.app_id, status, plan.reason, plan.version, plan.change, tuple(warnings))


def plan_apply(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
    retry_failed: bool = True,
    architecture: str | None = None,
) -> Plan:
    """What :func:`apply` would do now (``apply --dry-run``); observes, changes nothing."""
    paths = NodePaths(state_root)
    applied = read_applied(paths)
    _, observed = observe_for(engine, catalog, installed, applied, state_root, data_root)
    return plan_reconcile(
        catalog,
        installed,
        observed,
        applied,
        data_root=data_root,
        architecture=architecture or node_architecture(),
        stopped=read_stopped(paths) if stopped is None else set(stopped),
        failed_updates={} if retry_failed else read_failures(paths),
        only=only,
    )


def apply(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    catalog_blake3: str | None = None,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
    retry_failed: bool = True,
    architecture: str | None = None,
    hook_sources: Sequence[str] = (),
) -> ApplyReport:
    """Bring the installed apps to the catalog's desired state; one result per app.

    ``only`` limits the work to some apps (``install``/``start`` of one app).
    ``retry_failed=False`` (the daemon) keeps a failed update on hold until the
    catalog changes; an explicit apply retries it.  ``hook_sources`` are the
    host dirs ``copy_from_host`` may read (besides nothing else).
    """
    paths = NodePaths(state_root)
    applied = read_applied(paths)
    if is_stage_engine(engine):
        from node_runtime.apply.stage import stage_apps  # the stage engine's module is loaded

        migration = migrate_before_apply(catalog, applied, paths=paths, engine=engine,
                                         data_root=data_root, plan_now=None)  # fmt: skip
        staged = stage_apps(
            catalog, installed, state_root=state_root, data_root=data_root, engine=engine,
            stopped=stopped, only=only, hook_sources=hook_sources,
        )  # fmt: skip
        if migration is not None:
            staged.migrated[:0] = migration.moved
            finish_after_apply(migration, staged, paths=paths, engine=engine)
        sync_onion_services_of(catalog, installed, data_root, engine, staged)
        return staged
    report = ApplyReport(engine.name)
    failures = read_failures(paths)
    stopped_apps = read_stopped(paths) if stopped is None else set(stopped)

    def observe_and_plan(
        applied: dict[str, AppliedApp],
    ) -> tuple[EngineObservation, ObservedState, Plan]:
        observation, observed = observe_for(
            engine, catalog, installed, applied, state_root, data_root
        )
        plan = plan_reconcile(
            catalog,
            installed,
            observed,
            applied,
            data_root=data_root,
            architecture=architecture or node_architecture(),
            stopped=stopped_apps,
            failed_updates={} if retry_failed else failures,
            only=only,
        )
        return observation, observed, plan

    try:
        migration = migrate_before_apply(
            catalog, applied, paths=paths, engine=engine, data_root=data_root,
            plan_now=lambda: observe_and_plan(read_applied(paths))[2],
        )  # fmt: skip
    except EngineError as error:
        report.engine_slow = (
            f"{error}; the move to the new names stopped there, the next apply goes on from "
            "where it is"
        )
        return report
    if migration is not None and migration.renamed_records:
        applied = read_applied(paths)
    try:
        observation, observed, plan = observe_and_plan(applied)
    except EngineTimeout as error:
        report.engine_slow = f"{error}; nothing was changed, the next reconcile tries again"
        return report
    except EngineError as error:
        report.engine_slow = f"{error}; nothing was changed"
        return report
    held = {} if migration is None else migration.held
    if held:
        plan = Plan(plan.network, tuple(p for p in plan.apps if p.app_id not in held))
        for app_id, reason in sorted(held.items()):
            report.results[app_id] = AppResult(app_id, "failed", reason, change="refused")
    cached_blake3: list[str] = [] if catalog_blake3 is None else [catalog_blake3]

    def blake3_of_catalog() -> str:
        if not cached_blake3:
            cached_blake3.append(blake3_hex(catalog.to_canonical()))
        return cached_blake3[0]

    context = ExecutionContext(engine, paths, data_root, blake3_of_catalog, tuple(hook_sources))
    network_failure: str | None = None
    try:
        run_actions(plan.network, context)
    except ActionFailed as error:
        network_failure = str(error)

    changed_failures = dict(failures)
    for app_plan in plan.apps:
        context.warnings = []
        if network_failure is not None and any(
            isinstance(a, StartMember) for a in app_plan.actions
        ):
            report.results[app_plan.app_id] = AppResult(
                app_plan.app_id, "failed", network_failure, app_plan.version, app_plan.change
            )
            continue
        result = _apply_app(app_plan, context, changed_failures, observed)
        report.results[app_plan.app_id] = result
    for removal in plan.network_removals:
        # podman refuses to remove a network a container still uses: the next reconcile
        # tries again once it is free
        with contextlib.suppress(ActionFailed):
            run_actions([removal], context)
    report.steps = context.steps
    report.migrated = [] if migration is None else list(migration.moved)
    if migration is not None:
        try:
            finish_after_apply(migration, report, paths=paths, engine=engine)
        except (EngineError, StateError) as error:
            report.migrated.append(f"old Podman secrets left for the next apply: {error}")
    sync_onion_services_of(catalog, installed, data_root, engine, report)
    if changed_failures != failures:
        save_failures(paths, changed_failures)
    if context.steps:
        with contextlib.suppress(EngineError):
            observation = engine.observe()
    with contextlib.suppress(OSError, StateError):
        remember_observation(paths, observation)
    return report


def sync_onion_services_of(
    catalog: AppCatalog,
    installed: Collection[str],
    data_root: str,
    engine: ContainerEngine,
    report: ApplyReport,
) -> None:
    """Tor's onion services follow the installed apps (a warning on tor's result if not).

    Under every engine: podman and Quadlet give the members' addresses and reload tor;
    the stage engine (no runner) writes the file with every app left out for now."""
    runner: PodmanRunner | None = getattr(engine, "runner", None)
    if TOR_APP not in installed:
        return
    manifests = [catalog.apps[a].manifest for a in sorted(installed) if a in catalog.apps]
    try:
        warning = sync_onion_services(manifests, data_root, runner).warning
    except (EngineError, OSError) as error:
        warning = f"the onion services were not updated: {error}"
    tor = report.results.get(TOR_APP)
    if warning is not None and tor is not None:
        report.results[TOR_APP] = replace(tor, warnings=(*tor.warnings, warning))


def _apply_app(
    plan: AppPlan,
    context: ExecutionContext,
    failures: dict[str, FailedUpdate],
    observed: ObservedState,
) -> AppResult:
    app_id = plan.app_id
    if plan.change == "refused":
        try:
            run_actions(plan.actions, context)  # the previously applied version, kept running
        except ActionFailed as error:
            return AppResult(app_id, "failed", f"{plan.reason}; also: {error}", plan.version)
        return AppResult(app_id, "failed", plan.reason, plan.version, "refused")
    try:
        run_actions(plan.actions, context)
    except ActionFailed as error:
        return after_failure(plan, str(error), context, failures)
    if plan.target is not None and app_id in failures and plan.change in ("install", "update"):
        del failures[app_id]
    if plan.change == "remove":
        failures.pop(app_id, None)
    return _result_for_success(plan, context.warnings)
