"""A simulated node: its trust state on disk, refreshing from one origin with one fetcher."""

from __future__ import annotations

from pathlib import Path

from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.tuf_client import Updater


class Node:
    """A node's trust state on disk, refreshing from one origin with one fetcher."""

    def __init__(self, directory: Path, root: bytes, origin: str, s3_endpoint: str | None) -> None:
        self.metadata_dir = directory / "metadata"
        self.target_dir = directory / "targets"
        self.metadata_dir.mkdir(parents=True)
        self.target_dir.mkdir()
        (self.metadata_dir / "root.json").write_bytes(root)
        self.metadata_url, self.targets_url = repository_urls(origin, s3_endpoint)
        self.fetcher = OriginFetcher(retry=RetryPolicy(attempts=3), sleep=lambda seconds: None)

    def refresh(self) -> Updater:
        updater = Updater(
            self.metadata_dir,
            self.metadata_url,
            self.target_dir,
            self.targets_url,
            fetcher=self.fetcher,
        )
        updater.refresh()
        return updater

    def catalog(self) -> bytes:
        updater = self.refresh()
        info = updater.get_targetinfo("app-catalog.json")
        assert info is not None
        return updater.download_target(info).read_bytes()
