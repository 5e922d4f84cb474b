"""An HTTP/1.1 server that idle, slow or half-sent connections cannot exhaust.

One thread (the doorman) accepts connections and reads request heads without
blocking, for every connection at once: a connection costs a thread only once
its whole head has arrived.  A fixed pool of worker threads answers complete
requests, one request per hand-off; a kept-alive connection goes back to the
doorman to wait for its next head.  So the thread count is at most
``workers + 1`` whatever the clients do, and :class:`HttpLimits` bounds the rest:

- ``max_connections`` open at once: a connection beyond it takes the place of
  the oldest connection still waiting for its head (closed as if its head
  time were up); when every open connection is being answered the new one gets
  ``503`` and is closed;
- ``head_seconds``: a connection has that long to send a whole request head
  (from its opening, or from the end of its previous answer): a half-sent
  head gets ``408`` and is closed, however slowly it trickles; a connection
  that sent nothing is closed without an answer;
- ``max_head_bytes`` and ``max_header_lines``: a larger head gets ``431``;
- ``workers``: requests answered at once; a complete request that finds every
  worker busy gets ``503`` and is closed;
- ``io_seconds``: a socket timeout on every read and write while a request is
  answered (a write of one chunk must finish within it).

A connection closed after its answer (a refused upload, say) is closed the
polite way: the answer is sent, the server's side shut, and what the client
was still sending is read and dropped, up to ``DRAIN_BYTES`` or
``DRAIN_SECONDS``.  Closing with unread bytes would make the kernel reset the
connection, and a reset can overtake the answer on its way to the client.

Handlers are :class:`OneRequestHandler` subclasses (the standard library's
``BaseHTTPRequestHandler``, fed from the head the doorman read).  Errors of a
connection end that connection only and print nothing.

Public API: ``HttpLimits``, ``OneRequestHandler``, ``BoundedHttpServer``
(``serve_forever``, ``shutdown``, ``server_close``, ``server_address``,
``thread_bound``, ``refusals``, ``idle_closed``, ``waiting_for_heads``, ``answering``).
"""

from __future__ import annotations

import collections
import contextlib
import queue
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any

RECEIVE_BYTES = 64 * 1024
DRAIN_BYTES = 4 * 1024 * 1024
DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class HttpLimits:
    max_connections: int = 1024
    workers: int = 32
    head_seconds: float = 10.0
    io_seconds: float = 20.0
    max_head_bytes: int = 16 * 1024
    max_header_lines: int = 64

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.workers < 1:
            raise ValueError("an HTTP server needs at least one connection and one worker")


class ConnectionReader:
    """The ``rfile`` of a handler: the bytes the doorman read first, then the socket."""

    def __init__(self, connection: socket.socket, buffered: bytes) -> None:
        self._connection = connection
        self._buffer = bytearray(buffered)

    def _fill(self) -> bool:
        data = self._connection.recv(RECEIVE_BYTES)
        self._buffer += data
        return bool(data)

    def _take(self, count: int) -> bytes:
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        return taken

    def readline(self, limit: int = -1) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 and (limit < 0 or end < limit):
                return self._take(end + 1)
            if 0 <= limit <= len(self._buffer):
                return self._take(limit)
            if not self._fill():
                return self._take(len(self._buffer))

    def read(self, count: int = -1) -> bytes:
        if count < 0:
            raise ValueError("read a known number of bytes (Content-Length)")
        while len(self._buffer) < count and self._fill():
            pass
        return self._take(min(count, len(self._buffer)))

    def leftover(self) -> bytes:
        """Bytes read past the request (a pipelined next request)."""
        return bytes(self._buffer)


class _SocketWriter:
    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection

    def write(self, data: bytes) -> int:
        self._connection.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass


class OneRequestHandler(BaseHTTPRequestHandler):
    """Answers exactly one request; ``close_connection`` says whether the connection may stay."""

    protocol_version = "HTTP/1.1"
    server: Any

    def __init__(
        self,
        connection: socket.socket,
        client_address: Any,
        server: Any,
        reader: ConnectionReader,
    ) -> None:
        self._reader = reader
        super().__init__(connection, client_address, server)

    def setup(self) -> None:
        self.connection = self.request
        self.rfile = self._reader  # type: ignore[assignment]
        self.wfile = _SocketWriter(self.request)  # type: ignore[assignment]

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()

    def finish(self) -> None:
        pass

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection":
            self._said_connection = True
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        """Tell the client when this answer ends the connection, so it closes its side too."""
        if self.close_connection and not getattr(self, "_said_connection", False):
            self.send_header("Connection", "close")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class _Waiting:
    address: Any
    deadline: float
    buffer: bytearray = field(default_factory=bytearray)


