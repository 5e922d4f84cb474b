"""A pull against an origin that accepts connections and never answers.

The owner sees each retry as it happens (what, where, attempt n of m, next wait) and
the pull ends within its deadline with one clear line, exit 1, the catalog kept.
The silent origin is a real listening socket on 127.0.0.1 that reads and never writes.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.repos import make_repository, manifest_yaml

pytestmark = pytest.mark.integration


@pytest.fixture
def silent_origin() -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)  # read nothing back, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def node(state_root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "node_runtime", *args, "--state-root", str(state_root)]


def test_a_silent_origin_shows_each_retry_and_gives_up_at_the_deadline(
    tmp_path: Path, silent_origin: str
) -> None:
    repository = make_repository(tmp_path / "repo", {"demo": manifest_yaml("demo")})
    state_root = tmp_path / "node"
    init = node(state_root, "init", "--root", str(repository.root_path),
                "--origin", silent_origin, "--engine", "stage")  # fmt: skip
    assert subprocess.run(init, capture_output=True, text=True).returncode == 0

    started = time.monotonic()
    process = subprocess.Popen(
        node(state_root, "pull", "--timeout", "12"),
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[tuple[float, str]] = []
    for line in process.stderr:
        lines.append((time.monotonic() - started, line.rstrip("\n")))
    process.wait(timeout=60)
    elapsed = time.monotonic() - started

    texts = [text for _at, text in lines]
    retries = [text for text in texts if text.startswith("retrying ")]
    probe = f"{silent_origin}/metadata/2.root.json"
    assert retries, texts
    assert retries[0].startswith(f"retrying {probe}: ")
    assert "(attempt 2 of 4 in " in retries[0]
    assert process.returncode == 1
    assert texts[-1].startswith("error: pull failed, the current catalog is kept: ")
    assert "deadline passed" in texts[-1] or "gave up after" in texts[-1], texts[-1]
    assert not any("Traceback" in text for text in texts)
    # What the acceptance asks, reported rather than asserted (tests never fail on timing):
    print(f"first retry line after {lines[0][0]:.1f} s; gave up after {elapsed:.1f} s")
