"""The swarm: fetch one blob from several seeds at once, by byte range, into one file.

Any seed may serve any blob, because nothing is used before it hashes to
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
  reached is **dropped for the rest of the pull** (in :attr:`dropped`, the
  pull's one record of dropped sources), and the unfinished part of its range
  (from the first byte it did not deliver: the download resumes) goes to
  another seed;
- a seed that does not have the blob, or answers ``503`` (busy), is skipped
  for that blob only;
- if the whole blob does not hash right, the ranges are fetched again from one
  other seed at a time and put in place of the bytes they disagree with; the
  seed whose replacement makes the blob verify is right and the owners of the
  replaced ranges sent bad bytes: they are dropped.  (There is no per-chunk
  hash list yet — a chunk tree would find a bad range without re-fetching.)

A local I/O error (the disk filling up) is not a seed's fault: it stops the
fetch with :class:`LocalStoreError` (an ``OSError``), blames no seed and
leaves nothing counted in flight.

Public API: ``DroppedSources`` (``drop``),
``BlobFetchReport``, ``MultiSourceBlobFetcher`` (``add_seed``, ``live``,
``fetch``, ``dropped``, ``in_flight``, ``close``), ``transport_for_seed``.
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import blake3 as blake3_module

from catalog.locations import parse_iroh_seed_url
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.iroh_seed import IrohClient, IrohSeedTransport
from node_runtime.fetch.range_schedule import RangeSchedule
from node_runtime.fetch.seed_transport import (
    DEFAULT_STALL_SECONDS,
    BlobTransport,
    BlobUnavailableError,
    LocalStoreError,
    RangeCancelledError,
    SeedError,
    SeedFaultError,
    SeedMissingBlobError,
    seed_root_url,
)

DEFAULT_RANGE_BYTES = 4 << 20
HASH_READ_BYTES = 1 << 20


class DroppedSources(dict[str, str]):
    """Sources dropped for the rest of a pull, by name, with the reason (the first one kept).

    The one place a source is dropped: the swarm drops seeds that stall, lie
    or fall behind, and the pull's sources drop a mirror that served wrong
    bytes, both here; nothing dropped is asked again in that pull.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def drop(self, name: str, reason: str) -> None:
        with self._lock:
            self.setdefault(name, reason)


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
        self.dropped = DroppedSources()
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
                    raise RangeCancelledError
                if attempt.received + len(chunk) > attempt.piece.count:
                    raise SeedFaultError(
                        attempt.source, f"sent more than the {attempt.piece.count} bytes asked"
                    )
                try:
                    _pwrite_all(descriptor, chunk, base + attempt.piece.offset + attempt.received)
                except OSError as error:
                    local_errors.append(error)
                    condition.notify_all()
                    raise RangeCancelledError from None
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
                    except RangeCancelledError:
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
                                self.dropped.drop(transport.name, failure.reason)
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
                        self.dropped.drop(attempt.source, reason)
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
                    self.dropped.drop(candidate.name, error.reason)
                for piece, previous in replaced:
                    _pwrite_all(descriptor, previous, base + piece.offset)
                continue
            if _hash_region(descriptor, base, length) == blake3:
                for piece, _previous in replaced:
                    if piece.owner is not None:
                        self.dropped.drop(
                            piece.owner, "sent bytes that do not match the blob's BLAKE3"
                        )
                    piece.owner = candidate.name
                return
            for piece, previous in replaced:
                _pwrite_all(descriptor, previous, base + piece.offset)
            if ranges and all(piece.owner == candidate.name for piece in ranges):
                self.dropped.drop(candidate.name, "sent bytes that do not match the blob's BLAKE3")
        for owner in {piece.owner for piece in ranges if piece.owner is not None}:
            self.dropped.drop(owner, "took part in a blob that does not match its BLAKE3")
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
