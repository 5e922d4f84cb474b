"""Two processes contend for NodeState.lock(): the second waits until the first lets go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.realparts import REPO_ROOT
from tests.realparts.wait import poll_until

# holds the lock, logs its steps, and lets go when its stdin says so
HOLDER = """
import sys
from pathlib import Path
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
root, log, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with NodeState(NodePaths(root)).lock():
    with log.open("a") as out:
        out.write(f"{name} in\\n")
    print("locked", flush=True)
    sys.stdin.readline()
    with log.open("a") as out:
        out.write(f"{name} out\\n")
"""


def start(root: Path, log: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root), str(log), name],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def blocked_on_flock(inode: int) -> bool:
    """/proc/locks lists a waiter ("->") on the lock file: the kernel has it queued."""
    lines = Path("/proc/locks").read_text().splitlines()
    return any("->" in line and "FLOCK" in line and f":{inode} " in line for line in lines)


def test_a_second_process_waits_for_the_lock_and_then_gets_it(tmp_path: Path) -> None:
    log = tmp_path / "log"
    first = start(tmp_path, log, "first")
    assert first.stdout is not None and first.stdin is not None
    assert first.stdout.readline() == "locked\n"
    inode = os.stat(tmp_path / "state/.lock").st_ino
    second = start(tmp_path, log, "second")
    assert second.stdout is not None and second.stdin is not None
    try:
        poll_until(
            lambda: blocked_on_flock(inode) or None,
            timeout=60,
            what="the second process to wait on the state lock",
            describe_last=log.read_text,
        )
        assert log.read_text() == "first in\n"  # the second is waiting, not inside
        first.stdin.write("\n")
        first.stdin.flush()
        assert first.wait(timeout=60) == 0
        assert second.stdout.readline() == "locked\n"
        second.stdin.write("\n")
        second.stdin.flush()
        assert second.wait(timeout=60) == 0
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert log.read_text() == "first in\nfirst out\nsecond in\nsecond out\n"
    assert (tmp_path / "state/.lock").stat().st_mode & 0o777 == 0o600
