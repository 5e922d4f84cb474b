"""The one set of TUF test fixtures: repositories served on 127.0.0.1, and the clients driving them.

Both servers are a ``ThreadingHTTPServer`` on a free loopback port in a
daemon thread (``LoopbackServer``):

- ``RepositoryServer(directory)`` serves a repository written to disk
  (``tests.support.repos.LiveRepository``, the publisher's file origin) and
  records every requested path in ``requests``;
- ``SimulatedRepositoryServer(repository)`` serves a python-tuf
  ``SimulatedRepository`` from memory (``tests.support.tuf_oracle``), which
  records the requests itself.

Fixtures, imported by the conftest of each folder that uses them:
``live_repo``, ``served_dir``, ``http_server``, ``client_dir`` (our client
against our repository side) and ``repo``, ``server``, ``client`` (the real
``archy-node tuf`` process, driven as the tuf-conformance CLI contract says,
against the python-tuf oracle).  ``assert_refusal_not_crash`` tells a
refusal (exit 1, one ``error:`` line) from a crash.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from tuf.api.metadata import Metadata

from tests.support.repos import LiveRepository
from tests.support.tuf_oracle import SimulatedRepository

ARCHY_NODE_TUF = [sys.executable, "-m", "node_runtime", "tuf"]


class LoopbackServer:
    """An HTTP server on 127.0.0.1 (a free port), serving from a thread until ``close``."""

    def __init__(
        self, handler: type[http.server.BaseHTTPRequestHandler] | functools.partial
    ) -> None:
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


class RepositoryServer(LoopbackServer):
    """A directory on disk over HTTP; every requested path is appended to ``requests``."""

    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        handler = functools.partial(
            type("Handler", (RecordingHandler,), {"requests": self.requests}),
            directory=str(directory),
        )
        super().__init__(handler)


class SimulatedRepositoryServer(LoopbackServer):
    """One SimulatedRepository on a loopback HTTP server."""

    def __init__(self, repository: SimulatedRepository) -> None:
        self.repository = repository
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = server.repository.fetch(self.path.lstrip("/"))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(Handler)
        self.metadata_url = f"{self.url}/metadata/"
        self.targets_url = f"{self.url}/targets/"


def assert_refusal_not_crash(returncode: int, stderr: str) -> None:
    """A refusal is exit 1 with one ``error: …`` line on stderr; anything else failing is a crash.

    An uncaught exception also exits 1, so the exit code alone cannot tell them apart.
    """
    assert "Traceback" not in stderr, f"the client crashed instead of refusing:\n{stderr}"
    if returncode == 1:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(("error: ", "Error: ")), (
            f"a refusal prints exactly one error line, got:\n{stderr}"
        )
        assert lines[0].split(": ", 1)[1].strip(), "the refusal line names no reason"


class ConformanceClient:
    """The client under test, driven exactly as the tuf-conformance CLI contract says."""

    def __init__(self, workdir: Path, server: SimulatedRepositoryServer) -> None:
        self.server = server
        self.metadata_dir = workdir / "metadata"
        self.target_dir = workdir / "targets"
        self.metadata_dir.mkdir()
        self.target_dir.mkdir()
        self.trusted_root_file = workdir / "initial_root.json"
        self.last_stderr = ""

    def _run(self, *args: str | Path) -> int:
        done = subprocess.run(
            [*ARCHY_NODE_TUF, *map(str, args)], capture_output=True, text=True, timeout=120
        )
        self.last_stderr = done.stderr
        assert_refusal_not_crash(done.returncode, done.stderr)
        return done.returncode

    def init(self, root_bytes: bytes | None = None) -> int:
        repo = self.server.repository
        self.trusted_root_file.write_bytes(root_bytes or repo.published["root"][0])
        return self._run("--metadata-dir", self.metadata_dir, "init", self.trusted_root_file)

    def refresh(self) -> int:
        return self._run(
            "--metadata-url",
            self.server.metadata_url,
            "--metadata-dir",
            self.metadata_dir,
            "refresh",
        )

    def download(self, *target_names: str) -> int:
        names: list[str] = []
        for name in target_names:
            names += ["--target-name", name]
        return self._run(
            "--metadata-url", self.server.metadata_url,
            "--metadata-dir", self.metadata_dir,
            *names,
            "--target-dir", self.target_dir,
            "--target-base-url", self.server.targets_url,
            "download",
        )  # fmt: skip

    # --- what the suite can observe ---

    def files(self) -> list[str]:
        return sorted(p.name for p in self.metadata_dir.iterdir())

    def stored(self, role: str) -> bytes | None:
        path = self.metadata_dir / f"{role}.json"
        return path.read_bytes() if path.exists() else None

    def version(self, role: str) -> int | None:
        data = self.stored(role)
        return None if data is None else Metadata.from_bytes(data).signed.version

    def downloaded(self) -> list[bytes]:
        """Every stored artifact's bytes, oldest first (as the suite reads them)."""
        files = [p for p in self.target_dir.rglob("*") if p.is_file()]
        return [p.read_bytes() for p in sorted(files, key=lambda p: p.stat().st_mtime_ns)]


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


@pytest.fixture
def repo() -> SimulatedRepository:
    return SimulatedRepository()


@pytest.fixture
def server(repo: SimulatedRepository) -> Iterator[SimulatedRepositoryServer]:
    running = SimulatedRepositoryServer(repo)
    yield running
    running.close()


@pytest.fixture
def client(tmp_path: Path, server: SimulatedRepositoryServer) -> ConformanceClient:
    return ConformanceClient(tmp_path, server)
