"""Pause Python's cyclic garbage collector while a build allocates its models.

A build makes hundreds of thousands of small objects (one pydantic model tree
per manifest) and keeps almost all of them until it ends.  The collector counts
allocations, not garbage, so it keeps scanning the growing heap for cycles that
are not there: about a third of a 1,000-app build's CPU time (see
``docs/performance.md``).  Reference counting still frees everything that is not
in a cycle; the collector runs again, as configured before, when the pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within the block the cyclic collector is off; afterwards it is as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
