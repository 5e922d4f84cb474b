"""Which container network an app joins: one per registry, named from what the catalog signs.

The official registry's apps join ``archy-net`` (:data:`catalog.runtime_names.NETWORK_NAME`).
A third-party registry's apps join a network of its own, ``archy-<16 hex>-net``, where the
hex is the start of the BLAKE3 of the developer's did:key: every entry of a third-party
catalog is signed by that one did:key (``signing.developer.third_party_catalog_problems``),
and the registry's targets role signs the catalog that names it, so the name follows from
signed bytes and the node never has to re-render a unit to move an app onto it.  Apps of
two registries never share a network, so a third-party app cannot reach an official app's
port by container name or IP; two registries that would share one (the same did:key) are
refused when added or pulled (docs/marketplace.md §6).  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from catalog.address import blake3_hex
from catalog.catalog_model import CatalogApp
from catalog.runtime_names import NETWORK_NAME

NETWORK_UNIT_SUFFIX = ".network"

REGISTRY_NETWORK = re.compile(r"^archy-[0-9a-f]{16}-net$")


def registry_network(did: str) -> str:
    """``archy-<first 16 hex of BLAKE3(did)>-net``: the network of the registry ``did`` signs."""
    return f"archy-{blake3_hex(did.encode('utf-8'))[:16]}-net"


def network_for_developer(did: str | None) -> str:
    """``archy-net`` for the official registry (no developer), else the registry's network."""
    return NETWORK_NAME if did is None else registry_network(did)


def app_network(app: CatalogApp) -> str:
    """The network a catalog entry's units must name (see the module docstring)."""
    return network_for_developer(None if app.developer is None else app.developer.did)


def network_unit_file(network: str) -> str:
    """``<network>.network``: the Quadlet unit that creates ``network``."""
    return f"{network}{NETWORK_UNIT_SUFFIX}"


def is_app_network(name: str) -> bool:
    """``archy-net`` or a registry's network: a network the node creates for apps."""
    return name == NETWORK_NAME or REGISTRY_NETWORK.fullmatch(name) is not None


def networks_named_by_units(units: Mapping[str, str]) -> list[str]:
    """Every network the units name: ``*.network`` files and ``Network=`` lines (``host``
    aside), sorted.  Read line by line, so a unit the unit check would refuse for other
    reasons still shows which network it tries to join."""
    names = {name[: -len(NETWORK_UNIT_SUFFIX)] for name in units if name.endswith(".network")}
    for text in units.values():
        for line in text.splitlines():
            key, separator, value = line.strip().partition("=")
            if separator and key.strip() == "Network":
                value = value.strip().strip('"')
                if value != "host":
                    names.add(value.removesuffix(NETWORK_UNIT_SUFFIX))
    return sorted(names)
