"""tests/unit: pure and fast.  No server, no podman, no network socket, no server subprocess.

The guard (``tests/support/unit_guard.py``) fails any test collected here that
binds, listens on or connects a network socket, starts a server or real-part
process, or holds a listening socket after a phase.  Such a test belongs in
tests/integration.  ``tests/unit/test_unit_guard.py`` shows the guard trips.
"""

from tests.support.unit_guard import (  # noqa: F401
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_runtest_setup,
    pytest_runtest_teardown,
)
