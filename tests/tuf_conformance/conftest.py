"""Fixtures: a simulated repository on 127.0.0.1 and the real ``archy-node tuf`` process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata

from tests.tuf_conformance.simulated_repository import RepositoryServer, SimulatedRepository

ARCHY_NODE_TUF = [sys.executable, "-m", "node_runtime", "tuf"]


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

    def __init__(self, workdir: Path, server: RepositoryServer) -> None:
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
def repo() -> SimulatedRepository:
    return SimulatedRepository()


@pytest.fixture
def server(repo: SimulatedRepository) -> Iterator[RepositoryServer]:
    running = RepositoryServer(repo)
    yield running
    running.close()


@pytest.fixture
def client(tmp_path: Path, server: RepositoryServer) -> ConformanceClient:
    return ConformanceClient(tmp_path, server)
