"""After a failed install or update: roll an update back to the applied record, remove a
failed fresh install's containers and units, and put the update on hold.

The hold (``store.failures``) carries the reason; the same update is not retried
until the catalog changes it or an apply is asked to retry.  Data is never
removed here.
"""

from __future__ import annotations

import contextlib

from catalog.secret_homes import secret_homes
from node_runtime.apply.data_dirs import data_dir_exists
from node_runtime.apply.executor import ExecutionContext, run_actions
from node_runtime.apply.outcome import ActionFailed, AppResult
from node_runtime.engines.container_engine import EngineError
from node_runtime.plan.actions import AppPlan, StartMember
from node_runtime.plan.app_plan import plan_app
from node_runtime.plan.desired import app_data_dirs, desired_app
from node_runtime.plan.observed import ObservedState
from node_runtime.store.applied import AppliedApp
from node_runtime.store.failures import FailedUpdate
from node_runtime.store.paths import secret_file, secret_file_exists


def after_failure(
    plan: AppPlan, reason: str, context: ExecutionContext, failures: dict[str, FailedUpdate]
) -> AppResult:
    app_id = plan.app_id
    if plan.target is not None and plan.change in ("install", "update"):
        target = f"{plan.target.version}-r{plan.target.revision}"
        previous = plan.rollback_to
        if plan.change == "update" and previous is not None:
            old = f"{previous.app.version}-r{previous.app.revision}"
            try:
                rollback_to_applied(previous, context)
                message = f"update to {target} failed ({reason}); rolled back to {old}"
            except (ActionFailed, EngineError) as error:
                message = (
                    f"update to {target} failed ({reason}); rolling back to {old} "
                    f"also failed ({error})"
                )
        else:
            remove_failed_install(plan, context)
            message = f"install of {target} failed ({reason})"
        failures[app_id] = FailedUpdate(manifest_blake3=plan.target.manifest_blake3, reason=message)
        return AppResult(app_id, "failed", message, plan.version, plan.change)
    return AppResult(app_id, "failed", reason, plan.version, plan.change)


def rollback_to_applied(previous: AppliedApp, context: ExecutionContext) -> None:
    """Bring the app back to its applied record (observing afresh: the update half ran)."""
    engine = context.engine
    desired = desired_app(previous.app, context.data_root)
    observation = engine.observe()
    state = ObservedState(
        containers=observation.containers,
        podman_secrets=observation.podman_secrets,
        secret_files=frozenset(
            home.podman_name
            for home in secret_homes(desired.manifest)
            if secret_file_exists(
                secret_file(context.paths.root, home.owner, home.name), context.paths.root
            )
        ),
        existing_dirs=frozenset(
            path
            for path, _ in app_data_dirs(desired, context.data_root)
            if data_dir_exists(path, context.data_root)
        ),
        networks=observation.networks,
    )
    plan = plan_app(desired, state, previous, data_root=context.data_root)
    run_actions(plan.actions, context)


def remove_failed_install(plan: AppPlan, context: ExecutionContext) -> None:
    """A fresh install that failed leaves no crash-looping containers (its data stays)."""
    for action in reversed(plan.actions):
        if isinstance(action, StartMember):
            with contextlib.suppress(EngineError):
                context.engine.remove_member(plan.app_id, action.spec.name)
    with contextlib.suppress(EngineError):
        # units left behind would start the failed app at the next boot (WantedBy=)
        context.engine.remove_units(plan.app_id)
