"""The rule of tests/unit, enforced: a unit test starts no server and opens no network socket.

Loaded by ``tests/unit/conftest.py`` (and usable on any folder with
``pytest -p tests.support.unit_guard``).  While a test's setup, call and
teardown run, three things count as a violation and fail the test:

- ``bind``, ``listen`` or ``connect`` on an IPv4/IPv6 socket (Unix sockets,
  e.g. sd_notify's, are local and allowed);
- a subprocess of a program that is a server or a real part of the
  integration suite (``weed``, ``docker-registry``, ``podman``, ``unshare``,
  ``sudo``/``runuser`` to reach the rootless-podman user, ``pyinstaller``)
  or whose arguments say ``serve``;
- a listening TCP or bound UDP socket held by this process after a phase that
  it did not hold before the phase, which catches servers written in native code
  (iroh, the nostr relay) that never go through Python's ``socket`` module.
  Sockets held before are not the unit test's doing: in one whole-suite run,
  integration tests (which run first) may leave a server of a session fixture up.

A violation is recorded on the test item and the report is turned into a
failure naming what was touched, so code under test that swallows the
``OSError`` raised here cannot hide it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

SERVER_PROGRAMS = frozenset(
    {
        "weed",
        "docker-registry",
        "registry",
        "podman",
        "conmon",
        "unshare",
        "nsenter",
        "sudo",
        "runuser",
        "su",
        "systemd-nspawn",
        "machinectl",
        "pyinstaller",
    }
)
SERVER_WORDS = frozenset({"serve", "podman", "weed", "docker-registry"})
NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_VIOLATIONS = pytest.StashKey[list[str]]()


class UnitTestTouchedServer(OSError):
    """Raised where a unit test reached for a socket or a server process."""


def server_argument(args: object) -> str | None:
    """The reason ``args`` (as given to Popen) starts a server or real part, or None."""
    if isinstance(args, str | bytes | os.PathLike):
        words = [os.fsdecode(args)] if not isinstance(args, str) else args.split()
    elif isinstance(args, Iterable):
        words = [os.fsdecode(a) if isinstance(a, bytes | os.PathLike) else str(a) for a in args]
    else:
        return None
    if not words:
        return None
    program = Path(words[0]).name
    if program in SERVER_PROGRAMS:
        return f"starts {program}"
    for word in words[1:]:
        if Path(word).name in SERVER_WORDS:
            return f"starts a process with argument {word!r}"
    return None


def _socket_inodes() -> set[str]:
    inodes = set()
    fd_dir = Path("/proc/self/fd")
    for fd in fd_dir.iterdir() if fd_dir.is_dir() else ():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening_sockets() -> list[str]:
    """``proto:port`` of every listening TCP / bound UDP network socket this process holds."""
    mine = _socket_inodes()
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        table = Path(f"/proc/self/net/{proto}")
        if not mine or not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            port = int(local.rsplit(":", 1)[1], 16)
            listening = state == "0A" if proto.startswith("tcp") else port != 0
            if inode in mine and listening:
                found.append(f"{proto}:{port}")
    return found


class _Guard:
    """Patches socket and subprocess entry points while one test phase runs."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        self.undo: list[Callable[[], None]] = []
        self.held_before: set[str] = set()

    def _refuse(self, what: str) -> UnitTestTouchedServer:
        self.violations.append(what)
        return UnitTestTouchedServer(f"a unit test must not do this: {what} (tests/unit)")

    def _patch(self, owner: Any, name: str, check: Callable[..., str | None]) -> None:
        original = getattr(owner, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            what = check(*args, **kwargs)
            if what is not None:
                raise self._refuse(what)
            return original(*args, **kwargs)

        setattr(owner, name, guarded)
        self.undo.append(lambda: setattr(owner, name, original))

    def __enter__(self) -> _Guard:
        self.held_before = set(listening_sockets())
        for verb in ("bind", "listen", "connect", "connect_ex"):

            def network(
                sock: socket.socket, *args: Any, _verb: str = verb, **kw: Any
            ) -> str | None:
                if sock.family in NETWORK_FAMILIES:
                    return f"{_verb} a network socket {args[:1]!r}"
                return None

            self._patch(socket.socket, verb, network)

        def popen(_self: Any, args: Any, *rest: Any, **kw: Any) -> str | None:
            return server_argument(args)

        self._patch(subprocess.Popen, "__init__", popen)
        return self

    def __exit__(self, *exc: object) -> None:
        for undo in reversed(self.undo):
            undo()
        held = [found for found in listening_sockets() if found not in self.held_before]
        if held:
            self.violations.append(f"holds listening sockets {', '.join(held)}")


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    violations = item.stash.setdefault(_VIOLATIONS, [])
    with _Guard(violations):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    yield from _guarded(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    violations = item.stash.get(_VIOLATIONS, [])
    if violations:
        report.outcome = "failed"
        report.longrepr = (
            f"UNIT GUARD: {item.nodeid} is not a unit test: "
            + "; ".join(dict.fromkeys(violations))
            + " (move it to tests/integration)"
        )
        violations.clear()
