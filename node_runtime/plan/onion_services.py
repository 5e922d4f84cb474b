"""Tor onion services for ports with ``expose: tor``: which apps ask, and the tor app's
configuration for them (pure).

The tor app (``apps/tor``) reads ``services.torrc`` from its ``services`` volume and keeps
its state in its ``data`` volume (``/var/lib/tor`` inside).  Each installed app that has
a port with ``expose: tor`` gets one service directory, ``/var/lib/tor/onion-<app>``
(its keys and ``hostname``, made by tor), and one ``HiddenServicePort`` line per such
port: the virtual port is the port's host port, the target the member's address on the
node's network and the container port.  Tor accepts only IP addresses as targets, so
the addresses are the members' current ones; an app none of whose members has an
address yet (not running) is left out until it has one (its keys stay on disk).

The service directory's name depends only on the app id, so an update, a restart or a
reinstall keeps the same keys and the same ``.onion`` address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from catalog.manifest import Manifest

TOR_APP = "tor"
TOR_SERVICES_VOLUME = "services"
TOR_DATA_VOLUME = "data"
SERVICES_FILE = "services.torrc"
ONION_DIR_PREFIX = "onion-"  # tor makes a service dir, never its parents
TOR_DATA_PATH = "/var/lib/tor"
HEADER = (
    "# Written by archy-node: one onion service per installed app with a port that has\n"
    "# expose: tor.  Rewritten on every apply; do not edit.\n"
)


# The line an app that asks but has no member address yet gets (not running, or staged).
WAITING = "left out until one of its members runs (tor needs its address); keys kept"


@dataclass(frozen=True)
class OnionPort:
    virtual_port: int
    member: str
    container_port: int


@dataclass(frozen=True)
class OnionRequest:
    """One app's onion service: its ports with ``expose: tor``."""

    app_id: str
    ports: tuple[OnionPort, ...]

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(port.member for port in self.ports))


def onion_requests(manifests: Iterable[Manifest]) -> list[OnionRequest]:
    """The apps (in id order) with at least one tcp port that has ``expose: tor``."""
    requests = []
    for manifest in sorted(manifests, key=lambda m: m.id):
        ports = tuple(
            OnionPort(port.host_port, member.name, port.container)
            for member in manifest.containers
            for port in member.ports
            if port.expose == "tor" and port.protocol == "tcp"
        )
        if ports:
            requests.append(OnionRequest(manifest.id, ports))
    return requests


def service_dir(app_id: str) -> str:
    """The app's HiddenServiceDir inside the tor container."""
    return f"{TOR_DATA_PATH}/{ONION_DIR_PREFIX}{app_id}"


def render_services_torrc(requests: Iterable[OnionRequest], addresses: Mapping[str, str]) -> str:
    """The tor app's ``services.torrc``: ``addresses`` maps member names to IP addresses.

    A port whose member has no (valid) address is left out; an app with none left is
    left out whole (tor refuses a service without ports), with a comment that says so.
    """
    lines = [HEADER]
    for request in requests:
        port_lines = []
        for port in request.ports:
            address = _ip_or_none(addresses.get(port.member))
            if address is None:
                continue
            target = f"[{address}]" if ":" in address else address
            port_lines.append(
                f"HiddenServicePort {port.virtual_port} {target}:{port.container_port}\n"
            )
        if port_lines:
            lines.append(f"HiddenServiceDir {service_dir(request.app_id)}\n")
            lines += port_lines
        else:
            lines.append(f"# {request.app_id}: {WAITING}\n")
    return "".join(lines)


def _ip_or_none(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def valid_onion_hostname(text: str) -> str | None:
    """A v3 ``.onion`` name (56 base32 characters), or None."""
    name = text.strip()
    label = name.removesuffix(".onion")
    if name.endswith(".onion") and len(label) == 56 and set(label) <= set(_BASE32):
        return name
    return None


_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
