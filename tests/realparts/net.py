"""Loopback networking helpers: free ports and waiting for TCP / HTTP."""

from __future__ import annotations

import http.client
import socket

from .wait import poll_until


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now (bind to port 0).

    There is a small window before the caller binds it; fine for tests.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_tcp(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0) -> None:
    """Wait until something accepts TCP connections on host:port."""
    poll_until(lambda: tcp_open(host, port), timeout=timeout, what=f"TCP {host}:{port}")


def http_status(url: str, *, method: str = "GET", timeout: float = 2.0) -> int | None:
    """The HTTP status of ``url`` (http:// on loopback only), None if unreachable."""
    if not url.startswith("http://127.0.0.1:") and not url.startswith("http://localhost:"):
        raise ValueError(f"tests talk to loopback only, not {url!r}")
    rest = url[len("http://") :]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, "/" + path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_for_http(
    url: str, *, status: int = 200, method: str = "GET", timeout: float = 30.0
) -> None:
    """Wait until ``url`` answers with ``status`` (default 200)."""
    last: list[int | None] = [None]

    def check() -> bool:
        last[0] = http_status(url, method=method)
        return last[0] == status

    poll_until(
        check,
        timeout=timeout,
        what=f"HTTP {status} from {method} {url}",
        describe_last=lambda: f"last status {last[0]}",
    )
