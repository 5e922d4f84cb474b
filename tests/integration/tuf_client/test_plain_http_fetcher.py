"""The conformance client's plain-http transport (http.client) against a real loopback server:
the same answers as the node's httpx origin, and no httpx in the ``tuf`` process."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_runtime.fetch.fetcher import (
    DownloadError,
    DownloadHTTPError,
    DownloadLengthError,
    RemoteFileNotFoundError,
    TransientDownloadError,
)
from node_runtime.fetch.http import HttpOrigin, fetcher_for
from node_runtime.fetch.plain_http import PlainHttpFetcher

BODY = b"0123456789" * 10_000  # 100 kB: several reads


class Answers(http.server.BaseHTTPRequestHandler):
    """/ok: BODY; /chunked: BODY without a length; /status/N: HTTP N; /silent: never answers."""

    def do_GET(self) -> None:
        if self.path == "/icons/a%20b%C3%A9.svg":
            self.path = "/ok"
        if self.path == "/ok":
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        elif self.path == "/chunked":
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BODY), 7000):
                piece = BODY[start : start + 7000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.startswith("/status/"):
            self.send_response(int(self.path.rsplit("/", 1)[1]))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/silent":
            self.server.release.wait()  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_fetcher_for_uses_the_plain_client_for_http_and_httpx_for_https() -> None:
    assert isinstance(fetcher_for("http://127.0.0.1:1/metadata/"), PlainHttpFetcher)
    https = fetcher_for("https://example.invalid/metadata/")
    assert isinstance(https, HttpOrigin)
    https.close()


def test_bodies_with_and_without_a_length_arrive_whole(origin: str) -> None:
    fetcher = PlainHttpFetcher()
    assert fetcher.download_bytes(f"{origin}/ok", len(BODY)) == BODY
    assert fetcher.download_bytes(f"{origin}/chunked", len(BODY)) == BODY
    # a target name with a space and a non-ASCII letter goes out percent-encoded, as httpx sends it
    assert fetcher.download_bytes(f"{origin}/icons/a bé.svg", len(BODY)) == BODY
    assert fetcher.download_bytes(f"{origin}/icons/a%20b%C3%A9.svg", len(BODY)) == BODY


def test_answers_are_refused_as_the_httpx_origin_refuses_them(origin: str) -> None:
    fetcher = PlainHttpFetcher()
    with pytest.raises(RemoteFileNotFoundError, match="HTTP 404"):
        fetcher.download_bytes(f"{origin}/status/404", 10)
    with pytest.raises(RemoteFileNotFoundError, match="HTTP 403"):
        fetcher.download_bytes(f"{origin}/status/403", 10)
    with pytest.raises(TransientDownloadError, match="HTTP 503"):
        fetcher.download_bytes(f"{origin}/status/503", 10)
    with pytest.raises(DownloadHTTPError, match="HTTP status 418"):
        fetcher.download_bytes(f"{origin}/status/418", 10)
    with pytest.raises(DownloadLengthError, match=f"{len(BODY)} bytes announced, at most 99"):
        fetcher.download_bytes(f"{origin}/ok", 99)
    with pytest.raises(DownloadLengthError, match="more than 99 bytes"):
        fetcher.download_bytes(f"{origin}/chunked", 99)


def test_a_silent_or_absent_server_is_a_transient_failure(origin: str) -> None:
    with pytest.raises(TransientDownloadError, match="timed out"):
        PlainHttpFetcher(timeout_seconds=0.3).download_bytes(f"{origin}/silent", 10)
    closed = origin.rsplit(":", 1)[0] + ":1"  # nothing listens on port 1
    with pytest.raises(TransientDownloadError):
        PlainHttpFetcher().download_bytes(f"{closed}/ok", 10)
    with pytest.raises(DownloadError, match="no host"):
        PlainHttpFetcher().download_bytes("http:///x", 10)


def test_other_schemes_go_to_the_httpx_origin(tmp_path: Path) -> None:
    (tmp_path / "target").write_bytes(BODY)
    with pytest.raises(DownloadError, match="not a plain http:// URL"):
        PlainHttpFetcher().download_bytes((tmp_path / "target").as_uri(), 10)
    with fetcher_for("http://127.0.0.1:1/metadata/") as fetcher:
        assert fetcher.download_bytes((tmp_path / "target").as_uri(), len(BODY)) == BODY
        with pytest.raises(RemoteFileNotFoundError):
            fetcher.download_bytes((tmp_path / "absent").as_uri(), 10)


def test_the_conformance_clients_fetches_never_import_httpx(origin: str) -> None:
    program = (
        "import sys\n"
        "import node_runtime.commands.tuf\n"
        "from node_runtime.fetch.http import fetcher_for\n"
        f"assert fetcher_for('{origin}/').download_bytes('{origin}/ok', {len(BODY)})\n"
        "loaded = [m for m, module in sys.modules.items() if module is not None]\n"
        "print(sorted(m for m in loaded if m.split('.')[0] in ('httpx', 'httpcore')))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "[]"
