"""Fixtures of the one TUF fixture set (tests/support/tuf_fixtures.py): a python-tuf
repository on 127.0.0.1 and the real ``archy-node tuf`` process driven as the
tuf-conformance CLI contract says."""

from tests.support.tuf_fixtures import client, repo, server  # noqa: F401
