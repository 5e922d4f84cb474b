"""Attacks on the HTTP seed, over real sockets on 127.0.0.1: idle and half-sent connections
by the thousand, a trickled request head, connections beyond the cap, heads too big, and
Range headers with thousands of digits.  Each is answered with a status and a close; none
costs a thread per connection or prints a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.address import blake3_hex
from node_runtime.fetch.http_seed import HttpSeedTransport
from node_runtime.fetch.seed_protocol import ProtocolError, parse_http_range
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.seed.bounded_http import HttpLimits
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore

BLOB = b"the blob a normal client wants" * 1000
TOKEN = "a-token-of-enough-length"


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait on a condition the server exposes (checked every 10 ms), never a fixed sleep."""
    give_up = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < give_up, f"gave up waiting: {what}"
        pause.wait(0.01)


def read_until_closed(connection: socket.socket) -> bytes:
    connection.settimeout(60)
    answer = b""
    while chunk := connection.recv(65536):
        answer += chunk
    return answer


@pytest.fixture
def blobs(tmp_path: Path) -> Path:
    directory = tmp_path / "blobs"
    directory.mkdir()
    (directory / blake3_hex(BLOB)).write_bytes(BLOB)
    return directory


def seed(blobs: Path, **limits: Any) -> HttpSeedServer:
    return HttpSeedServer(SeedStore(blobs), upload_token=TOKEN, limits=HttpLimits(**limits))  # type: ignore[arg-type]


@pytest.fixture
def attackers() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for connection in opened:
        connection.close()


def connect(
    server: HttpSeedServer, attackers: list[socket.socket], send: bytes = b""
) -> socket.socket:
    port = server.http.server_address[1]
    connection = socket.create_connection(("127.0.0.1", port))
    attackers.append(connection)
    if send:
        connection.sendall(send)
    return connection


def test_a_thousand_idle_and_half_sent_connections_hold_no_thread_and_a_client_gets_its_blob(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    threads_before = threading.active_count()
    with seed(blobs) as server:
        for index in range(1000):
            half_sent = b"GET /blobs/" + blake3_hex(BLOB).encode() + b" HTTP/1.1\r\nHost: x\r\n"
            connect(server, attackers, half_sent if index % 2 else b"")
        wait_until(lambda: server.http.waiting_for_heads == 1000, "the server holds 1,000 heads")
        assert threading.active_count() - threads_before <= server.http.thread_bound
        answer = httpx.get(f"{server.url}/blobs/{blake3_hex(BLOB)}", timeout=30)
        assert answer.status_code == 200
        assert answer.content == BLOB
        assert threading.active_count() - threads_before <= server.http.thread_bound
        assert server.http.waiting_for_heads >= 1000  # the attackers are still connected


def test_a_client_still_gets_in_when_idle_connections_fill_the_cap(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, max_connections=8) as server:
        idle = [connect(server, attackers) for _ in range(8)]
        wait_until(lambda: server.http.waiting_for_heads == 8, "the cap is full of idle clients")
        answer = httpx.get(f"{server.url}/blobs/{blake3_hex(BLOB)}", timeout=30)
        assert answer.status_code == 200
        assert answer.content == BLOB
        oldest = read_until_closed(idle[0])
    assert oldest == b""  # it sent nothing: closed without an answer
    assert server.http.idle_closed == 1


def test_a_half_sent_request_is_answered_408_and_closed_after_the_head_deadline(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, head_seconds=0.5) as server:
        sent = b"GET /blobs/x HTTP/1.1\r\nHost: x\r\n"
        answer = read_until_closed(connect(server, attackers, sent))
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"no whole request within 0.5 s" in answer
    assert server.http.refusals[408] == 1


def test_an_idle_connection_is_closed_after_the_head_deadline(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, head_seconds=0.5) as server:
        fresh = read_until_closed(connect(server, attackers))
        # a kept-alive connection, idle after its answer, is closed the same way
        kept = connect(server, attackers, b"HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = read_until_closed(kept)
    assert fresh == b""
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert server.http.idle_closed == 2


def test_a_request_head_trickled_a_byte_at_a_time_is_closed_at_the_head_deadline(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, head_seconds=1, io_seconds=1) as server:
        connection = connect(server, attackers)
        pace = threading.Event()
        try:  # the attack: one byte every 0.1 s, always inside any per-read timeout
            for byte in b"GET /blobs/x HTTP/1.1\r\n" + b"X-Slow: " + b"a" * 10_000:
                connection.send(bytes([byte]))
                pace.wait(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_connections_beyond_the_cap_get_503_and_are_closed_when_every_worker_is_busy(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, max_connections=1, workers=1) as server:
        # a half-sent upload body keeps the one worker reading
        busy_head = (
            f"PUT /blobs/{'0' * 64} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Length: 1000\r\n\r\nonly ten b"
        )
        connect(server, attackers, busy_head.encode())
        wait_until(lambda: server.http.answering == 1, "the worker is busy")
        beyond_the_cap = read_until_closed(connect(server, attackers))
        assert beyond_the_cap.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
        assert b"Retry-After: 1\r\n" in beyond_the_cap
        assert server.http.refusals[503] == 1


def test_a_whole_request_finding_every_worker_busy_gets_503(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    with seed(blobs, max_connections=4, workers=1) as server:
        busy_head = (
            f"PUT /blobs/{'0' * 64} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Length: 1000\r\n\r\n"
        )
        connect(server, attackers, busy_head.encode())
        wait_until(lambda: server.http.answering == 1, "the worker is busy")
        request = f"GET /blobs/{blake3_hex(BLOB)} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        answer = read_until_closed(connect(server, attackers, request))
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: a\r\n" % n for n in range(100)) + b"\r\n",
        b"GET /" + b"a" * 20_000,
    ],
    ids=["a 20 KB header", "100 header lines", "a 20 KB request line"],
)
def test_a_request_head_over_the_limits_gets_431(
    blobs: Path, attackers: list[socket.socket], head: bytes
) -> None:
    with seed(blobs) as server:
        answer = read_until_closed(connect(server, attackers, head))
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("bytes=0-" + "9" * 5000, 400),
        ("bytes=" + "9" * 5000 + "-", 400),
        ("bytes=-" + "9" * 30, 400),
        ("bytes=" + "1" * 20 + "-", 400),
        ("bytes=abc", 400),
        ("bytes=5-2", 400),
        ("bytes=-", 400),
        ("bytes=9999999999999999999-", 416),
    ],
    ids=[
        "5000-digit last",
        "5000-digit first",
        "30-digit suffix",
        "20 digits",
        "garbage",
        "backwards",
        "empty",
        "past the end",
    ],
)
def test_a_range_header_with_5000_digits_or_any_malformed_value_gets_400_never_a_traceback(
    blobs: Path, capfd: pytest.CaptureFixture[str], value: str, status: int
) -> None:
    with seed(blobs) as server:
        url = f"{server.url}/blobs/{blake3_hex(BLOB)}"
        answer = httpx.get(url, headers={"Range": value}, timeout=30)
        assert answer.status_code == status
        after = httpx.get(url, headers={"Range": "bytes=0-3"}, timeout=30)
        assert after.status_code == 206
        assert after.content == BLOB[:4]
    assert "Traceback" not in capfd.readouterr().err


