"""The HTTP seed: verified blobs by BLAKE3 over a bounded HTTP/1.1 server.

Requests are read by :mod:`node_runtime.seed.bounded_http` (heads read
without a thread, a fixed pool answers; timeouts, a connection cap with
``503``, bounded heads — the limits are in ``docs/seed-protocol.md``):

- ``GET|HEAD /blobs/<blake3>`` — the blob; a single ``Range: bytes=…`` gives
  ``206`` with ``Content-Range``; ``416`` when the range lies outside the blob,
  ``400`` for a malformed or huge ``Range`` value;
- ``GET|HEAD /targets/<dir>/<blake3>.<name>`` — the same blob under the
  origin's consistent-snapshot name, so a seed is also a plain HTTP mirror of
  ``targets/`` for clients that only know paths;
- ``GET /metadata/<name>`` — the metadata copy ``archy-node seed sync`` keeps
  (a node uses it only when its origin is unreachable, through the full TUF
  checks), with a strong ``ETag`` (the copy's BLAKE3): a request whose
  ``If-None-Match`` names it is answered ``304`` with no body;
- ``404`` for anything else.

Uploads (only when the server was given an upload token, see
``docs/seed-protocol.md``): ``PUT /blobs/<blake3>`` with ``Authorization:
Bearer <token>`` and a ``Content-Length`` of at most ``max_upload_bytes``; the
body is stored only if it hashes to its name (``201``; ``200`` when the seed
already held it); ``401`` without the right token, ``411`` without a length,
``413`` over the limit, ``422`` for bytes that do not match.  ``PUT
/metadata/<published name>`` replaces the metadata copy the same way.

Public API: ``DEFAULT_MAX_UPLOAD_BYTES``, ``MAX_METADATA_UPLOAD_BYTES``,
``blake3_of_target_path``, ``HttpSeedServer(store, host, port,
upload_token=None, max_upload_bytes=…, limits=None)`` (``start()``, ``url``,
``stats``, ``http``, ``wait()``, ``close()``).
"""

from __future__ import annotations

import hmac
import re
import threading
from typing import BinaryIO

from node_runtime.fetch import seed_protocol
from node_runtime.fetch.seed_protocol import (
    MalformedRangeError,
    RangeNotSatisfiableError,
    matches_if_none_match,
    metadata_etag,
)
from node_runtime.seed.bounded_http import BoundedHttpServer, HttpLimits, OneRequestHandler
from node_runtime.seed.store import (
    SEND_CHUNK_BYTES,
    BlobNotServedError,
    SeedStats,
    SeedStore,
    UploadRefusedError,
)

DEFAULT_MAX_UPLOAD_BYTES = 8 << 30
MAX_METADATA_UPLOAD_BYTES = 16 << 20
_TARGET_NAME = re.compile(r"^(?:[a-z0-9_.-]+/)*([0-9a-f]{64})\.[^/]+$")


def blake3_of_target_path(path: str) -> str | None:
    """The BLAKE3 in a consistent-snapshot target path (``icons/<blake3>.demo.svg``)."""
    match = _TARGET_NAME.fullmatch(path)
    return match.group(1) if match else None


