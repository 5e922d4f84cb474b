"""Restart an applied app: every member in start order, each one's health awaited."""

from __future__ import annotations

from pathlib import Path

from node_runtime.apply.data_dirs import check_member_mounts
from node_runtime.apply.health import wait_healthy
from node_runtime.apply.outcome import ActionFailed, AppResult
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.desired import desired_app
from node_runtime.store.applied import read_applied
from node_runtime.store.paths import NodePaths


def restart_app(app_id: str, *, state_root: Path, engine: ContainerEngine) -> AppResult:
    """Restart every member of an applied app in start order, waiting for each one's health."""
    applied = read_applied(NodePaths(state_root)).get(app_id)
    if applied is None:
        return AppResult(app_id, "failed", "is not applied on this node; install it first")
    desired = desired_app(applied.app, applied.data_root)
    version = desired.version_text
    for spec in desired.specs:
        try:
            check_member_mounts(spec, applied.data_root)
            engine.restart_member(spec)
            wait_healthy(engine, spec)
        except (ActionFailed, EngineError) as error:
            return AppResult(app_id, "failed", f"restart of {spec.name}: {error}", version)
    return AppResult(app_id, "ok", None, version, "restart")
