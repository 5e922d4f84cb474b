"""Cheap polls against SeaweedFS: the ETag kept in the node's state makes the next poll a 304.

Each refresh uses a new :class:`OriginFetcher` (as each ``archy-node pull`` is
a new process); only the conditional cache file carries over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node_runtime.fetch.conditional_cache import ConditionalCache
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.tuf_client import Updater
from pipeline.publish.s3_origin import publish_to_s3
from signing.errors import ExpiredMetadataError
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.repository_builder import RepositoryBuilder


class PollingNode:
    def __init__(self, directory: Path, root: bytes, origin: str, endpoint: str) -> None:
        self.metadata_dir = directory / "metadata"
        self.metadata_dir.mkdir(parents=True)
        (self.metadata_dir / "root.json").write_bytes(root)
        self.cache_file = directory / "state" / "origin-cache.json"
        self.metadata_url, _ = repository_urls(origin, endpoint)

    def poll(self, reference_time: datetime | None = None) -> OriginFetcher:
        """One refresh by a fresh process; returns its fetcher (for the counts)."""
        fetcher = OriginFetcher(
            retry=RetryPolicy(attempts=1), conditional_cache=ConditionalCache(self.cache_file)
        )
        self.last_fetcher = fetcher
        with fetcher:
            Updater(
                self.metadata_dir, self.metadata_url, fetcher=fetcher, reference_time=reference_time
            ).refresh()
        return fetcher


@pytest.mark.integration
def test_polls_of_an_unchanged_s3_origin_are_a_404_and_a_304(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    builder = RepositoryBuilder(tmp_path / "repository")
    builder.add_catalog()
    origin = f"s3://{bucket}/repo"
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())
    node = PollingNode(tmp_path / "node", builder.root_bytes, origin, seaweedfs.endpoint_url)
    first = node.poll()
    assert first.stats.not_modified == 0

    second = node.poll()
    assert (second.stats.requests, second.stats.not_modified) == (2, 1)  # 2.root.json, timestamp
    assert second.stats.bytes_received == 0

    builder.add_catalog()
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())
    third = node.poll()
    assert third.stats.not_modified == 0 and third.stats.bytes_received > 0
    assert (node.metadata_dir / "timestamp.json").read_bytes() == builder.files()[
        "metadata/timestamp.json"
    ]


@pytest.mark.integration
def test_an_expired_timestamp_answered_304_by_s3_is_refused(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    builder = RepositoryBuilder(tmp_path / "repository")
    builder.repository.add_artifact("app-catalog.json", b'{"apps":1}')
    builder.repository.publish(expires=datetime.now(UTC) + timedelta(days=1))
    origin = f"s3://{bucket}"
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())
    node = PollingNode(tmp_path / "node", builder.root_bytes, origin, seaweedfs.endpoint_url)
    node.poll()
    after_timestamp_expiry = datetime.now(UTC) + timedelta(days=2)  # root lives 30 days
    with pytest.raises(ExpiredMetadataError, match=r"^timestamp: expired, and the origin has no"):
        node.poll(after_timestamp_expiry)
    assert node.last_fetcher.stats.not_modified == 1
    assert node.last_fetcher.stats.requests == 2  # no snapshot was asked for
