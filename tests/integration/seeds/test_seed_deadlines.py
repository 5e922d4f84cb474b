"""A seed cannot hold a pull: every range has a deadline from a minimum throughput.

A real trickling HTTP server on 127.0.0.1 (the fault: it answers, then sends one byte a
second, so the connection never goes quiet) sits beside a real honest seed; the 20 MiB blob
still arrives whole, the trickler is dropped and its range goes to the honest seed.  A real
full disk (a small tmpfs) is reported as a local I/O error, blames no seed and leaves nothing
in flight, and so is a real file-size limit (EFBIG).
"""

from __future__ import annotations

import errno
import random
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.range_schedule import RangeSchedule
from node_runtime.fetch.seed_transport import BlobUnavailableError, LocalStoreError
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from tests.integration.seeds.misbehaving_seeds import MisbehavingSeed, WaitsFor
from tests.integration.seeds.small_disk import small_tmpfs

BLOB_BYTES = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def blob_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    blobs = tmp_path_factory.mktemp("deadline-seed") / "blobs"
    blobs.mkdir()
    blob = random.Random(20).randbytes(BLOB_BYTES)
    blake3 = blake3_hex(blob)
    (blobs / blake3).write_bytes(blob)
    return blobs, blake3


def test_a_one_byte_per_second_seed_cannot_stall_a_pull(
    tmp_path: Path, blob_store: tuple[Path, str]
) -> None:
    blobs, blake3 = blob_store
    with (
        MisbehavingSeed(blobs, "trickle") as trickler,
        HttpSeedServer(SeedStore(blobs)) as honest,
    ):
        # a per-read timeout far above one second: only the range deadline can catch it
        slow = HttpSeedTransport(trickler.url, stall_seconds=120)
        fetcher = MultiSourceBlobFetcher(
            [slow, WaitsFor(HttpSeedTransport(honest.url), trickler.first_request)]
        )
        with (tmp_path / "blob").open("w+b") as destination:
            report = fetcher.fetch(blake3, BLOB_BYTES, destination)
        fetcher.close()
    assert blake3_hex((tmp_path / "blob").read_bytes()) == blake3
    assert list(fetcher.dropped) == [trickler.url]
    assert fetcher.dropped[trickler.url].startswith("too slow: ")
    assert report.reissued_ranges == 1
    assert fetcher.in_flight == 0
    assert sum(report.bytes_by_source.values()) == BLOB_BYTES
    assert report.bytes_by_source[honest.url] >= BLOB_BYTES - trickler.bytes_trickled


def test_a_range_deadline_is_the_allowance_plus_the_minimum_throughput() -> None:
    schedule = RangeSchedule(min_bytes_per_second=1000, allowance_seconds=2)
    assert schedule.deadline(started=10, count=5000) == 17
    assert not schedule.behind(started=10, received=0, count=5000, now=12)
    assert schedule.behind(started=10, received=0, count=5000, now=12.1)
    assert not schedule.behind(started=10, received=1000, count=5000, now=12.9)
    assert schedule.behind(started=10, received=1000, count=5000, now=13.1)
    assert not schedule.behind(started=10, received=5000, count=5000, now=99)


def test_a_disk_filling_up_during_a_seed_fetch_is_reported_as_a_local_error(
    tmp_path: Path, blob_store: tuple[Path, str]
) -> None:
    blobs, blake3 = blob_store
    with (
        small_tmpfs(tmp_path / "small-disk", "4m") as disk,
        HttpSeedServer(SeedStore(blobs)) as first,
        HttpSeedServer(SeedStore(blobs)) as second,
    ):
        fetcher = MultiSourceBlobFetcher(
            [HttpSeedTransport(first.url), HttpSeedTransport(second.url)]
        )
        with (
            (disk / "blob").open("w+b") as destination,
            pytest.raises(LocalStoreError) as raised,
        ):
            fetcher.fetch(blake3, BLOB_BYTES, destination)
        fetcher.close()
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value) == (
        f"blob {blake3[:12]}…: local I/O error while storing it "
        "(No space left on device); nothing was stored"
    )
    assert fetcher.dropped == {}  # no seed is blamed for the node's own disk
    assert fetcher.in_flight == 0


FILE_SIZE_LIMITED_FETCH = """
import resource, signal, sys
from pathlib import Path
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.seed_transport import LocalStoreError
from node_runtime.fetch.swarm import MultiSourceBlobFetcher

seed_url, blake3, length, destination = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, resource.RLIM_INFINITY))
fetcher = MultiSourceBlobFetcher([HttpSeedTransport(seed_url)])
try:
    with open(destination, "w+b") as stream:
        fetcher.fetch(blake3, length, stream)
except LocalStoreError as error:
    print(f"{error.errno} {error}; dropped={fetcher.dropped}; in flight={fetcher.in_flight}")
"""


def test_a_file_size_limit_hit_during_a_seed_fetch_is_reported_as_a_local_error(
    tmp_path: Path, blob_store: tuple[Path, str]
) -> None:
    blobs, blake3 = blob_store
    with HttpSeedServer(SeedStore(blobs)) as seed:
        arguments = [seed.url, blake3, str(BLOB_BYTES), str(tmp_path / "blob")]
        done = subprocess.run(
            [sys.executable, "-c", FILE_SIZE_LIMITED_FETCH, *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.stderr == ""
    assert done.stdout == (
        f"{errno.EFBIG} blob {blake3[:12]}…: local I/O error while storing it (File too large); "
        "nothing was stored; dropped={}; in flight=0\n"
    )


def test_a_lone_one_byte_per_second_seed_is_dropped_and_the_fetch_says_why(
    tmp_path: Path, blob_store: tuple[Path, str]
) -> None:
    blobs, blake3 = blob_store
    with MisbehavingSeed(blobs, "trickle") as trickler:
        fetcher = MultiSourceBlobFetcher([HttpSeedTransport(trickler.url, stall_seconds=120)])
        with (
            (tmp_path / "blob").open("w+b") as destination,
            pytest.raises(BlobUnavailableError) as raised,
        ):
            fetcher.fetch(blake3, BLOB_BYTES, destination)
        fetcher.close()
    assert f"{trickler.url} dropped: too slow: " in str(raised.value)
    assert fetcher.in_flight == 0
