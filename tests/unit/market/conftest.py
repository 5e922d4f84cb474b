"""Fixtures of tests/support/market.py these tests use (relays: tests/integration/market)."""

from tests.support.market import developer, other_developer, registry  # noqa: F401
