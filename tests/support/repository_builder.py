"""Signed repositories to publish: built with our repository side, read as {path: bytes}."""

from __future__ import annotations

from pathlib import Path

from pipeline.publish.upload_planner import read_repository_dir
from tests.support.repos import LiveRepository


class RepositoryBuilder:
    """A repository that grows one version at a time, like CI publishing merges."""

    def __init__(self, directory: Path) -> None:
        self.repository = LiveRepository(directory)
        self.artifact_count = 0

    @property
    def directory(self) -> Path:
        return self.repository.directory

    @property
    def root_bytes(self) -> bytes:
        return self.repository.root_bytes(1)

    def add_catalog(self, text: str = "", size: int = 0) -> str:
        """A new app-catalog.json target (and a new version of every role)."""
        self.artifact_count += 1
        body = (text or f'{{"apps":{self.artifact_count}}}').encode()
        if size:
            body = body + b" " * (size - len(body))
        self.repository.add_artifact("app-catalog.json", body)
        self.repository.publish()
        return "app-catalog.json"

    def files(self) -> dict[str, bytes]:
        return read_repository_dir(self.directory)

    def timestamp_version(self) -> int:
        assert self.repository.timestamp is not None
        return self.repository.timestamp.signed.version

    # --- alternative futures, for publishers racing from the same base ---

    def _state(self) -> tuple[object, ...]:
        r = self.repository
        return (
            dict(r.unsigned_targets),
            dict(r.targets),
            list(r.artifacts),
            r.snapshot,
            r.timestamp,
            list(r.roots),
            r.directory,
        )

    def _restore(self, state: tuple[object, ...]) -> None:
        r = self.repository
        (
            r.unsigned_targets,
            r.targets,
            r.artifacts,
            r.snapshot,
            r.timestamp,
            r.roots,
            r.directory,
        ) = state  # type: ignore[assignment]

    def candidate(self, text: str, directory: Path) -> tuple[dict[str, bytes], tuple[object, ...]]:
        """The next version with one more catalog, written to ``directory``; self is unchanged."""
        before = self._state()
        self.repository.directory = directory
        self.add_catalog(text)
        files, after = self.files(), self._state()
        self._restore(before)
        return files, after

    def adopt(self, state: tuple[object, ...]) -> None:
        """Continue from a candidate's state (the one that was published)."""
        self._restore(state)