class _SeedRequestHandler(OneRequestHandler):
    server: _SeedHttpServer

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_PUT(self) -> None:
        try:
            status, text = self._upload()
        except UploadRefusedError as error:
            status, text = error.status, str(error)
        self._plain(status, text, send_body=True, refused=status >= 400)

    def _upload(self) -> tuple[int, str]:
        """Check the token and the length before a byte of the body is read."""
        token = self.server.upload_token
        if token is None:
            self.close_connection = True
            raise UploadRefusedError(405, "this seed does not accept uploads")
        offered = self.headers.get("Authorization", "")
        if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            self.close_connection = True
            raise UploadRefusedError(401, "uploads need the seed's token (Authorization: Bearer)")
        declared = self.headers.get("Content-Length", "")
        if self.headers.get("Transfer-Encoding") or not declared.isdigit():
            self.close_connection = True
            raise UploadRefusedError(411, "an upload needs a Content-Length")
        length = int(declared)
        path = self.path.split("?", 1)[0]
        if path.startswith("/metadata/"):
            if length > MAX_METADATA_UPLOAD_BYTES:
                self.close_connection = True
                raise UploadRefusedError(
                    413, f"metadata is at most {MAX_METADATA_UPLOAD_BYTES} bytes"
                )
            name = path.removeprefix("/metadata/")
            self.server.store.replace_metadata(name, self.rfile.read(length))
            return 201, f"stored metadata {name}"
        if not path.startswith("/blobs/"):
            self.close_connection = True
            raise UploadRefusedError(404, "upload to /blobs/<blake3> or /metadata/<name>")
        if length > self.server.max_upload_bytes:
            self.close_connection = True
            raise UploadRefusedError(
                413, f"{length} bytes is over this seed's {self.server.max_upload_bytes}-byte limit"
            )
        blake3 = path.removeprefix("/blobs/")
        try:
            stored = self.server.store.add_blob(blake3, length, self.rfile.read)
        except UploadRefusedError:
            self.close_connection = True
            raise
        return (201, f"stored {blake3}") if stored else (200, f"already held {blake3}")

    def _plain(self, status: int, text: str, send_body: bool, refused: bool = True) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)
        self.server.stats.record(0, refused=refused)

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/metadata/"):
            self._metadata(path.removeprefix("/metadata/"), send_body)
            return
        if path.startswith("/blobs/"):
            blake3: str | None = path.removeprefix("/blobs/")
        elif path.startswith("/targets/"):
            blake3 = blake3_of_target_path(path.removeprefix("/targets/"))
        else:
            blake3 = None
        if blake3 is None:
            self._plain(404, "not found: use /blobs/<blake3>", send_body)
            return
        try:
            stream, total = self.server.store.open_blob(blake3)
        except BlobNotServedError as error:
            self._plain(404, str(error), send_body)
            return
        with stream:
            try:
                wanted = seed_protocol.parse_http_range(self.headers.get("Range"), total)
            except MalformedRangeError as error:
                self.close_connection = True
                self._plain(400, str(error), send_body)
                return
            except RangeNotSatisfiableError as error:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{total}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.server.stats.record(0, refused=True)
                del error
                return
            offset, count = wanted if wanted is not None else (0, total)
            self.send_response(206 if wanted is not None else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
            self.send_header("Content-Length", str(count))
            if wanted is not None:
                self.send_header("Content-Range", f"bytes {offset}-{offset + count - 1}/{total}")
            self.end_headers()
            sent = self._copy(stream, offset, count) if send_body else 0
            self.server.stats.record(sent)

    def _copy(self, stream: BinaryIO, offset: int, count: int) -> int:
        stream.seek(offset)
        sent = 0
        while sent < count:
            chunk = stream.read(min(SEND_CHUNK_BYTES, count - sent))
            if not chunk:
                break
            self.wfile.write(chunk)
            sent += len(chunk)
        return sent

    def _metadata(self, name: str, send_body: bool) -> None:
        try:
            data = self.server.store.metadata_bytes(name)
        except BlobNotServedError as error:
            self._plain(404, str(error), send_body)
            return
        etag = metadata_etag(data)
        if matches_if_none_match(self.headers.get("If-None-Match"), etag):
            # Unchanged since the node's last answer: no body (RFC 9110 §15.4.5).
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.server.stats.record(0)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body:
            self.wfile.write(data)
        self.server.stats.record(len(data) if send_body else 0)


class _SeedHttpServer(BoundedHttpServer):
    def __init__(
        self,
        address: tuple[str, int],
        store: SeedStore,
        upload_token: str | None,
        max_upload_bytes: int,
        limits: HttpLimits | None,
    ) -> None:
        super().__init__(address, _SeedRequestHandler, limits)
        self.store = store
        self.stats = SeedStats()
        self.upload_token = upload_token
        self.max_upload_bytes = max_upload_bytes


class HttpSeedServer:
    """``GET /blobs/<blake3>`` on ``host:port`` (port 0: any free port), in a background thread.

    With ``upload_token`` the seed also accepts authenticated ``PUT`` uploads.
    """

    def __init__(
        self,
        store: SeedStore,
        host: str = "127.0.0.1",
        port: int = 0,
        upload_token: str | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        limits: HttpLimits | None = None,
    ) -> None:
        if upload_token is not None and len(upload_token) < 16:
            raise ValueError("an upload token has at least 16 characters")
        self._server = _SeedHttpServer((host, port), store, upload_token, max_upload_bytes, limits)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{text}]" if ":" in text else text
        return f"http://{shown}:{port}"

    @property
    def stats(self) -> SeedStats:
        return self._server.stats

    @property
    def http(self) -> BoundedHttpServer:
        """The connection server (its ``limits``, ``thread_bound`` and ``refusals``)."""
        return self._server

    def start(self) -> HttpSeedServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="http-seed", daemon=True
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server stops (it runs in its own thread)."""
        if self._thread is not None:
            self._thread.join()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> HttpSeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