def _response(status: HTTPStatus, text: str) -> bytes:
    body = f"{text}\n".encode()
    retry = "Retry-After: 1\r\n" if status == HTTPStatus.SERVICE_UNAVAILABLE else ""
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: close\r\n{retry}\r\n"
    )
    return head.encode() + body


def _head_end(buffer: bytearray) -> int:
    """The length of the request head in ``buffer`` (blank line included), or -1."""
    ends = [
        position + len(separator)
        for separator in (b"\r\n\r\n", b"\n\n")
        if (position := buffer.find(separator)) >= 0
    ]
    return min(ends) if ends else -1


class BoundedHttpServer:
    """Serve ``handler_class`` (a :class:`OneRequestHandler`) on ``address`` within ``limits``."""

    def __init__(
        self,
        address: tuple[str, int],
        handler_class: type[OneRequestHandler],
        limits: HttpLimits | None = None,
    ) -> None:
        self.limits = limits or HttpLimits()
        self.handler_class = handler_class
        host, port = address
        family, _, _, _, bind_to = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(bind_to)
            self._listener.listen(1024)
        except OSError:
            self._listener.close()
            raise
        self._listener.setblocking(False)
        self.server_address = self._listener.getsockname()
        self.refusals: collections.Counter[int] = collections.Counter()
        """Connections closed by the server, by the status they were answered with."""
        self.idle_closed = 0
        """Connections closed without an answer because they sent nothing in time."""
        self._waiting: dict[socket.socket, _Waiting] = {}
        self._busy = 0
        self._returns: queue.SimpleQueue[tuple[socket.socket | None, Any, bytes]] = (
            queue.SimpleQueue()
        )
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._answering: set[socket.socket] = set()
        self._answering_lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="http-worker")
        self._stopping = False
        self._stopped = threading.Event()
        self._stopped.set()

    @property
    def thread_bound(self) -> int:
        """The most threads this server ever runs (the doorman and the workers)."""
        return self.limits.workers + 1

    @property
    def waiting_for_heads(self) -> int:
        """Open connections still sending a request head (they hold no thread)."""
        return len(self._waiting)

    @property
    def answering(self) -> int:
        """Requests being answered by a worker right now."""
        return self._busy

    # --- the doorman ---

    def serve_forever(self) -> None:
        self._stopped.clear()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        try:
            while not self._stopping:
                timeout = None
                if self._waiting:
                    first = min(waiting.deadline for waiting in self._waiting.values())
                    timeout = max(first - time.monotonic(), 0.0)
                for key, _events in self._selector.select(timeout):
                    if key.fileobj is self._listener:
                        self._accept()
                    elif key.fileobj is self._wake_read:
                        self._take_returns()
                    elif key.fileobj in self._waiting:  # not closed earlier in this round
                        self._read_head(key.fileobj)
                self._expire(time.monotonic())
        finally:
            self._selector.unregister(self._listener)
            self._selector.unregister(self._wake_read)
            for connection in list(self._waiting):
                self._close(connection)
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` and wait until it returned."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        self._stopped.wait()

    def server_close(self) -> None:
        """Close everything; requests still being answered are cut off."""
        self._stopping = True
        with self._answering_lock:
            for answering in self._answering:
                with contextlib.suppress(OSError):
                    answering.shutdown(socket.SHUT_RDWR)
        self._pool.shutdown(wait=True)
        while not self._returns.empty():
            connection, _address, _leftover = self._returns.get()
            if connection is not None:
                connection.close()
        self._listener.close()
        self._selector.close()
        self._wake_read.close()
        self._wake_write.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of descriptors: free the oldest waiting one, or wait
                if not self._waiting:
                    return
                self._time_out(next(iter(self._waiting)), "made room for a newer client")
                continue
            connection.setblocking(False)
            if len(self._waiting) + self._busy >= self.limits.max_connections:
                if not self._waiting:
                    self._refuse(connection, HTTPStatus.SERVICE_UNAVAILABLE, "too many connections")
                    continue
                oldest = next(iter(self._waiting))
                self._time_out(oldest, "made room for a newer client")
            self._wait_for_head(connection, address, b"")

    def _wait_for_head(self, connection: socket.socket, address: Any, buffered: bytes) -> None:
        deadline = time.monotonic() + self.limits.head_seconds
        self._waiting[connection] = _Waiting(address, deadline, bytearray(buffered))
        self._selector.register(connection, selectors.EVENT_READ)
        if buffered:
            self._check_head(connection)

    def _read_head(self, connection: socket.socket) -> None:
        try:
            data = connection.recv(RECEIVE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(connection)
            return
        self._waiting[connection].buffer += data
        self._check_head(connection)

    def _check_head(self, connection: socket.socket) -> None:
        waiting = self._waiting[connection]
        end = _head_end(waiting.buffer)
        limits = self.limits
        if end < 0:
            if len(waiting.buffer) > limits.max_head_bytes:
                self._refuse(connection, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "head too big")
            return
        head = waiting.buffer[:end]
        if end > limits.max_head_bytes or head.count(b"\n") - 2 > limits.max_header_lines:
            text = f"a request head is at most {limits.max_head_bytes} bytes"
            text += f" and {limits.max_header_lines} header lines"
            self._refuse(connection, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, text)
            return
        if self._busy >= limits.workers:
            self._refuse(connection, HTTPStatus.SERVICE_UNAVAILABLE, "busy: ask again or elsewhere")
            return
        self._selector.unregister(connection)
        del self._waiting[connection]
        self._busy += 1
        self._pool.submit(self._answer, connection, waiting.address, bytes(waiting.buffer))

    def _expire(self, now: float) -> None:
        late = [c for c, waiting in self._waiting.items() if waiting.deadline <= now]
        for connection in late:
            self._time_out(connection, f"no whole request within {self.limits.head_seconds:g} s")

    def _time_out(self, connection: socket.socket, text: str) -> None:
        """``408`` for a connection that sent part of a head; a silent close for an idle one.

        An idle kept-alive connection is closed without an answer, so that a
        client sending its next request at that moment cannot take a ``408``
        for the answer to it.
        """
        waiting = self._waiting[connection]
        with contextlib.suppress(OSError):  # bytes that arrived but were not read yet count
            waiting.buffer += connection.recv(RECEIVE_BYTES)
        if waiting.buffer:
            self._refuse(connection, HTTPStatus.REQUEST_TIMEOUT, text)
        else:
            self.idle_closed += 1
            self._close(connection)

    def _take_returns(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_read.recv(4096):
                pass
        while not self._returns.empty():
            connection, address, leftover = self._returns.get()
            self._busy -= 1
            if connection is None:
                continue
            if self._stopping:
                connection.close()
                continue
            connection.setblocking(False)
            self._wait_for_head(connection, address, leftover)

    def _refuse(self, connection: socket.socket, status: HTTPStatus, text: str) -> None:
        """Answer ``status`` and close: what the client sent so far is read and dropped."""
        self.refusals[status.value] += 1
        with contextlib.suppress(OSError):
            connection.send(_response(status, text))
            connection.shutdown(socket.SHUT_WR)
            while connection.recv(RECEIVE_BYTES):
                pass
        self._close(connection)

    def _close(self, connection: socket.socket) -> None:
        if self._waiting.pop(connection, None) is not None:
            self._selector.unregister(connection)
        connection.close()

    # --- a worker ---

    def _answer(self, connection: socket.socket, address: Any, buffered: bytes) -> None:
        keep: socket.socket | None = None
        leftover = b""
        with self._answering_lock:
            self._answering.add(connection)
        try:
            connection.setblocking(True)
            connection.settimeout(self.limits.io_seconds)
            reader = ConnectionReader(connection, buffered)
            handler = self.handler_class(connection, address, self, reader)
            if not handler.close_connection and not self._stopping:
                keep, leftover = connection, reader.leftover()
        except Exception:  # a client that goes away or times out ends its own connection only
            keep = None
        finally:
            with self._answering_lock:
                self._answering.discard(connection)
            if keep is None:
                _close_after_answer(connection)
            self._returns.put((keep, address, leftover))
            with contextlib.suppress(OSError):
                self._wake_write.send(b"x")


def _close_after_answer(connection: socket.socket) -> None:
    """Shut our side, drop what the client still sends (bounded), then close."""
    deadline = time.monotonic() + DRAIN_SECONDS
    dropped = 0
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_WR)
        while dropped < DRAIN_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            connection.settimeout(left)
            chunk = connection.recv(RECEIVE_BYTES)
            if not chunk:
                break
            dropped += len(chunk)
    connection.close()
