"""When the bytes of a range from a seed are due, and the line that says a seed was too slow.

Pure arithmetic over monotonic times; the swarm (:mod:`node_runtime.fetch.swarm`)
drops a seed that falls behind.

Public API: ``DEFAULT_MIN_BYTES_PER_SECOND``, ``DEFAULT_RANGE_ALLOWANCE_SECONDS``,
``RangeSchedule``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MIN_BYTES_PER_SECOND = 32 * 1024  # low: a busy honest seed must not be dropped
DEFAULT_RANGE_ALLOWANCE_SECONDS = 3.0


@dataclass(frozen=True)
class RangeSchedule:
    """When the bytes of a range are due: ``allowance_seconds`` to get going, then the
    minimum throughput.

    Byte ``k`` of a range asked for at ``started`` is due by ``started +
    allowance_seconds + k / min_bytes_per_second``; a range of ``count`` bytes
    is therefore due whole by :meth:`deadline`.  A seed that falls behind at any
    point has missed its deadline: keeping the connection alive with a byte now
    and then does not help it.
    """

    min_bytes_per_second: float = DEFAULT_MIN_BYTES_PER_SECOND
    allowance_seconds: float = DEFAULT_RANGE_ALLOWANCE_SECONDS

    def due_by(self, started: float, received: int) -> float:
        """When the byte after the first ``received`` must have arrived."""
        return started + self.allowance_seconds + received / self.min_bytes_per_second

    def deadline(self, started: float, count: int) -> float:
        return self.due_by(started, count)

    def behind(self, started: float, received: int, count: int, now: float) -> bool:
        return received < count and now > self.due_by(started, received)

    def too_slow(self, received: int, count: int, elapsed: float) -> str:
        return (
            f"too slow: {received} of {count} bytes in {elapsed:.1f} s (a range gets "
            f"{self.allowance_seconds:g} s, then at least {self.min_bytes_per_second:g} bytes/s)"
        )
