"""Fixtures of the one TUF fixture set (tests/support/tuf_fixtures.py) these tests use."""

from tests.support.tuf_fixtures import client_dir, http_server, live_repo, served_dir  # noqa: F401
