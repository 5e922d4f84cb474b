"""The tests/unit guard fails a test that opens a network socket or starts a server, and
passes a pure one (checked by running pytest with the guard on small test files); the
unit run caps property tests' examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.unit_guard import server_argument
from tests.unit.conftest import UNIT_EXAMPLES, full_fuzz

REPO = Path(__file__).resolve().parents[2]
PYTEST = [sys.executable, "-m", "pytest", "-p", "tests.support.unit_guard", "-q", "-rA"]
PYTEST += ["-p", "no:cacheprovider"]

INNER_TESTS = """
import _socket
import socket
import subprocess

# a listener that was up before any test here ran (as a session server an integration
# test left up, earlier in the same whole-suite run): not a unit test's doing
_LEFT_UP = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
_LEFT_UP.bind(("127.0.0.1", 0))
_LEFT_UP.listen()


def test_pure():
    assert sorted([3, 1, 2]) == [1, 2, 3]


def test_binds_and_swallows_the_error():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
    except OSError:
        pass
    finally:
        sock.close()


def test_starts_a_server_program():
    try:
        subprocess.run(["weed", "server", "-dir", "/nonexistent"], check=False)
    except OSError:
        pass


def test_closes_a_native_listener_before_it_ends():
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    raw.bind(("127.0.0.1", 0))
    raw.listen()
    raw.close()


def test_listens_natively_until_the_end(request):
    raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    raw.bind(("127.0.0.1", 0))
    raw.listen()
    request.node.held = raw
"""


def run_guarded(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_inner.py"
    test_file.write_text(INNER_TESTS)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*PYTEST, "--rootdir", str(tmp_path), str(test_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_guard_fails_socket_and_server_tests_and_passes_a_pure_one(tmp_path: Path) -> None:
    done = run_guarded(tmp_path)
    summary = {
        line.split()[1].split("::")[-1]: line.split()[0]
        for line in done.stdout.splitlines()
        if line.startswith(("PASSED ", "FAILED ", "ERROR "))
    }
    assert summary == {
        "test_pure": "PASSED",  # beside a listener that was up before it
        "test_binds_and_swallows_the_error": "FAILED",
        "test_starts_a_server_program": "FAILED",
        "test_closes_a_native_listener_before_it_ends": "PASSED",
        "test_listens_natively_until_the_end": "FAILED",
    }, done.stdout
    assert "bind a network socket" in done.stdout
    assert "starts weed" in done.stdout
    assert "holds listening sockets tcp:" in done.stdout
    assert "move it to tests/integration" in done.stdout


def test_server_programs_are_recognised_and_ordinary_tools_are_not() -> None:
    assert server_argument(["weed", "server"]) == "starts weed"
    assert server_argument(["/usr/bin/sudo", "-u", "archy", "podman", "ps"]) == "starts sudo"
    assert server_argument([sys.executable, "-m", "node_runtime", "seed", "serve"]) is not None
    assert server_argument("podman run busybox") == "starts podman"
    assert server_argument(["git", "init"]) is None
    assert server_argument([sys.executable, "-m", "pipeline", "validate", "apps"]) is None


CALLS: list[int] = []


@settings(max_examples=500, database=None)
@given(st.integers())
def test_a_property_test_declaring_500_examples(number: int) -> None:
    CALLS.append(number)


def test_the_unit_run_caps_the_examples_unless_full_fuzz_is_asked_for() -> None:
    assert CALLS, "the property test above did not run first"
    if full_fuzz():
        assert len(CALLS) == 500
    else:
        assert len(CALLS) <= UNIT_EXAMPLES
