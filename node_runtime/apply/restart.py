"""Restart an applied app: every member in start order, each one's health awaited and
its hooks run (``pre_start``; ``post_install`` too where the restart made a new container)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from node_runtime.apply.data_dirs import check_member_mounts
from node_runtime.apply.health import wait_healthy
from node_runtime.apply.hooks import run_member_hooks
from node_runtime.apply.outcome import ActionFailed, AppResult
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.app_plan import member_hooks
from node_runtime.plan.desired import desired_app
from node_runtime.store.applied import read_applied
from node_runtime.store.paths import NodePaths


def restart_app(
    app_id: str, *, state_root: Path, engine: ContainerEngine, hook_sources: Sequence[str] = ()
) -> AppResult:
    """Restart every member of an applied app in start order, waiting for each one's health
    and running its hooks."""
    paths = NodePaths(state_root)
    applied = read_applied(paths).get(app_id)
    if applied is None:
        return AppResult(app_id, "failed", "is not applied on this node; install it first")
    desired = desired_app(applied.app, applied.data_root)
    version = desired.version_text
    warnings: list[str] = []
    for spec in desired.specs:
        try:
            check_member_mounts(spec, applied.data_root)
            engine.restart_member(spec)
            wait_healthy(engine, spec)
        except (ActionFailed, EngineError) as error:
            return AppResult(app_id, "failed", f"restart of {spec.name}: {error}", version)
        hooks = member_hooks(desired, spec.name)
        if hooks is not None:
            warnings += run_member_hooks(engine, paths, spec.name, hooks.post_install,
                                         hooks.pre_start, hook_sources)  # fmt: skip
    return AppResult(app_id, "ok", None, version, "restart", tuple(warnings))
