"""Fixtures of tests/support/market.py: a developer identity, a registry and real nostr relays."""

from tests.support.market import (  # noqa: F401
    developer,
    other_developer,
    registry,
    relay_url,
    second_relay_url,
)
