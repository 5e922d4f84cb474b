"""The storefront on an S3 origin (SeaweedFS): published after the timestamp, replaceable.

Storefront files are mutable: a later publish with other pages overwrites them
instead of refusing as it must for content-addressed targets and versioned
metadata; the index goes last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.layout import is_mutable, publish_order
from pipeline.publish.s3_origin import STOREFRONT_CACHE_CONTROL, publish_to_s3
from pipeline.publish.upload_planner import read_repository_dir
from pipeline.storefront.publish_step import publish_storefront
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.repos import make_repository, manifest_yaml


def test_the_publish_order_ends_with_the_storefront_and_its_index() -> None:
    paths = ["index.html", "store/apps/a.html", "metadata/timestamp.json",
             "targets/abc.app-catalog.json", "store/assets/store.css"]  # fmt: skip
    assert publish_order(paths) == [
        "targets/abc.app-catalog.json", "metadata/timestamp.json",
        "store/apps/a.html", "store/assets/store.css", "index.html",
    ]  # fmt: skip
    assert is_mutable("store/apps/a.html") and is_mutable("index.html")
    assert not is_mutable("targets/abc.app-catalog.json")


@pytest.mark.integration
def test_a_second_publish_replaces_the_storefront_on_s3(
    seaweedfs: SeaweedFS,
    bucket: str,
    tmp_path: Path,
) -> None:
    repository = make_repository(tmp_path / "repo", {"notes": manifest_yaml("notes")})
    origin = FileOrigin(repository.directory)
    root = repository.root_path.read_bytes()
    publish_storefront(origin, root, datetime.now(UTC))
    url = f"s3://{bucket}/repo"
    first = publish_to_s3(
        read_repository_dir(repository.directory), url, seaweedfs.endpoint_url,
        seaweedfs.session(),
    )  # fmt: skip
    assert first.uploaded[-1] == "index.html"
    assert "store/apps/notes.html" in first.uploaded

    repository.publish({"notes": manifest_yaml("notes", version="2.0.0")})
    publish_storefront(origin, root, datetime.now(UTC))
    second = publish_to_s3(
        read_repository_dir(repository.directory), url, seaweedfs.endpoint_url,
        seaweedfs.session(),
    )  # fmt: skip
    assert "store/apps/notes.html" in second.uploaded
    assert second.uploaded[-1] == "index.html"
    page = seaweedfs.client().get_object(Bucket=bucket, Key="repo/store/apps/notes.html")
    assert "2.0.0-r1" in page["Body"].read().decode()
    assert page["CacheControl"] == STOREFRONT_CACHE_CONTROL
