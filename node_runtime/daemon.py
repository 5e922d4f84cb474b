"""The node agent's daemon loop: pull on a jittered interval, reconcile level-triggered.

The loop pulls (``node_runtime.fetch.pull``, then every added third-party registry,
``node_runtime.registries.pull``) every ``pull_interval`` seconds, jittered by
±20 %, and reconciles every ``reconcile_interval`` seconds and as soon as
installed.json, the current catalog pointer or the stopped list changes (their
mtime and size, looked at every second).  It reports one event per step through
``emit`` (a JSON-ready dict; never a secret) and, under systemd (``Type=notify``,
see :mod:`node_runtime.service`), ``READY=1`` once its first reconcile is done and a
``STATUS=`` line after each.  It stops when ``stopping`` is set; :func:`run` sets it
on SIGTERM or SIGINT and says ``STOPPING=1``: a reconcile under way ends before its
next step (its current step finishes; nothing is rolled back or marked failed) and a
step still running ``STOP_GRACE_SECONDS`` later is abandoned (as a crash would).

With ``self_update`` (the running frozen binary), the first pull and every pull that
changes the catalog are followed by :func:`self_update_once`; once a new binary is in
place the loop stops and :func:`run` returns ``SELF_UPDATE_EXIT_STATUS``, on which
``archy-node.service`` restarts the agent onto it (a binary that fails its start probe
is rolled back and the loop goes on).

The loop itself (:func:`converge`) takes its clock, its wait and its two steps as
arguments, so it can be driven without sleeping; :func:`run` wires the real ones.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from node_runtime.apply.executor import ApplyInterrupted, request_stop
from node_runtime.apply.outcome import ApplyReport
from node_runtime.engines.container_engine import EngineError
from node_runtime.service import notify
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError

DEFAULT_RECONCILE_SECONDS = 30.0
DEFAULT_PULL_SECONDS = 900.0
PULL_JITTER = 0.2
WATCH_SECONDS = 1.0
STOP_GRACE_SECONDS = 30.0  # archy-node.service's TimeoutStopSec is longer
ABANDONED_EXIT_STATUS = 143  # 128 + SIGTERM; the service counts it a clean stop
SELF_UPDATE_EXIT_STATUS = 75  # the service restarts the agent on it (onto the new binary)

Emit = Callable[[dict[str, Any]], None]


class ConvergingNode(Protocol):
    """The node the daemon keeps converged (``node_runtime.local_node.LocalNode``)."""

    paths: NodePaths

    @property
    def engine_name(self) -> str: ...

    def lock(self) -> AbstractContextManager[object]: ...

    def apply(self, *, only: set[str] | None = None, retry_failed: bool = True) -> ApplyReport: ...


@dataclass(frozen=True)
class Intervals:
    reconcile: float = DEFAULT_RECONCILE_SECONDS
    pull: float | None = DEFAULT_PULL_SECONDS  # None: never pull


def watched_files(paths: NodePaths) -> tuple[tuple[str, int, int], ...]:
    """What a change of the desired state looks like: (path, mtime, size) of its files."""
    watched = []
    # a third-party registry's new catalog is a change too (its pointer, one per registry)
    registry_pointers = sorted(paths.registries_dir.glob("[a-z]*/state/catalog.json"))
    for path in (
        paths.installed_file,
        paths.catalog_pointer_file,
        paths.state_dir / "stopped.json",
        paths.app_registries_file,
        *registry_pointers,
    ):
        try:
            info = os.stat(path)
            watched.append((str(path), info.st_mtime_ns, info.st_size))
        except FileNotFoundError:
            watched.append((str(path), 0, -1))
    return tuple(watched)


def jittered(seconds: float) -> float:
    return seconds * (1 + random.uniform(-PULL_JITTER, PULL_JITTER))  # noqa: S311 (not secret)


def pull_once(paths: NodePaths, emit: Emit) -> bool | None:
    """One pull; its outcome (or refusal) is an event, never an exception.  Returns
    whether the catalog changed, None when the pull was refused."""
    from node_runtime.fetch.pull import PullError, pull

    try:
        aside = NodeState(paths).set_aside_unreadable_pointer()
        if aside is not None:
            emit({"event": "pointer-set-aside", "path": str(aside),
                  "note": "fetching the catalog again"})  # fmt: skip
        result = pull(paths)
    except (StateError, PullError) as error:
        emit({"event": "pull", "ok": False, "error": str(error)})
        pull_third_party(paths, emit)
        return None
    emit({"event": "pull", "ok": True, "changed": result.changed,
          "catalog": result.pointer.blake3})  # fmt: skip
    pull_third_party(paths, emit)
    return result.changed


def pull_third_party(paths: NodePaths, emit: Emit) -> None:
    """Pull every added registry; each outcome is an event (a refusal keeps its catalog)."""
    from node_runtime.registries.pull import pull_registries

    try:
        outcomes = pull_registries(paths)
    except StateError as error:
        emit({"event": "registry-pull", "ok": False, "error": str(error)})
        return
    for outcome in outcomes:
        emit({"event": "registry-pull", **outcome.to_json()})


def self_update_once(paths: NodePaths, binary: Path, emit: Emit) -> bool:
    """Bring ``binary`` to the one the current catalog names (node_runtime.self_update:
    verified download, swap, start probe, rollback); True when a new binary is in place,
    so the caller exits and systemd restarts it onto that binary."""
    from node_runtime.self_update import (
        DEFAULT_PROBE_TIMEOUT,
        SelfUpdateError,
        update_from_catalog,
    )
    from node_runtime.store.node_config import NodeConfigError
    from signing.errors import TufError

    try:
        found = update_from_catalog(
            paths, binary, check_only=False, probe_timeout=DEFAULT_PROBE_TIMEOUT
        )
    except (SelfUpdateError, NodeConfigError, StateError, TufError, ValueError, OSError) as error:
        emit({"event": "self-update", "ok": False, "error": str(error)})
        return False
    outcome = found.outcome
    if outcome is None or outcome.status == "up-to-date":
        return False
    emit({"event": "self-update", "ok": outcome.status == "updated", "status": outcome.status,
          "binary": str(outcome.binary), "offered": outcome.offered_blake3,
          "detail": outcome.detail})  # fmt: skip
    return outcome.status == "updated"


def reconcile_once(node: ConvergingNode, emit: Emit) -> str:
    """Reconcile and emit the event; returns a one-line status for systemd."""
    try:
        with node.lock():
            report = node.apply(retry_failed=False)
    except (StateError, EngineError) as error:
        emit({"event": "reconciled", "ok": False, "error": str(error)})
        return f"reconcile refused: {error}"
    changed = {
        app_id: result.status
        for app_id, result in report.results.items()
        if result.status != "unchanged"
    }
    failed = {app_id: r.reason for app_id, r in report.results.items() if r.status == "failed"}
    emit({
        "event": "reconciled", "ok": report.ok, "engine_slow": report.engine_slow,
        "changed": changed, "failed": failed, "steps": len(report.steps),
    })  # fmt: skip
    return f"reconciled {len(report.results)} app(s): {len(changed)} changed, {len(failed)} failed"


def converge(
    intervals: Intervals,
    *,
    pull: Callable[[], None],
    reconcile: Callable[[], str],
    watched: Callable[[], object],
    stopping: Callable[[], bool],
    wait: Callable[[float], object],
    clock: Callable[[], float] = time.monotonic,
    jitter: Callable[[float], float] = jittered,
    notify: Callable[..., object] = notify,
) -> None:
    """The loop: pull when due, reconcile when due or when ``watched()`` changed, then
    ``wait`` at most WATCH_SECONDS; until ``stopping()``."""
    next_pull = clock() if intervals.pull is not None else float("inf")
    next_reconcile = clock()
    seen: object = None
    ready = False
    while not stopping():
        now = clock()
        if now >= next_pull and intervals.pull is not None:
            pull()
            next_pull = clock() + jitter(intervals.pull)
        current = watched()
        if now >= next_reconcile or current != seen:
            seen = current
            status = reconcile()
            notify(*(() if ready else ("READY=1",)), f"STATUS={status}")
            ready = True
            next_reconcile = clock() + intervals.reconcile
        wait(min(WATCH_SECONDS, max(0.0, next_reconcile - clock())))


def run(
    node: ConvergingNode,
    intervals: Intervals,
    emit: Emit,
    *,
    stop_grace: float = STOP_GRACE_SECONDS,
    self_update: Path | None = None,
) -> int:
    """Run the loop until SIGTERM or SIGINT, with the real clock, files and pulls; return
    the exit status (SELF_UPDATE_EXIT_STATUS once ``self_update``, the running binary,
    was replaced after a pull that changed the catalog, or after the first one).

    A signal makes an apply under way end before its next step (ApplyInterrupted, see
    node_runtime.apply.executor) and the loop return; a step that does not end within
    ``stop_grace`` seconds (a pull or a health wait) is abandoned: the process exits 143
    (as SIGTERM's default would), which leaves what a crash there leaves, converged by
    the next start."""
    stopping = threading.Event()
    deadline = threading.Timer(stop_grace, _abandon, args=(emit, stop_grace))
    deadline.daemon = True
    updated = threading.Event()
    pulls_seen: list[bool] = []

    def pull_and_update() -> None:
        changed = pull_once(node.paths, emit)
        if self_update is None or changed is None or not (changed or not pulls_seen):
            return
        pulls_seen.append(changed)
        if self_update_once(node.paths, self_update, emit):
            updated.set()
            stopping.set()

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        request_stop()
        notify("STOPPING=1")
        deadline.start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emit({"event": "started", "engine": node.engine_name, "pid": os.getpid()})
    try:
        converge(
            intervals,
            pull=pull_and_update,
            reconcile=lambda: reconcile_once(node, emit),
            watched=lambda: watched_files(node.paths),
            stopping=stopping.is_set,
            wait=stopping.wait,
        )
    except ApplyInterrupted as interrupted:
        deadline.cancel()
        emit({"event": "stopped", "interrupted_before": interrupted.step})
        return 0
    deadline.cancel()
    if updated.is_set():
        emit({"event": "stopped", "restart": "a new node binary is in place"})
        return SELF_UPDATE_EXIT_STATUS
    emit({"event": "stopped"})
    return 0


def _abandon(emit: Emit, grace: float) -> None:
    """The stop deadline passed (a timer thread): exit mid-step, as SIGTERM's default would."""
    note = f"a step did not end within {grace:g}s of the stop; the next start converges"
    emit({"event": "stopped", "abandoned": True, "note": note})
    os._exit(ABANDONED_EXIT_STATUS)
