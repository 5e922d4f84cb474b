"""Health waits: after a member starts, run its health check until it passes, or fail.

The budget is the manifest's start period + (retries + 1) x (interval + timeout)
plus a margin, never under ``MINIMUM_HEALTH_SECONDS``; a member without a check
must simply be running.  The loop waits on the condition with a deadline (it
polls; it never sleeps a fixed time instead of checking).
"""

from __future__ import annotations

import time

from catalog.member_spec import MemberSpec
from node_runtime.apply.outcome import ActionFailed
from node_runtime.engines.container_engine import ContainerEngine

HEALTH_MARGIN_SECONDS = 15.0
MINIMUM_HEALTH_SECONDS = 20.0
HEALTH_POLL_SECONDS = 0.25


def health_budget_seconds(spec: MemberSpec) -> float:
    if spec.health is None:
        return MINIMUM_HEALTH_SECONDS
    health = spec.health
    budget = _seconds(health.start_period) + (health.retries + 1) * (
        _seconds(health.interval) + _seconds(health.timeout)
    )
    return max(MINIMUM_HEALTH_SECONDS, budget + HEALTH_MARGIN_SECONDS)


def _seconds(duration: str) -> float:
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if duration.endswith(suffix) and duration[: -len(suffix)].isdigit():
            return int(duration[: -len(suffix)]) * factor
    return 30.0


def wait_healthy(engine: ContainerEngine, spec: MemberSpec, budget: float | None = None) -> None:
    """Run the member's health check until it passes, within its budget (never a fixed sleep)."""
    seconds = health_budget_seconds(spec) if budget is None else budget
    deadline = time.monotonic() + seconds
    last = "no status yet"
    while True:
        status = engine.container_status(spec.name)
        if status is None:
            # podman's inspect can fail for a moment while a crashing member is restarted
            # (--restart=always): only a member still unseen at the deadline is gone
            last = "no such container"
        else:
            last = status.state
            if status.running and (spec.health is None or engine.run_health_check(spec.name)):
                return
            if spec.health is not None and status.running:
                last = f"{status.state}, {status.health or 'no health yet'}"
        if time.monotonic() >= deadline:
            logs = engine.logs_tail(spec.name)
            raise ActionFailed(
                f"{spec.name} did not become healthy within {seconds:g}s ({last})"
                + (f"; last log lines: {logs}" if logs else "")
            )
        time.sleep(HEALTH_POLL_SECONDS)  # the poll interval of a deadline-bounded wait
