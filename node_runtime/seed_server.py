"""A swarm seed: serve verified blobs by BLAKE3 over HTTP and over iroh (``archy/blobs/1``).

The store is a directory of blobs named by their BLAKE3 (the node's
``blobs/`` layout, or what ``archy seed sync`` writes).  A blob is hashed
before it is first served and again whenever its file changes (size, mtime or
inode), so a seed never serves bytes that do not match their name — though a
client must not rely on that: it checks the hash itself.

HTTP (:mod:`node_runtime.bounded_http`: request heads are read without a
thread, a fixed pool answers; timeouts, a connection cap with ``503``, bounded
heads — the limits are in ``docs/seed-protocol.md``):

- ``GET|HEAD /blobs/<blake3>`` — the blob; a single ``Range: bytes=…`` gives
  ``206`` with ``Content-Range``; ``416`` when the range lies outside the blob,
  ``400`` for a malformed or huge ``Range`` value;
- ``GET|HEAD /targets/<dir>/<blake3>.<name>`` — the same blob under the
  origin's consistent-snapshot name, so a seed is also a plain HTTP mirror of
  ``targets/`` for clients that only know paths;
- ``GET /metadata/<name>`` — the metadata copy ``archy seed sync`` keeps (a
  node uses it only when its origin is unreachable, through the full TUF
  checks);
- ``404`` for anything else.

Uploads (only when the server was given an upload token, see
``docs/seed-protocol.md``): ``PUT /blobs/<blake3>`` with ``Authorization:
Bearer <token>`` and a ``Content-Length`` of at most ``max_upload_bytes``; the
body is stored only if it hashes to its name (``201``; ``200`` when the seed
already held it); ``401`` without the right token, ``411`` without a length,
``413`` over the limit, ``422`` for bytes that do not match.  ``PUT
/metadata/<published name>`` replaces the metadata copy the same way (nodes
check metadata through TUF, so the seed stores what its publisher sends).

iroh: an endpoint with the ``archy/blobs/1`` ALPN; every bi-directional
stream carries one request (see :mod:`node_runtime.seed_protocol`).

Public API: ``SeedStore(blobs_dir, metadata_dir=None)`` (``add_blob``,
``replace_metadata``), ``SeedStats``, ``UploadRefusedError``,
``HttpSeedServer(store, host, port, upload_token=None, max_upload_bytes=…, limits=None)``
(``start()``, ``url``, ``http``, ``close()``),
``parse_bind_address``, ``IrohSeed(store, bind_addr, relays=False)`` (``async start()``,
``seed_url``, ``async serve()``, ``async close()``), ``iroh_seed_url(addr)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from catalog.address import blake3_stream, is_blake3_hex
from node_runtime import seed_protocol
from node_runtime.blob_store import BlobMismatchError, BlobStore
from node_runtime.bounded_http import BoundedHttpServer, HttpLimits, OneRequestHandler
from node_runtime.seed_protocol import (
    BlobAnswer,
    MalformedRangeError,
    ProtocolError,
    RangeNotSatisfiableError,
    Refusal,
)

SEND_CHUNK_BYTES = 256 * 1024  # each write must finish within the server's io_seconds
DEFAULT_MAX_UPLOAD_BYTES = 8 << 30
MAX_METADATA_UPLOAD_BYTES = 16 << 20
_TARGET_NAME = re.compile(r"^(?:[a-z0-9_.-]+/)*([0-9a-f]{64})\.[^/]+$")
_METADATA_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.json$")
_PUBLISHED_METADATA_NAME = re.compile(
    r"^(timestamp|[1-9][0-9]{0,9}\.(root|snapshot|targets))\.json$"
)


class BlobNotServedError(Exception):
    """The seed has no verified blob by that hash."""


class UploadRefusedError(Exception):
    """An upload the seed will not store; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class SeedStats:
    requests: int = 0
    bytes_sent: int = 0
    refusals: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, sent: int, refused: bool = False) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_sent += sent
            self.refusals += int(refused)


class SeedStore:
    """Blobs by BLAKE3 in ``blobs_dir``, each hashed before it is served."""

    def __init__(self, blobs_dir: Path, metadata_dir: Path | None = None) -> None:
        self.blobs_dir = blobs_dir
        self.metadata_dir = metadata_dir
        self._verified: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    def open_blob(self, blake3: str) -> tuple[BinaryIO, int]:
        """An open handle on a verified blob and its length; :class:`BlobNotServedError` if none."""
        if not is_blake3_hex(blake3):
            raise BlobNotServedError(f"{blake3[:70]!r} is not a BLAKE3 hex digest")
        path = self.blobs_dir / blake3
        try:
            stream = path.open("rb")
        except OSError:
            raise BlobNotServedError(f"no blob {blake3}") from None
        try:
            status = os.fstat(stream.fileno())
            signature = (status.st_size, status.st_mtime_ns, status.st_ino)
            with self._lock:
                known = self._verified.get(blake3) == signature
            if not known:
                if blake3_stream(stream) != blake3:
                    raise BlobNotServedError(f"blob {blake3} does not hash to its name")
                stream.seek(0)
                with self._lock:
                    self._verified[blake3] = signature
        except BaseException:
            stream.close()
            raise
        return stream, status.st_size

    def add_blob(self, blake3: str, length: int, read: Callable[[int], bytes]) -> bool:
        """Store ``length`` bytes from ``read(n)`` as blob ``blake3`` if they hash to it.

        False when the seed already held the blob intact (the body is still
        read, so the connection stays usable).  :class:`UploadRefusedError`
        when the bytes do not match; nothing is stored then.
        """
        if not is_blake3_hex(blake3):
            raise UploadRefusedError(404, f"{blake3[:70]!r} is not a BLAKE3 hex digest")
        store = BlobStore(self.blobs_dir)
        held = store.is_intact(blake3)
        try:
            with store.receive(blake3, length) as sink:
                remaining = length
                while remaining:
                    chunk = read(min(SEND_CHUNK_BYTES, remaining))
                    if not chunk:
                        raise UploadRefusedError(400, f"the body ended {remaining} bytes early")
                    sink.write(chunk)
                    remaining -= len(chunk)
        except BlobMismatchError as error:
            raise UploadRefusedError(422, f"refused blob {blake3}: {error.reason}") from None
        return not held

    def replace_metadata(self, name: str, data: bytes) -> None:
        """Replace the metadata copy ``name`` (a published name such as ``3.targets.json``)."""
        if self.metadata_dir is None:
            raise UploadRefusedError(404, "this seed keeps no metadata copy")
        if not _PUBLISHED_METADATA_NAME.fullmatch(name):
            raise UploadRefusedError(404, f"{name[:80]!r} is not a published metadata name")
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.metadata_dir, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, self.metadata_dir / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def metadata_bytes(self, name: str) -> bytes:
        if self.metadata_dir is None or not _METADATA_NAME.fullmatch(name):
            raise BlobNotServedError(f"no metadata {name[:80]!r}")
        try:
            return (self.metadata_dir / name).read_bytes()
        except OSError:
            raise BlobNotServedError(f"no metadata {name[:80]!r}") from None


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


