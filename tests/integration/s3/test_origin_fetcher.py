"""The node's origin fetcher: S3 (SeaweedFS), file and HTTP origins; retries, caps, 304."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from catalog.locations import origin_base_url
from node_runtime.fetch.fetcher import CHUNK_SIZE, DownloadError, DownloadLengthError
from node_runtime.fetch.fetcher import RemoteFileNotFoundError as NotFound
from node_runtime.fetch.http import OriginFetcher, Timeouts
from node_runtime.fetch.retry import RetryPolicy
from pipeline.publish.s3_origin import publish_to_s3
from tests.integration.s3.node import Node
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.repository_builder import RepositoryBuilder


@pytest.fixture
def builder(tmp_path: Path) -> RepositoryBuilder:
    return RepositoryBuilder(tmp_path / "repository")


# --- against the real store ---


@pytest.mark.integration
def test_a_node_refreshes_and_downloads_from_an_s3_origin(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, tmp_path: Path
) -> None:
    builder.add_catalog('{"apps":["bitcoin-core"]}')
    publish_to_s3(
        builder.files(), f"s3://{bucket}/repo", seaweedfs.endpoint_url, seaweedfs.session()
    )
    node = Node(
        tmp_path / "node", builder.root_bytes, f"s3://{bucket}/repo", seaweedfs.endpoint_url
    )
    assert node.catalog() == b'{"apps":["bitcoin-core"]}'

    builder.add_catalog('{"apps":["bitcoin-core","lnd"]}')
    publish_to_s3(
        builder.files(), f"s3://{bucket}/repo", seaweedfs.endpoint_url, seaweedfs.session()
    )
    assert node.catalog() == b'{"apps":["bitcoin-core","lnd"]}'


@pytest.mark.integration
def test_an_unchanged_timestamp_is_answered_304_with_no_body(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, tmp_path: Path
) -> None:
    origin = f"s3://{bucket}"
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())
    node = Node(tmp_path / "node", builder.root_bytes, origin, seaweedfs.endpoint_url)
    node.refresh()
    received_before = node.fetcher.stats.bytes_received

    node.refresh()  # nothing was published in between
    assert node.fetcher.stats.not_modified == 1
    assert node.fetcher.stats.bytes_received == received_before  # no body at all

    url = node.metadata_url + "timestamp.json"
    first = node.fetcher.fetch_if_changed(url, 16_384, None)
    assert first.data == builder.files()["metadata/timestamp.json"]
    assert node.fetcher.fetch_if_changed(url, 16_384, first.etag).not_modified

    builder.add_catalog()
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())
    changed = node.fetcher.fetch_if_changed(url, 16_384, first.etag)
    assert changed.data == builder.files()["metadata/timestamp.json"]
    assert changed.etag != first.etag
    node.refresh()
    assert node.fetcher.stats.not_modified == 2  # the new timestamp came back with a body


@pytest.mark.integration
def test_length_caps_hold_against_the_store(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    publish_to_s3(builder.files(), f"s3://{bucket}", seaweedfs.endpoint_url, seaweedfs.session())
    url = seaweedfs.public_url(bucket) + "/metadata/1.root.json"
    with OriginFetcher() as fetcher, pytest.raises(DownloadLengthError, match="announced"):
        fetcher.download_bytes(url, 10)
    assert fetcher.stats.bytes_received == 0


# --- a file origin ---


def test_a_node_reads_a_file_origin_with_conditional_timestamp(
    builder: RepositoryBuilder, tmp_path: Path
) -> None:
    builder.add_catalog('{"apps":"from disk"}')
    node = Node(tmp_path / "node", builder.root_bytes, str(builder.directory), None)
    assert node.catalog() == b'{"apps":"from disk"}'
    node.refresh()
    assert node.fetcher.stats.not_modified == 1
    with pytest.raises(NotFound):
        node.fetcher.download_bytes(node.metadata_url + "99.root.json", 100)


def test_origin_urls() -> None:
    assert (
        origin_base_url("s3://bucket/a/b/", "http://127.0.0.1:1") == "http://127.0.0.1:1/bucket/a/b"
    )
    assert origin_base_url("s3://bucket") == "https://bucket.s3.amazonaws.com"
    assert origin_base_url("https://example.org/repo/") == "https://example.org/repo"
    assert origin_base_url("/srv/repo") == "file:///srv/repo"
    with pytest.raises(ValueError, match="unsupported origin"):
        origin_base_url("ftp://host/repo")


# --- faults from a scripted HTTP server on loopback ---

Responder = Callable[[http.server.BaseHTTPRequestHandler, int], None]


class ScriptedServer:
    """A loopback HTTP server whose n-th request (from 1) is answered by ``respond``."""

    def __init__(self, respond: Responder) -> None:
        self.requests = 0
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with lock:
                    outer.requests += 1
                    number = outer.requests
                respond(self, number)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


StartServer = Callable[[Responder], ScriptedServer]


@pytest.fixture
def scripted() -> Iterator[StartServer]:
    servers: list[ScriptedServer] = []

    def start(respond: Responder) -> ScriptedServer:
        servers.append(ScriptedServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _send(handler: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"") -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_transient_errors_are_retried_with_backoff(scripted: StartServer) -> None:
    server = scripted(lambda h, n: _send(h, 503) if n <= 2 else _send(h, 200, b"finally"))
    waits: list[float] = []
    with OriginFetcher(retry=RetryPolicy(attempts=4), sleep=waits.append) as fetcher:
        assert fetcher.download_bytes(server.url + "/x", 100) == b"finally"
    assert server.requests == 3
    assert fetcher.stats.retries == 2
    assert len(waits) == 2 and 0.125 <= waits[0] <= 0.25 <= waits[1] <= 0.5


def test_retries_are_bounded(scripted: StartServer) -> None:
    server = scripted(lambda h, n: _send(h, 500))
    with (
        OriginFetcher(retry=RetryPolicy(attempts=3), sleep=lambda s: None) as fetcher,
        pytest.raises(DownloadError, match="gave up after 3 attempts"),
    ):
        fetcher.download_bytes(server.url + "/x", 100)
    assert server.requests == 3


def test_missing_files_are_not_retried(scripted: StartServer) -> None:
    server = scripted(lambda h, n: _send(h, 404))
    with OriginFetcher(sleep=lambda s: None) as fetcher, pytest.raises(NotFound):
        fetcher.download_bytes(server.url + "/metadata/2.root.json", 100)
    assert server.requests == 1


def test_a_dropped_connection_is_retried_from_the_start(
    scripted: StartServer, tmp_path: Path
) -> None:
    body = bytes(range(256)) * 1024

    def respond(handler: http.server.BaseHTTPRequestHandler, number: int) -> None:
        if number == 1:  # announce everything, send half, hang up
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
        else:
            _send(handler, 200, body)

    server = scripted(respond)
    with OriginFetcher(sleep=lambda s: None) as fetcher, (tmp_path / "out").open("w+b") as out:
        assert fetcher.download_to(server.url + "/blob", len(body), out) == len(body)
        out.seek(0)
        assert out.read() == body
    assert server.requests == 2


def test_an_endless_body_is_cut_at_the_cap(scripted: StartServer) -> None:
    def respond(handler: http.server.BaseHTTPRequestHandler, number: int) -> None:
        handler.send_response(200)  # no Content-Length: read until the server stops
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        try:
            while True:
                handler.wfile.write(b"x" * CHUNK_SIZE)
        except OSError:
            return  # the client hung up, as it should

    server = scripted(respond)
    cap = 3 * CHUNK_SIZE + 10
    with OriginFetcher() as fetcher, pytest.raises(DownloadLengthError, match="more than"):
        fetcher.download_bytes(server.url + "/endless", cap)
    assert cap < fetcher.stats.bytes_received <= cap + CHUNK_SIZE


def test_a_silent_server_times_out_and_is_given_up_on() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections (the kernel does), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/metadata/timestamp.json"
        fetcher = OriginFetcher(
            Timeouts(connect_seconds=1.0, read_seconds=0.2),
            RetryPolicy(attempts=2),
            sleep=lambda s: None,
        )
        with fetcher, pytest.raises(DownloadError, match="gave up after 2 attempts"):
            fetcher.download_bytes(url, 100)


def test_a_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]  # bound, not listening: connections are refused
        fetcher = OriginFetcher(retry=RetryPolicy(attempts=2), sleep=lambda s: None)
        with fetcher, pytest.raises(DownloadError, match="gave up after 2 attempts"):
            fetcher.download_bytes(f"http://127.0.0.1:{port}/x", 100)
        assert fetcher.stats.retries == 1
