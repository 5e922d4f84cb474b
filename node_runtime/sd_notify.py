"""Readiness and status for systemd (``Type=notify``): the ``sd_notify`` datagram protocol.

systemd passes the socket in ``$NOTIFY_SOCKET``: a filesystem path, or an
abstract socket name written with a leading ``@``.  A notification is one
datagram of newline-separated ``KEY=VALUE`` lines (``READY=1``,
``STOPPING=1``, ``STATUS=…``).  Without ``$NOTIFY_SOCKET`` (not started by
systemd) every call does nothing and returns False.

Public API: ``notify(*assignments) -> bool``.
"""

from __future__ import annotations

import os
import socket

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # vsock or something else this agent does not speak


def notify(*assignments: str) -> bool:
    """Send ``assignments`` (e.g. ``"READY=1"``) to systemd; True when sent."""
    value = os.environ.get(NOTIFY_SOCKET_ENV, "")
    address = _address(value) if value else None
    if address is None:
        return False
    message = "\n".join(assignments).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.connect(address)
            sock.sendall(message)
        except OSError:
            return False
    return True