def blake3_of_target_path(path: str) -> str | None:
    """The BLAKE3 in a consistent-snapshot target path (``icons/<blake3>.demo.svg``)."""
    match = _TARGET_NAME.fullmatch(path)
    return match.group(1) if match else None


# --- HTTP ---


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
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
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


# --- iroh ---


def iroh_seed_url(endpoint_id: str, direct_addresses: list[str]) -> str:
    """``iroh://<endpoint id>@<addr>,<addr>`` — how seeds are named in config and messages."""
    return f"iroh://{endpoint_id}@{','.join(direct_addresses)}"


async def bind_iroh_endpoint(
    bind_addr: str = "127.0.0.1:0", relays: bool = False, alpns: list[bytes] | None = None
) -> Any:
    """An iroh endpoint: minimal preset (no discovery), relays off unless asked for."""
    import iroh

    from node_runtime.iroh_send_buffer import install_fast_send_buffer

    install_fast_send_buffer()
    builder = iroh.EndpointBuilder()  # type: ignore[no-untyped-call]
    if relays:
        builder.apply_n0()
    else:
        builder.apply_minimal()
        builder.relay_mode(iroh.RelayMode.disabled())
    builder.alpns(alpns or [])
    builder.bind_addr(bind_addr)
    return await builder.bind()


class IrohSeed:
    """Serves ``archy/blobs/1`` on an iroh endpoint; one request per bi-directional stream."""

    def __init__(
        self, store: SeedStore, bind_addr: str = "127.0.0.1:0", relays: bool = False
    ) -> None:
        self.store = store
        self.stats = SeedStats()
        self._bind_addr = bind_addr
        self._relays = relays
        self._endpoint: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> IrohSeed:
        self._endpoint = await bind_iroh_endpoint(
            self._bind_addr, self._relays, [seed_protocol.ALPN]
        )
        return self

    @property
    def seed_url(self) -> str:
        addr = self._endpoint.addr()
        return iroh_seed_url(str(addr.id()), list(addr.direct_addresses()))

    async def serve(self) -> None:
        """Accept connections until :meth:`close`."""
        while True:
            incoming = await self._endpoint.accept_next()
            if incoming is None:
                return
            self._spawn(self._connection(incoming))

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, incoming: Any) -> None:
        with contextlib.suppress(Exception):  # a peer that goes away ends only its connection
            accepting = await incoming.accept()
            connection = await accepting.connect()
            while True:
                stream = await connection.accept_bi()
                self._spawn(self._request(stream))

    async def _request(self, stream: Any) -> None:
        send = stream.send()
        sent = 0
        refused = False
        with contextlib.suppress(Exception):
            try:
                raw = await stream.recv().read_to_end(seed_protocol.MAX_REQUEST_BYTES + 1)
                request = seed_protocol.decode_request(raw)
            except ProtocolError as error:
                refused = True
                await send.write_all(
                    seed_protocol.encode_refusal(Refusal("bad-request", str(error)))
                )
                await send.finish()
                return
            try:
                blob, total = await asyncio.to_thread(self.store.open_blob, request.blake3)
            except BlobNotServedError as error:
                refused = True
                await send.write_all(seed_protocol.encode_refusal(Refusal("not-found", str(error))))
                await send.finish()
                return
            with blob:
                try:
                    offset, count = seed_protocol.resolve_range(
                        total, request.offset, request.count
                    )
                except RangeNotSatisfiableError as error:
                    refused = True
                    await send.write_all(
                        seed_protocol.encode_refusal(Refusal("bad-range", str(error)))
                    )
                    await send.finish()
                    return
                await send.write_all(seed_protocol.encode_answer(BlobAnswer(total, offset, count)))
                blob.seek(offset)
                while sent < count:
                    chunk = blob.read(min(SEND_CHUNK_BYTES, count - sent))
                    if not chunk:
                        break
                    await send.write_all(chunk)
                    sent += len(chunk)
            await send.finish()
        self.stats.record(sent, refused)

    async def close(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.close()
        for task in list(self._tasks):
            task.cancel()
