"""Helpers both tests/unit and tests/integration import: repositories, catalogs, manifests."""
