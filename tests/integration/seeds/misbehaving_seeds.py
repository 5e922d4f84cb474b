"""Small real HTTP seeds on 127.0.0.1 that misbehave on purpose, and a seed-store builder.

Each misbehaving seed speaks the HTTP seed's ``GET /blobs/<blake3>`` with a
``Range`` header over a real socket, from a real copy of the blobs, and then
breaks one rule: ``corrupt`` flips a byte in every range, ``stall`` sends the
headers and then nothing (until the test ends), ``overfeed`` sends more bytes
than asked (no Content-Length, so only the client's count catches it),
``drop_halfway`` sends half of its first range and closes the connection,
``trickle`` (the slow-seed fault: a real server that is merely too slow) sends
the headers and then one byte a second, for ever, so the connection never goes
quiet long enough for a per-read timeout.
``first_request`` is set when the seed has been asked for something, so a
test can make sure the bad seed takes part (a condition, never a sleep).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from node_runtime.fetch.seed_protocol import parse_http_range
from node_runtime.fetch.seed_transport import BlobTransport
from node_runtime.seed.http_server import blake3_of_target_path


def seed_store_from_repository(repository_dir: Path, store_dir: Path) -> Path:
    """A seed store (``blobs/<blake3>`` + ``metadata/``) holding every target of a repository."""
    blobs = store_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    targets = repository_dir / "targets"
    for path in targets.rglob("*"):
        blake3 = blake3_of_target_path(path.relative_to(targets).as_posix())
        if path.is_file() and blake3 is not None:
            shutil.copyfile(path, blobs / blake3)
    shutil.copytree(repository_dir / "metadata", store_dir / "metadata", dirs_exist_ok=True)
    return store_dir


class MisbehavingSeed:
    MODES = ("corrupt", "stall", "overfeed", "drop_halfway", "trickle")

    def __init__(self, blobs_dir: Path, mode: str) -> None:
        assert mode in self.MODES
        self.mode = mode
        self.first_request = threading.Event()
        self.release = threading.Event()
        self.dropped_once = False
        self.bytes_trickled = 0
        seed = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if not self.path.startswith("/blobs/"):
                    self._headers(404, 0)
                    return
                seed.first_request.set()
                data = (blobs_dir / self.path.removeprefix("/blobs/")).read_bytes()
                offset, count = parse_http_range(self.headers.get("Range"), len(data)) or (
                    0,
                    len(data),
                )
                body = data[offset : offset + count]
                if seed.mode == "stall":
                    self._headers(206, count)
                    self.wfile.flush()
                    seed.release.wait()
                    return
                if seed.mode == "trickle":
                    self._headers(206, count)
                    for index in range(count):
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                        seed.bytes_trickled += 1
                        if seed.release.wait(1.0):  # one byte a second is the fault itself
                            return
                    return
                if seed.mode == "corrupt":
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                if seed.mode == "overfeed":
                    self.send_response(206)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body + b"and then some more bytes than were asked for")
                    self.close_connection = True
                    return
                if seed.mode == "drop_halfway" and not seed.dropped_once:
                    seed.dropped_once = True
                    self._headers(206, count)
                    self.wfile.write(body[: count // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._headers(206, count)
                self.wfile.write(body)

            def _headers(self, status: int, count: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(count))
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> MisbehavingSeed:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class WaitsFor(BlobTransport):
    """A real transport that starts only once ``event`` is set (so another seed goes first)."""

    def __init__(self, transport: BlobTransport, event: threading.Event) -> None:
        self.name = transport.name
        self._transport = transport
        self._event = event

    def read_range(
        self,
        blake3: str,
        total_length: int,
        offset: int,
        count: int,
        sink: Callable[[bytes], None],
    ) -> None:
        assert self._event.wait(timeout=60), "the other seed was never asked"
        self._transport.read_range(blake3, total_length, offset, count, sink)

    def metadata_url(self, name: str) -> str | None:
        return self._transport.metadata_url(name)

    def close(self) -> None:
        self._transport.close()
