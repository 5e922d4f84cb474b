"""Fetch blobs from swarm seeds: HTTP and iroh transports, and a multi-source fetcher.

Any source may serve any blob, because nothing is used before it hashes to
the BLAKE3 the signed metadata names.  :class:`MultiSourceBlobFetcher` splits
a blob into byte ranges and fetches them from every live seed in parallel
into one file, then hashes the whole file:

- every range has a deadline derived from a minimum throughput plus a small
  fixed allowance (:class:`RangeSchedule`); a seed that falls behind it — a
  seed trickling one byte a second keeps its connection alive but falls
  behind all the same — is dropped and its range re-issued to another seed at
  once;
- a seed that stalls (no byte within ``stall_seconds``), sends more bytes
  than it announced or than were asked for, speaks garbage or cannot be
  reached is **dropped for the rest of the pull**, and the unfinished part of
  its range (from the first byte it did not deliver: the download resumes)
  goes to another seed;
- a seed that does not have the blob, or answers ``503`` (busy), is skipped
  for that blob only;
- if the whole blob does not hash right, the ranges are fetched again from one
  other seed at a time and put in place of the bytes they disagree with; the
  seed whose replacement makes the blob verify is right and the owners of the
  replaced ranges sent bad bytes: they are dropped.  (There is no per-chunk
  hash list yet — a chunk tree would find a bad range without re-fetching.)

:class:`SeedAwareFetcher` plugs this into the TUF updater and the node's pull
(a :class:`node_runtime.tuf_fetcher.Fetcher`): metadata comes from the origin
whenever the origin can be reached — a seed's copy is asked for only when the
origin cannot be reached, and the updater checks it like any other — and
targets come from the seeds first, and the origin finishes what no seed
delivered.  A local I/O error (the disk filling up) is not a seed's fault: it
stops the fetch with :class:`LocalStoreError` (an ``OSError``), blames no seed
and leaves nothing counted in flight.

Public API: ``SeedError`` ← ``SeedMissingBlobError`` (← ``SeedBusyError``),
``SeedFaultError``;
``BlobUnavailableError``; ``LocalStoreError``; ``RangeSchedule``;
``BlobTransport`` (``read_range``), ``HttpSeedTransport``,
``IrohSeedTransport``, ``IrohClient``; ``MultiSourceBlobFetcher`` (``add_seed``,
``fetch``, ``dropped``, ``close``); ``SeedAwareFetcher``; ``seed_root_url``; ``transport_for_seed``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

import blake3 as blake3_module
import httpx

from node_runtime import seed_protocol
from node_runtime.seed_protocol import BlobAnswer, BlobRequest, ProtocolError, Refusal
from node_runtime.seed_server import bind_iroh_endpoint, blake3_of_target_path
from node_runtime.tuf_fetcher import (
    CHUNK_SIZE,
    DownloadError,
    DownloadLengthError,
    Fetcher,
    RemoteFileNotFoundError,
)

DEFAULT_RANGE_BYTES = 4 << 20
DEFAULT_STALL_SECONDS = 15.0
DEFAULT_MIN_BYTES_PER_SECOND = 32 * 1024  # low: a busy honest seed must not be dropped
DEFAULT_RANGE_ALLOWANCE_SECONDS = 3.0
HASH_READ_BYTES = 1 << 20

T = TypeVar("T")
Sink = Callable[[bytes], None]


class SeedError(Exception):
    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"seed {source}: {reason}")
        self.source = source
        self.reason = reason


class SeedMissingBlobError(SeedError):
    """The seed does not have this blob (not a fault: it is asked for other blobs)."""


class SeedBusyError(SeedMissingBlobError):
    """The seed is busy (HTTP 503): skipped for this blob, like a seed without it."""


class SeedFaultError(SeedError):
    """The seed misbehaved (stalled, sent too many bytes, garbage, unreachable): drop it."""


class BlobUnavailableError(DownloadError):
    """No source delivered bytes that hash to the blob's BLAKE3."""


class _RangeCancelledError(Exception):
    """Raised by a sink to stop a transfer that is no longer wanted; transports let it through."""


class LocalStoreError(OSError):
    """Writing or reading the blob's own file failed (disk full, I/O error): not a seed's fault."""

    def __init__(self, blake3: str, cause: OSError) -> None:
        self.message = (
            f"blob {blake3[:12]}…: local I/O error while storing it "
            f"({cause.strerror or cause}); nothing was stored"
        )
        super().__init__(cause.errno, cause.strerror)

    def __str__(self) -> str:
        return self.message