@settings(max_examples=500, deadline=None)
@given(
    header=st.one_of(
        st.text(max_size=300),
        st.from_regex(r"bytes=[0-9]{0,40}-[0-9]{0,40}", fullmatch=True),
        st.from_regex(r"bytes=[0-9 ,-]{0,60}", fullmatch=True),
    ),
    total=st.integers(0, 1 << 40),
)
def test_any_range_header_gets_a_range_inside_the_blob_or_a_refusal(
    header: str, total: int
) -> None:
    try:
        answer = parse_http_range(header, total)
    except ProtocolError:  # 400 or 416: a refusal, never another exception
        return
    if answer is not None:
        offset, count = answer
        assert offset >= 0 and count >= 1 and offset + count <= total


def test_a_node_skips_a_seed_that_answers_503_for_that_blob_and_does_not_drop_it(
    blobs: Path, attackers: list[socket.socket], tmp_path: Path
) -> None:
    with seed(blobs, max_connections=1, workers=1) as busy, seed(blobs) as honest:
        hold = (
            f"PUT /blobs/{'0' * 64} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Length: 1000\r\n\r\n"
        )
        connect(busy, attackers, hold.encode())
        wait_until(lambda: busy.http.answering == 1, "the busy seed's worker is taken")
        fetcher = MultiSourceBlobFetcher(
            [HttpSeedTransport(busy.url), HttpSeedTransport(honest.url)], range_bytes=4096
        )
        with (tmp_path / "blob").open("w+b") as destination:
            report = fetcher.fetch(blake3_hex(BLOB), len(BLOB), destination)
        fetcher.close()
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert fetcher.dropped == {}
    assert busy.http.refusals[503] >= 1
    assert report.bytes_by_source.get(busy.url, 0) == 0


SEED_WITH_64_DESCRIPTORS = (
    "import resource, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)); "
    "from node_runtime.commands.seed import seed; seed(['serve', *sys.argv[1:]])"
)


def test_a_seed_out_of_file_descriptors_still_serves_a_client(
    blobs: Path, attackers: list[socket.socket]
) -> None:
    command = [sys.executable, "-c", SEED_WITH_64_DESCRIPTORS, "--store", str(blobs.parent)]
    with subprocess.Popen(
        [*command, "--no-iroh", "--http", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            base = line.split(": ", 1)[1].strip().removesuffix("/blobs/<blake3>")
            port = int(base.rsplit(":", 1)[1])
            for _ in range(200):  # far more than the 64 descriptors the seed may open
                attacker = socket.create_connection(("127.0.0.1", port))
                attacker.sendall(b"GET / HTTP/1.1\r\n")
                attackers.append(attacker)
            answer = httpx.get(f"{base}/blobs/{blake3_hex(BLOB)}", timeout=60)
            assert answer.status_code == 200
            assert answer.content == BLOB
            # the first attacker made room at once (not after its 10 s head deadline)
            first = read_until_closed(attackers[0])
            assert first.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
            assert first.endswith(b"\r\n\r\nmade room for a newer client\n")
            assert server.poll() is None
        finally:
            server.terminate()
