"""Where a seed listens: ``HOST:PORT`` as an operator or a node's config writes it.

Public API: ``parse_bind_address(text, what, default_host="127.0.0.1")``,
``parse_host_port(text, what)`` (no default host).
"""

from __future__ import annotations


def parse_bind_address(text: str, what: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too; no host: ``default_host``) → ``(host, port)``.

    ValueError names ``what`` and the text.  The host is only checked for
    spaces here; whether it resolves is known when the server binds.
    """
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") if host.startswith("[") else host
    if not colon or not port.isdigit() or len(port) > 5 or int(port) > 65535:
        raise ValueError(
            f"{what} {text[:80]!r}: use HOST:PORT with a port 0-65535 (0: any free one)"
        )
    if any(character.isspace() for character in host) or "/" in host:
        raise ValueError(f"{what} {text[:80]!r}: {host!r} is not a host name or address")
    return host or default_host, int(port)


def parse_host_port(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) → ``(host, port)``; ValueError names ``what``."""
    if text.startswith(":"):
        raise ValueError(f"{what} {text!r}: use HOST:PORT (port 0 picks a free one)")
    return parse_bind_address(text, what)
