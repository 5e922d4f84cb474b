"""A relay that is down or silent does not hold discovery up: discover returns as soon as every
relay answered or failed, and a relay that does not finish connecting within --timeout is
listed as unreachable while the others' apps are listed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.market import Registry, announcement, keys_of, send_announcement

DISCOVER = [sys.executable, "-m", "node_runtime", "discover"]
# Far beyond what a healthy discover takes, far below the --timeout given below: if the
# command waited for a refused relay until its --timeout, this bound ends the test.
GUARD_SECONDS = 120


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_relay() -> Iterator[str]:
    """A TCP port that takes connections and never says a word (no WebSocket handshake)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"ws://127.0.0.1:{listener.getsockname()[1]}"


def run_discover(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*DISCOVER, *args, "--allow-file-origins", "--state-root", "/nonexistent", "--json"],
            capture_output=True,
            text=True,
            timeout=GUARD_SECONDS,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"discover did not return within {GUARD_SECONDS} s: it waited for a dead relay")


def test_a_refused_relay_costs_nothing_beside_a_live_one(
    relay_url: str, registry: Registry
) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    dead = f"ws://127.0.0.1:{closed_port()}"
    result = run_discover("--relay", dead, "--relay", relay_url, "--timeout", "600")
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert [app["app"] for app in document["apps"]] == ["demo-notes"]
    assert document["unreachable"] == {dead: "Connection refused (os error 111)"}


def test_a_relay_that_never_answers_is_unreachable_after_the_timeout(
    relay_url: str, silent_relay: str, registry: Registry
) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    result = run_discover("--relay", silent_relay, "--relay", relay_url, "--timeout", "1")
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert [app["app"] for app in document["apps"]] == ["demo-notes"]
    assert document["unreachable"] == {silent_relay: "timeout"}


def test_people_see_which_relay_did_not_answer(relay_url: str, registry: Registry) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    dead = f"ws://127.0.0.1:{closed_port()}"
    result = subprocess.run(
        [*DISCOVER, "--relay", relay_url, "--relay", dead, "--allow-file-origins",
         "--state-root", "/nonexistent", "--timeout", "600"],
        capture_output=True, text=True, timeout=GUARD_SECONDS,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.startswith("devreg/demo-notes  1.0.0-r1  score ")
    assert result.stderr == f"relay {dead} did not answer: Connection refused (os error 111)\n"


def test_only_dead_relays_is_one_refusal_line(silent_relay: str) -> None:
    dead = f"ws://127.0.0.1:{closed_port()}"
    result = run_discover("--relay", dead, "--relay", silent_relay, "--timeout", "1")
    assert (result.returncode, result.stdout) == (1, "")
    why = {dead: "Connection refused (os error 111)", silent_relay: "timeout"}
    shown = "; ".join(f"{url}: {why[url]}" for url in sorted(why))  # listed by URL
    assert result.stderr == f"error: no relay answered ({shown})\n"


def test_a_timeout_out_of_range_is_a_usage_error() -> None:
    result = subprocess.run(
        [*DISCOVER, "--relay", "ws://127.0.0.1:9", "--timeout", "0"],
        capture_output=True, text=True, timeout=GUARD_SECONDS,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Invalid value for '--timeout': 0.0 is not in the range 0.1<=x<=600." in result.stderr
    assert "Traceback" not in result.stderr