# --- transports ---


class BlobTransport(ABC):
    """One seed: ``read_range`` gives exactly ``count`` bytes of a blob to ``sink``, or raises."""

    name: str

    @abstractmethod
    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        """Raise :class:`SeedMissingBlobError` or :class:`SeedFaultError` on failure.

        ``sink`` may raise to stop the transfer (the range is no longer
        wanted, or the local disk is full): let that exception through.
        """

    def metadata_url(self, name: str) -> str | None:
        """Where this seed keeps a copy of the metadata file ``name`` (None: it keeps none)."""
        return None

    def close(self) -> None:  # noqa: B027 - most transports hold nothing
        pass


def seed_root_url(seed: str) -> str:
    """A seed's root URL from a config entry: ``…/targets/`` (a mirror of targets/) is stripped."""
    root = seed.rstrip("/")
    return root.removesuffix("/targets")


class HttpSeedTransport(BlobTransport):
    """``GET <seed>/blobs/<blake3>`` with a ``Range`` header (see :mod:`seed_server`)."""

    def __init__(
        self,
        seed_url: str,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        client: httpx.Client | None = None,
    ) -> None:
        self.root = seed_root_url(seed_url)
        self.name = self.root
        self._owns_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(stall_seconds, connect=stall_seconds),
            follow_redirects=False,
            headers={"User-Agent": "archy-node"},
        )

    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        url = f"{self.root}/blobs/{blake3}"
        headers = {"Range": f"bytes={offset}-{offset + count - 1}"}
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 404:
                    raise SeedMissingBlobError(self.name, f"has no blob {blake3[:12]}…")
                if status == 416:  # its blob has another length: not this blob
                    raise SeedMissingBlobError(self.name, f"has no {total_length}-byte blob")
                if status == 503:  # at its connection cap: ask the others
                    raise SeedBusyError(self.name, "is busy (HTTP 503)")
                if status == 200 and offset == 0 and count == total_length:
                    limit = total_length
                elif status == 206:
                    limit = count
                else:
                    raise SeedFaultError(self.name, f"answered a range request with HTTP {status}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) != limit:
                    raise SeedFaultError(
                        self.name, f"announced {declared} bytes where {limit} were asked for"
                    )
                received = 0
                for chunk in response.iter_bytes():  # as they come: a sink may stop it
                    received += len(chunk)
                    if received > count:
                        raise SeedFaultError(self.name, f"sent more than the {count} bytes asked")
                    sink(chunk)
                if received < count:
                    raise SeedFaultError(self.name, f"sent {received} of {count} bytes")
        except httpx.TimeoutException:
            raise SeedFaultError(self.name, "stalled (no bytes within the stall limit)") from None
        except httpx.HTTPError as error:
            raise SeedFaultError(self.name, f"{type(error).__name__}: {error}") from None

    def metadata_url(self, name: str) -> str | None:
        return f"{self.root}/metadata/{name}"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def parse_iroh_seed_url(seed_url: str) -> tuple[str, list[str]]:
    """``iroh://<endpoint id>@<addr>,<addr>`` → ``(endpoint id, direct addresses)``."""
    rest = seed_url.removeprefix("iroh://").rstrip("/")
    endpoint_id, _, addresses = rest.partition("@")
    if not endpoint_id or seed_url == rest:
        raise ValueError(f"{seed_url!r}: an iroh seed is iroh://<endpoint id>@<host:port>,…")
    return endpoint_id, [address for address in addresses.split(",") if address]


class IrohClient:
    """One client iroh endpoint with its own event loop thread, shared by every iroh seed."""

    def __init__(self, bind_addr: str = "0.0.0.0:0", relays: bool = False) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="iroh-client", daemon=True
        )
        self._thread.start()
        self._connections: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None
        self.endpoint: Any = self.run(bind_iroh_endpoint(bind_addr, relays, []))

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def connection(self, seed_url: str) -> Any:
        import iroh

        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            known = self._connections.get(seed_url)
            if known is not None and known.close_reason() is None:
                return known
            endpoint_id, addresses = parse_iroh_seed_url(seed_url)
            target = iroh.EndpointAddr(iroh.EndpointId.from_string(endpoint_id), None, addresses)
            connection = await self.endpoint.connect(target, seed_protocol.ALPN)
            self._connections[seed_url] = connection
            return connection

    def close(self) -> None:
        async def shut() -> None:
            for connection in self._connections.values():
                with contextlib.suppress(Exception):
                    connection.close(0, b"done")
            await self.endpoint.close()

        with contextlib.suppress(Exception):
            self.run(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class IrohSeedTransport(BlobTransport):
    """``archy/blobs/1`` over an iroh connection (one bi-directional stream per range)."""

    def __init__(
        self, seed_url: str, client: IrohClient, stall_seconds: float = DEFAULT_STALL_SECONDS
    ) -> None:
        parse_iroh_seed_url(seed_url)
        self.name = seed_url
        self._client = client
        self._stall_seconds = stall_seconds

    def read_range(
        self, blake3: str, total_length: int, offset: int, count: int, sink: Sink
    ) -> None:
        try:
            self._client.run(self._read(blake3, offset, count, sink))
        except (SeedError, _RangeCancelledError):
            raise
        except TimeoutError:
            raise SeedFaultError(self.name, "stalled (no bytes within the stall limit)") from None
        except ProtocolError as error:
            raise SeedFaultError(self.name, f"broke archy/blobs/1: {error}") from None
        except Exception as error:  # the binding raises its own IrohError family
            raise SeedFaultError(self.name, f"{type(error).__name__}: {error}") from None

    async def _read(self, blake3: str, offset: int, count: int, sink: Sink) -> None:
        connection = await asyncio.wait_for(self._client.connection(self.name), self._stall_seconds)
        stream = await asyncio.wait_for(connection.open_bi(), self._stall_seconds)
        send, receive = stream.send(), stream.recv()
        await send.write_all(seed_protocol.encode_request(BlobRequest(blake3, offset, count)))
        await send.finish()
        buffer = b""
        while (parts := seed_protocol.split_header(buffer)) is None:
            more = await asyncio.wait_for(receive.read(CHUNK_SIZE), self._stall_seconds)
            if not more:
                raise SeedFaultError(self.name, "closed the stream before answering")
            buffer += more
        header, body = parts
        answer = seed_protocol.decode_response_header(header)
        if isinstance(answer, Refusal):
            if answer.code in ("not-found", "bad-range"):
                raise SeedMissingBlobError(self.name, f"has no blob {blake3[:12]}…")
            raise SeedFaultError(self.name, f"refused: {answer.code} {answer.message}")
        if answer != BlobAnswer(answer.total_length, offset, count):
            raise SeedFaultError(
                self.name, f"answered {answer.offset}+{answer.count} for {offset}+{count}"
            )
        received = 0
        while True:
            if len(body) > count - received:
                raise SeedFaultError(self.name, f"sent more than the {count} bytes announced")
            if body:
                sink(body)
                received += len(body)
            body = await asyncio.wait_for(receive.read(CHUNK_SIZE), self._stall_seconds)
            if not body:
                break
        if received < count:
            raise SeedFaultError(self.name, f"sent {received} of {count} bytes")


def transport_for_seed(
    seed_url: str,
    iroh_client: IrohClient | None = None,
    stall_seconds: float = DEFAULT_STALL_SECONDS,
) -> BlobTransport:
    if seed_url.startswith("iroh://"):
        if iroh_client is None:
            raise ValueError(f"{seed_url}: an iroh seed needs an IrohClient")
        return IrohSeedTransport(seed_url, iroh_client, stall_seconds)
    if seed_url.startswith(("http://", "https://")):
        return HttpSeedTransport(seed_url, stall_seconds)
    raise ValueError(f"{seed_url}: seeds are http(s):// or iroh:// URLs")


# --- the multi-source fetcher ---


@dataclass(frozen=True)
class RangeSchedule:
    """When the bytes of a range are due: ``allowance_seconds`` to get going, then the
    minimum throughput.

    Byte ``k`` of a range asked for at ``started`` is due by ``started +
    allowance_seconds + k / min_bytes_per_second``; a range of ``count`` bytes
    is therefore due whole by :meth:`deadline`.  A seed that falls behind at any
    point has missed its deadline: keeping the connection alive with a byte now
    and then does not help it.
    """

    min_bytes_per_second: float = DEFAULT_MIN_BYTES_PER_SECOND
    allowance_seconds: float = DEFAULT_RANGE_ALLOWANCE_SECONDS

    def due_by(self, started: float, received: int) -> float:
        """When the byte after the first ``received`` must have arrived."""
        return started + self.allowance_seconds + received / self.min_bytes_per_second

    def deadline(self, started: float, count: int) -> float:
        return self.due_by(started, count)

    def behind(self, started: float, received: int, count: int, now: float) -> bool:
        return received < count and now > self.due_by(started, received)

    def too_slow(self, received: int, count: int, elapsed: float) -> str:
        return (
            f"too slow: {received} of {count} bytes in {elapsed:.1f} s (a range gets "
            f"{self.allowance_seconds:g} s, then at least {self.min_bytes_per_second:g} bytes/s)"
        )


@dataclass
class _Range:
    offset: int
    count: int
    owner: str | None = None


@dataclass
class _Attempt:
    """One seed fetching one range; ``received`` bytes of it are written already."""

    source: str
    piece: _Range
    started: float
    received: int = 0
    cancelled: bool = False


@dataclass
class BlobFetchReport:
    blake3: str
    bytes_by_source: dict[str, int] = field(default_factory=dict)
    refetched_ranges: int = 0
    reissued_ranges: int = 0
    """Ranges taken back from a seed that missed its deadline and given to another."""


class MultiSourceBlobFetcher:
    """Fetch blobs from several seeds in parallel; one instance lives for one pull.

    Every range has a deadline (:class:`RangeSchedule`): a seed that falls
    behind it is dropped for the rest of the pull and what it did not deliver
    goes to another seed at once, so a seed that trickles bytes cannot hold a
    pull.  A local I/O error (disk full) stops the fetch with
    :class:`LocalStoreError`; no seed is blamed for it.
    """

    def __init__(
        self,
        transports: Sequence[BlobTransport] = (),
        range_bytes: int = DEFAULT_RANGE_BYTES,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
        iroh_bind_addr: str = "0.0.0.0:0",
        schedule: RangeSchedule | None = None,
    ) -> None:
        self.transports = list(transports)
        self.range_bytes = range_bytes
        self.stall_seconds = stall_seconds
        self.iroh_bind_addr = iroh_bind_addr
        self.schedule = schedule or RangeSchedule()
        self.dropped: dict[str, str] = {}
        """Seeds dropped for the rest of the pull, with the reason."""
        self.in_flight = 0
        """Ranges being fetched right now (0 whenever no :meth:`fetch` runs)."""
        self._lock = threading.Lock()
        self._iroh_client: IrohClient | None = None

    def add_seed(self, seed_url: str) -> bool:
        """Add a seed by URL; False when it is known already or is not a swarm seed.

        ``http(s)://`` seeds are asked with ``GET /blobs/<blake3>``; ``iroh://``
        seeds over ``archy/blobs/1`` (the first one binds this fetcher's iroh
        endpoint); ``file://`` mirrors are not swarm seeds.
        """
        if seed_url.startswith("iroh://"):
            parse_iroh_seed_url(seed_url)
            name = seed_url.rstrip("/")
        elif seed_url.startswith(("http://", "https://")):
            name = seed_root_url(seed_url)
        else:
            return False
        if any(transport.name == name for transport in self.transports):
            return False
        if seed_url.startswith("iroh://"):
            if self._iroh_client is None:
                self._iroh_client = IrohClient(self.iroh_bind_addr)
            transport: BlobTransport = IrohSeedTransport(
                name, self._iroh_client, self.stall_seconds
            )
        else:
            transport = HttpSeedTransport(seed_url, self.stall_seconds)
        with self._lock:
            self.transports.append(transport)
        return True

    def live(self) -> list[BlobTransport]:
        with self._lock:
            return [t for t in self.transports if t.name not in self.dropped]

    def _drop(self, name: str, reason: str) -> None:
        with self._lock:
            self.dropped.setdefault(name, reason)

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change

    def fetch(self, blake3: str, length: int, destination: BinaryIO) -> BlobFetchReport:
        """Write the blob at ``destination``'s position; return only once it hashes right.

        ``destination`` must be a real file (it is written with ``os.pwrite``
        from several threads); it is left positioned after the blob.  Raises
        :class:`BlobUnavailableError` when no seed delivered it and
        :class:`LocalStoreError` when the file cannot be written or read.
        """
        try:
            destination.flush()
            base = destination.tell()
            descriptor = destination.fileno()
            report = BlobFetchReport(blake3)
            ranges = [
                _Range(offset, min(self.range_bytes, length - offset))
                for offset in range(0, length, self.range_bytes)
            ]
            missing: set[str] = set()
            self._fetch_ranges(blake3, length, ranges, descriptor, base, missing, report)
            if _hash_region(descriptor, base, length) != blake3:
                self._find_the_liar(blake3, length, ranges, descriptor, base, missing, report)
            destination.seek(base + length)
        except LocalStoreError:
            raise
        except OSError as error:
            raise LocalStoreError(blake3, error) from error
        return report

    def _fetch_ranges(
        self,
        blake3: str,
        length: int,
        ranges: list[_Range],
        descriptor: int,
        base: int,
        missing: set[str],
        report: BlobFetchReport,
    ) -> None:
        """Every range from some live seed; the caller's thread watches the deadlines."""
        pending = collections.deque(ranges)
        condition = threading.Condition()
        attempts: list[_Attempt] = []
        done: list[_Range] = []
        local_errors: list[OSError] = []
        over = False
        working = 0

        def count_bytes(source: str, received: int) -> None:
            report.bytes_by_source[source] = report.bytes_by_source.get(source, 0) + received

        def settle(attempt: _Attempt) -> None:
            """Give back what ``attempt`` did not deliver (its delivered prefix is kept)."""
            attempts.remove(attempt)
            self._count_in_flight(-1)
            piece, received = attempt.piece, attempt.received
            count_bytes(attempt.source, received)
            if received:
                done.append(_Range(piece.offset, received, attempt.source))
            pending.appendleft(_Range(piece.offset + received, piece.count - received))

        def write(attempt: _Attempt, chunk: bytes) -> None:
            with condition:
                if attempt.cancelled or over or local_errors:
                    raise _RangeCancelledError
                if attempt.received + len(chunk) > attempt.piece.count:
                    raise SeedFaultError(
                        attempt.source, f"sent more than the {attempt.piece.count} bytes asked"
                    )
                try:
                    _pwrite_all(descriptor, chunk, base + attempt.piece.offset + attempt.received)
                except OSError as error:
                    local_errors.append(error)
                    condition.notify_all()
                    raise _RangeCancelledError from None
                attempt.received += len(chunk)

        def next_attempt(transport: BlobTransport) -> _Attempt | None:
            with condition:
                while True:
                    if over or local_errors or transport.name in self.dropped:
                        return None
                    if pending:
                        break
                    if not attempts:
                        return None
                    condition.wait()
                attempt = _Attempt(transport.name, pending.popleft(), time.monotonic())
                attempts.append(attempt)
                self._count_in_flight(1)
                condition.notify_all()  # the deadline watch learns of the new attempt
                return attempt

        def work(transport: BlobTransport) -> None:
            nonlocal working
            try:
                while (attempt := next_attempt(transport)) is not None:
                    piece = attempt.piece
                    failure: SeedError | None = None
                    try:
                        transport.read_range(
                            blake3,
                            length,
                            piece.offset,
                            piece.count,
                            functools.partial(write, attempt),
                        )
                    except _RangeCancelledError:
                        pass
                    except SeedError as error:
                        failure = error
                    except Exception as error:  # a broken transport is that seed's fault only
                        failure = SeedFaultError(transport.name, f"{type(error).__name__}: {error}")
                    with condition:
                        if attempt.cancelled:  # the deadline watch took the range back already
                            return
                        if local_errors or over:
                            settle(attempt)
                            condition.notify_all()
                            return
                        if failure is None and attempt.received < piece.count:
                            failure = SeedFaultError(
                                transport.name, f"sent {attempt.received} of {piece.count} bytes"
                            )
                        if failure is None:
                            attempts.remove(attempt)
                            self._count_in_flight(-1)
                            count_bytes(transport.name, attempt.received)
                            piece.owner = transport.name
                            done.append(piece)
                        else:
                            settle(attempt)  # resume: only what this seed did not deliver
                            if isinstance(failure, SeedMissingBlobError):
                                missing.add(transport.name)
                            else:
                                self._drop(transport.name, failure.reason)
                        condition.notify_all()
                        if failure is not None:
                            return
            finally:
                with condition:
                    working -= 1
                    condition.notify_all()

        transports = [t for t in self.live() if t.name not in missing]
        workers = [
            threading.Thread(target=work, args=(transport,), name=f"seed-{index}", daemon=True)
            for index, transport in enumerate(transports)
        ]
        with condition:
            working = len(workers)
        for worker in workers:
            worker.start()
        slow: set[str] = set()
        with condition:
            while not local_errors and (pending or attempts) and working:
                now = time.monotonic()
                wake: float | None = None
                for attempt in list(attempts):
                    piece = attempt.piece
                    if self.schedule.behind(attempt.started, attempt.received, piece.count, now):
                        attempt.cancelled = True
                        settle(attempt)
                        report.reissued_ranges += 1
                        slow.add(attempt.source)
                        reason = self.schedule.too_slow(
                            attempt.received, piece.count, now - attempt.started
                        )
                        self._drop(attempt.source, reason)
                        condition.notify_all()
                    else:
                        due = self.schedule.due_by(attempt.started, attempt.received)
                        wake = due if wake is None else min(wake, due)
                timeout = None if wake is None else max(wake - now, 0.01)
                condition.wait(timeout)
            over = True
            for attempt in list(attempts):  # only after a local error: nothing more is written
                attempt.cancelled = True
                settle(attempt)
            condition.notify_all()
        for transport, worker in zip(transports, workers, strict=True):
            if transport.name not in slow:  # a seed dropped as too slow may sit in a read
                worker.join()
        if local_errors:
            raise LocalStoreError(blake3, local_errors[0])
        if pending:
            raise BlobUnavailableError(self._nobody_has(blake3, missing))
        ranges[:] = sorted(done, key=lambda piece: piece.offset)

    def _nobody_has(self, blake3: str, missing: set[str]) -> str:
        reasons = [f"{name} does not have it" for name in sorted(missing)]
        reasons += [f"{name} dropped: {why}" for name, why in sorted(self.dropped.items())]
        return f"blob {blake3[:12]}…: no seed delivered it ({'; '.join(reasons) or 'no seeds'})"

    def _read_on_schedule(
        self, candidate: BlobTransport, blake3: str, length: int, piece: _Range
    ) -> bytes:
        """One range from ``candidate`` into memory; a seed that falls behind is a fault."""
        fresh = bytearray()
        started = time.monotonic()

        def collect(chunk: bytes) -> None:
            now = time.monotonic()
            if self.schedule.behind(started, len(fresh), piece.count, now):
                raise SeedFaultError(
                    candidate.name,
                    self.schedule.too_slow(len(fresh), piece.count, now - started),
                )
            fresh.extend(chunk)

        candidate.read_range(blake3, length, piece.offset, piece.count, collect)
        return bytes(fresh)

    def _find_the_liar(
        self,
        blake3: str,
        length: int,
        ranges: list[_Range],
        descriptor: int,
        base: int,
        missing: set[str],
        report: BlobFetchReport,
    ) -> None:
        """The blob does not verify: re-fetch ranges from one seed at a time until it does."""
        if not ranges:
            raise BlobUnavailableError(f"blob {blake3[:12]}…: no bytes can hash to it")
        for candidate in self.live():
            if candidate.name in missing or candidate.name in self.dropped:
                continue
            replaced: list[tuple[_Range, bytes]] = []
            try:
                for piece in ranges:
                    if piece.owner == candidate.name:
                        continue
                    fresh = self._read_on_schedule(candidate, blake3, length, piece)
                    report.refetched_ranges += 1
                    current = os.pread(descriptor, piece.count, base + piece.offset)
                    if fresh != current:
                        _pwrite_all(descriptor, fresh, base + piece.offset)
                        replaced.append((piece, current))
            except SeedError as error:
                if not isinstance(error, SeedMissingBlobError):
                    self._drop(candidate.name, error.reason)
                for piece, previous in replaced:
                    _pwrite_all(descriptor, previous, base + piece.offset)
                continue
            if _hash_region(descriptor, base, length) == blake3:
                for piece, _previous in replaced:
                    if piece.owner is not None:
                        self._drop(piece.owner, "sent bytes that do not match the blob's BLAKE3")
                    piece.owner = candidate.name
                return
            for piece, previous in replaced:
                _pwrite_all(descriptor, previous, base + piece.offset)
            if ranges and all(piece.owner == candidate.name for piece in ranges):
                self._drop(candidate.name, "sent bytes that do not match the blob's BLAKE3")
        for owner in {piece.owner for piece in ranges if piece.owner is not None}:
            self._drop(owner, "took part in a blob that does not match its BLAKE3")
        raise BlobUnavailableError(
            f"blob {blake3[:12]}…: no combination of seeds gave bytes that hash right "
            f"({'; '.join(f'{n}: {r}' for n, r in sorted(self.dropped.items()))})"
        )

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        if self._iroh_client is not None:
            self._iroh_client.close()
            self._iroh_client = None


def _pwrite_all(descriptor: int, data: bytes, position: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(descriptor, view, position)
        view = view[written:]
        position += written


def _hash_region(descriptor: int, base: int, length: int) -> str:
    hasher = blake3_module.blake3()
    position = 0
    while position < length:
        chunk = os.pread(descriptor, min(HASH_READ_BYTES, length - position), base + position)
        if not chunk:
            break
        hasher.update(chunk)
        position += len(chunk)
    return hasher.hexdigest()


# --- the Fetcher the TUF updater and the pull use ---


class SeedAwareFetcher(Fetcher):
    """Metadata from the origin (seeds only when it is unreachable), blobs from seeds first.

    ``metadata_url`` and ``targets_url`` are the origin's (as
    :func:`node_runtime.origin_fetcher.repository_urls` gives them).  Target
    URLs whose name carries a BLAKE3 (consistent snapshots) are fetched from
    the seeds with :class:`MultiSourceBlobFetcher`, then from the origin.
    """

    def __init__(
        self,
        origin: Fetcher,
        metadata_url: str,
        targets_url: str,
        blobs: MultiSourceBlobFetcher,
    ) -> None:
        self.origin = origin
        self.metadata_url = metadata_url
        self.targets_url = targets_url
        self.blobs = blobs
        self.metadata_from_seed: list[str] = []
        """Metadata files read from a seed because the origin was unreachable."""

    def chunks(self, url: str) -> Generator[bytes, None, None]:
        yield from self.origin.chunks(url)

    def download_bytes(self, url: str, max_length: int) -> bytes:
        if not url.startswith(self.metadata_url):
            return self.origin.download_bytes(url, max_length)
        try:
            return self.origin.download_bytes(url, max_length)
        except (RemoteFileNotFoundError, DownloadLengthError):
            raise  # the origin answered: its answer stands
        except DownloadError as origin_error:
            return self._metadata_from_seeds(url, max_length, origin_error)

    def _metadata_from_seeds(self, url: str, max_length: int, origin_error: DownloadError) -> bytes:
        name = url.removeprefix(self.metadata_url)
        failures = [f"origin: {origin_error}"]
        not_found = 0
        for transport in self.blobs.live():
            seed_url = transport.metadata_url(name)
            if seed_url is None:
                continue
            try:
                data = self.origin.download_bytes(seed_url, max_length)
            except RemoteFileNotFoundError:
                not_found += 1
                failures.append(f"{transport.name}: no {name}")
                continue
            except DownloadError as error:
                failures.append(f"{transport.name}: {error}")
                continue
            self.metadata_from_seed.append(f"{transport.name}/metadata/{name}")
            return data
        if not_found and not_found == len(failures) - 1:
            raise RemoteFileNotFoundError(f"{url}: " + "; ".join(failures))
        raise DownloadError(f"{url}: " + "; ".join(failures))

    def download_to(self, url: str, max_length: int, destination: BinaryIO) -> int:
        blake3 = None
        if url.startswith(self.targets_url):
            blake3 = blake3_of_target_path(url.removeprefix(self.targets_url))
        if blake3 is None or not self.blobs.live():
            return self.origin.download_to(url, max_length, destination)
        start = destination.tell()
        try:
            self._fetch_from_seeds(blake3, max_length, destination)
            return max_length
        except BlobUnavailableError:
            destination.seek(start)
            destination.truncate()
            return self.origin.download_to(url, max_length, destination)

    def _fetch_from_seeds(self, blake3: str, length: int, destination: BinaryIO) -> None:
        try:
            destination.fileno()
            real_file = True
        except (AttributeError, OSError, ValueError):
            real_file = False
        if real_file:
            self.blobs.fetch(blake3, length, destination)
            return
        with tempfile.TemporaryFile() as scratch:
            self.blobs.fetch(blake3, length, scratch)
            scratch.seek(0)
            while chunk := scratch.read(HASH_READ_BYTES):
                destination.write(chunk)
