"""Fixtures of the one TUF fixture set (tests/support/tuf_fixtures.py) these tests use."""

from tests.support.tuf_fixtures import client_dir, live_repo  # noqa: F401
