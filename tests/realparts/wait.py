"""Deadline-bounded polling: wait on a condition, never on a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition did not become true before its deadline."""


def poll_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    describe_last: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns a truthy value, and return that value.

    Polls every ``interval`` seconds (a short pause between attempts, inside a
    deadline) and raises ``WaitTimeout`` naming ``what`` after ``timeout``
    seconds. Exceptions from ``check`` propagate; catch the expected ones in
    ``check`` and return None. ``describe_last`` adds detail to the timeout
    message (e.g. the last status seen).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            detail = f": {describe_last()}" if describe_last else ""
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}{detail}")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
