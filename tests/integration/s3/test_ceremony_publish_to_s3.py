"""The ceremony's publish (pipeline.publish) writing through an S3Origin to SeaweedFS."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.publish.layout import MARKER_PATH
from pipeline.publish.origin import OriginError, PublishConflictError
from pipeline.publish.s3_origin import S3Origin
from pipeline.publish.signed_repository import refresh_timestamp
from tests.integration.publish.test_file_publish import signed_event
from tests.integration.s3.node import Node
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.ceremony_setup import NOW, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp

pytestmark = pytest.mark.integration


@pytest.fixture
def ceremony(tmp_path: Path) -> ThrowawayCeremony:
    return make_ceremony(tmp_path / "ceremony")


class WritesAfterBothHaveRead(S3Origin):
    """A real S3 origin that holds its timestamp write until the other publisher is there too.

    Both publishers have read the origin's state by then, so the race is real
    every time instead of depending on thread scheduling.
    """

    def __init__(self, origin: S3Origin, both_ready: threading.Barrier) -> None:
        super().__init__(origin.location, origin._client)
        self._both_ready = both_ready

    def replace(self, path: str, data: bytes) -> None:
        self._both_ready.wait()
        super().replace(path, data)


def _origin(seaweedfs: SeaweedFS, url: str) -> S3Origin:
    return S3Origin.from_url(url, seaweedfs.endpoint_url, seaweedfs.session())


def test_a_signing_event_published_to_s3_is_pulled_by_a_node(
    seaweedfs: SeaweedFS, bucket: str, ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/repo"
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    report = publish_signing_event(
        ceremony.state,
        event.event_id,
        tmp_path / "dist",
        _origin(seaweedfs, url),
        ceremony.online,
        NOW,
    )
    assert report.written[-1] == "metadata/timestamp.json"
    keys = seaweedfs.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert f"repo/{MARKER_PATH}" in {item["Key"] for item in keys}

    root = seaweedfs.client().get_object(Bucket=bucket, Key="repo/metadata/1.root.json")
    node = Node(tmp_path / "node", root["Body"].read(), url, seaweedfs.endpoint_url)
    assert b"demo-web" in node.catalog()

    refreshed = refresh_timestamp(
        _origin(seaweedfs, url), ceremony.online, NOW, timedelta(days=7), timedelta(days=1)
    )
    assert refreshed.written == ["metadata/timestamp.json"]
    node.refresh()


def test_two_concurrent_timestamp_refreshes_exactly_one_wins(
    seaweedfs: SeaweedFS, bucket: str, ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    url = f"s3://{bucket}"
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state,
        event.event_id,
        tmp_path / "dist",
        _origin(seaweedfs, url),
        ceremony.online,
        NOW,
    )
    both_ready = threading.Barrier(2, timeout=60)
    origins = [WritesAfterBothHaveRead(_origin(seaweedfs, url), both_ready) for _ in range(2)]
    outcomes: list[str] = []

    def refresh(origin: S3Origin, hours: int) -> None:
        try:
            refresh_timestamp(
                origin,
                ceremony.online,
                NOW + timedelta(hours=hours),
                timedelta(days=7),
                timedelta(days=1),
            )
            outcomes.append("won")
        except PublishConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=refresh, args=(o, h)) for h, o in enumerate(origins, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "won"]
    timestamp = seaweedfs.client().get_object(Bucket=bucket, Key="metadata/timestamp.json")
    assert b'"version":2' in timestamp["Body"].read()


def test_the_ceremony_publish_refuses_a_prefix_that_is_not_ours(
    seaweedfs: SeaweedFS, bucket: str, ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    seaweedfs.client().put_object(Bucket=bucket, Key="photos/cat.jpg", Body=b"meow")
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    with pytest.raises(OriginError, match="not an Archipelago repository"):
        publish_signing_event(
            ceremony.state,
            event.event_id,
            tmp_path / "dist",
            _origin(seaweedfs, f"s3://{bucket}/photos"),
            ceremony.online,
            NOW,
        )
    listing = seaweedfs.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listing] == ["photos/cat.jpg"]
