"""SIGTERM stops the daemon (node_runtime.daemon.run) promptly: idle, between two steps of an
apply, and at a step that never ends (abandoned after the grace, exit 143).

Each case runs ``run`` in a child Python with a scripted node (named as such: an apply
whose steps are ``crash_point`` calls, the executor's real step boundary) and a real
signal; the test reads the child's JSON events and its exit status.  Waits are on the
child's output and exit, never on time."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from typing import Any

from node_runtime.daemon import ABANDONED_EXIT_STATUS

SCRIPTED_NODE = textwrap.dedent(
    """
    import contextlib, os, signal, sys, threading
    from pathlib import Path
    from node_runtime.apply.executor import crash_point
    from node_runtime.apply.outcome import ApplyReport
    from node_runtime.daemon import Intervals, run
    from node_runtime.commands.daemon import emit_line
    from node_runtime.store.paths import NodePaths

    MODE = sys.argv[1]

    class ScriptedNode:  # a fake node: its apply is a script of steps
        engine_name = "scripted"
        paths = NodePaths(Path(sys.argv[2]))
        calls = 0

        def lock(self):
            return contextlib.nullcontext()

        def apply(self, *, only=None, retry_failed=True):
            ScriptedNode.calls += 1
            if MODE == "between-steps":
                crash_point("first-step")
                os.kill(os.getpid(), signal.SIGTERM)  # arrives during the first step
                crash_point("second-step")
                raise AssertionError("the second step ran after SIGTERM")
            if MODE == "endless-step":
                crash_point("first-step")
                os.kill(os.getpid(), signal.SIGTERM)
                threading.Event().wait()  # a step that never ends
            return ApplyReport(engine="scripted")

    run(ScriptedNode(), Intervals(reconcile=3600.0, pull=None), emit_line, stop_grace=0.5)
    """
)


def start(mode: str, state_root: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPTED_NODE, mode, state_root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(child: subprocess.Popen[str]) -> tuple[int, list[dict[str, Any]], str]:
    out, err = child.communicate(timeout=60)
    return child.returncode, [json.loads(line) for line in out.splitlines()], err


def test_idle_it_stops_at_once_and_says_stopped(tmp_path: Any) -> None:
    child = start("idle", str(tmp_path))
    assert child.stdout is not None
    lines = [child.stdout.readline(), child.stdout.readline()]  # started, reconciled
    assert json.loads(lines[1])["event"] == "reconciled", lines
    child.send_signal(signal.SIGTERM)
    code, events, err = finish(child)
    assert (code, events) == (0, [{"event": "stopped"}]), err


def test_mid_apply_it_ends_the_apply_before_its_next_step(tmp_path: Any) -> None:
    code, events, err = finish(start("between-steps", str(tmp_path)))
    assert code == 0, err
    assert [e["event"] for e in events] == ["started", "stopped"]
    assert events[-1] == {"event": "stopped", "interrupted_before": "second-step"}
    assert "Traceback" not in err


def test_a_step_that_never_ends_is_abandoned_after_the_grace(tmp_path: Any) -> None:
    code, events, err = finish(start("endless-step", str(tmp_path)))
    assert code == ABANDONED_EXIT_STATUS, err
    assert events[-1]["event"] == "stopped" and events[-1]["abandoned"] is True
    assert "did not end within 0.5s" in events[-1]["note"]
    assert "Traceback" not in err
