"""tests/unit: pure and fast.  No server, no podman, no network socket, no server subprocess.

The guard (``tests/support/unit_guard.py``) fails any test collected here that
binds, listens on or connects a network socket, starts a server or real-part
process, or holds a listening socket after a phase.  Such a test belongs in
tests/integration.  ``tests/unit/test_unit_guard.py`` shows the guard trips.

Property tests here run at most ``UNIT_EXAMPLES`` examples each, so that
``pytest tests/unit`` stays about a minute; ``ARCHY_FULL_FUZZ=1`` (set by
``scripts/test``, hence CI, and by ``scripts/mutation``) runs the counts each
test declares.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.support.unit_guard import (  # noqa: F401
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
)

UNIT_EXAMPLES = 25


def full_fuzz() -> bool:
    return os.environ.get("ARCHY_FULL_FUZZ", "").strip() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if full_fuzz():
        return
    for item in items:
        test = getattr(item, "obj", None)
        declared = getattr(test, "_hypothesis_internal_use_settings", None)
        if declared is not None and declared.max_examples > UNIT_EXAMPLES:
            test._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
                parent=declared, max_examples=UNIT_EXAMPLES
            )
