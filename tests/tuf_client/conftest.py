"""Fixtures: a repository on disk, a real HTTP server on 127.0.0.1 serving it, a client dir."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from tests.tuf_client.live_repository import LiveRepository


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a directory and records every requested path."""

    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def translate_path(self, path: str) -> str:
        # Each URL segment names one file.  A decoded segment holding "/" or
        # other odd characters (role names like "../x") is looked up under its
        # fully quoted name, the way signing.repository names such files.
        raw = path.split("?", 1)[0].split("#", 1)[0]
        location = Path(self.directory)
        for segment in raw.split("/"):
            if not segment:
                continue
            decoded = unquote(segment)
            quoted = quote(decoded, safe="")
            if "/" in decoded or (location / quoted).exists():
                location = location / quoted
            elif decoded in (".", ".."):
                return str(Path(self.directory) / "refused")
            else:
                location = location / decoded
        return str(location)

    def log_message(self, format: str, *args: object) -> None:
        pass


class RepositoryServer:
    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        handler = functools.partial(
            type("Handler", (RecordingHandler,), {"requests": self.requests}),
            directory=str(directory),
        )
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def live_repo(tmp_path: Path) -> LiveRepository:
    return LiveRepository(tmp_path / "repository")


@pytest.fixture
def served_dir(tmp_path: Path) -> Path:
    path = tmp_path / "repository"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def http_server(served_dir: Path) -> Iterator[RepositoryServer]:
    server = RepositoryServer(served_dir)
    yield server
    server.close()


@pytest.fixture
def client_dir(tmp_path: Path) -> Path:
    path = tmp_path / "client"
    (path / "metadata").mkdir(parents=True)
    (path / "targets").mkdir()
    return path
