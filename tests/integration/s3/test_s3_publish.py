"""`archy publish --to s3://…` against a real store (SeaweedFS)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.address import blake3_hex
from pipeline.cli import main as archy
from pipeline.publish import s3_origin
from pipeline.publish.layout import MARKER_PATH, publish_order
from pipeline.publish.origin import PublishConflictError, PublishError
from pipeline.publish.s3_origin import (
    IMMUTABLE_CACHE_CONTROL,
    TIMESTAMP_CACHE_CONTROL,
    S3Origin,
    publish_to_s3,
)
from pipeline.publish.upload_planner import plan_publish, read_repository_dir
from tests.integration.s3.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS
from tests.support.repository_builder import RepositoryBuilder

pytestmark = pytest.mark.integration


def _keys(seaweedfs: SeaweedFS, bucket: str, prefix: str = "") -> set[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture
def builder(tmp_path: Path) -> RepositoryBuilder:
    return RepositoryBuilder(tmp_path / "repository")


def test_publish_order_puts_targets_first_and_timestamp_last() -> None:
    paths = [
        "index.html",
        "metadata/timestamp.json",
        "metadata/2.snapshot.json",
        "metadata/1.root.json",
        "metadata/2.targets.json",
        "targets/abc.app-catalog.json",
        "targets/icons/def.x.svg",
    ]
    assert publish_order(paths) == [
        "targets/abc.app-catalog.json",
        "targets/icons/def.x.svg",
        "metadata/2.targets.json",
        "metadata/2.snapshot.json",
        "metadata/1.root.json",
        "metadata/timestamp.json",
        "index.html",
    ]


def test_first_publish_uploads_everything_with_headers_and_marker(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    builder.add_catalog()
    files = builder.files()
    result = publish_to_s3(
        files, f"s3://{bucket}/repo", seaweedfs.endpoint_url, seaweedfs.session()
    )
    assert set(result.uploaded) == {*files, MARKER_PATH}
    assert _keys(seaweedfs, bucket) == {f"repo/{path}" for path in [*files, MARKER_PATH]}
    s3 = seaweedfs.client()
    catalog_key = next(p for p in files if p.endswith(".app-catalog.json"))
    head = s3.head_object(Bucket=bucket, Key=f"repo/{catalog_key}")
    assert head["CacheControl"] == IMMUTABLE_CACHE_CONTROL
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {
        "blake3": blake3_hex(files[catalog_key]),
        "length": str(len(files[catalog_key])),
    }
    timestamp = s3.head_object(Bucket=bucket, Key="repo/metadata/timestamp.json")
    assert timestamp["CacheControl"] == TIMESTAMP_CACHE_CONTROL


def test_republishing_skips_what_is_there_and_uploads_only_the_change(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    url = f"s3://{bucket}/repo"
    publish_to_s3(builder.files(), url, seaweedfs.endpoint_url, seaweedfs.session())
    again = publish_to_s3(builder.files(), url, seaweedfs.endpoint_url, seaweedfs.session())
    assert again.uploaded == ()
    builder.add_catalog('{"apps":"changed"}')
    changed = publish_to_s3(builder.files(), url, seaweedfs.endpoint_url, seaweedfs.session())
    assert changed.uploaded == (
        next(p for p in changed.uploaded if p.startswith("targets/")),
        "metadata/2.targets.json",
        "metadata/2.snapshot.json",
        "metadata/timestamp.json",
    )
    assert changed.timestamp_version == 2


def test_large_artifacts_are_uploaded_in_parts(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_origin, "MULTIPART_THRESHOLD", 6 * 1024 * 1024)
    monkeypatch.setattr(s3_origin, "MULTIPART_PART_SIZE", 5 * 1024 * 1024)
    builder.add_catalog(size=11 * 1024 * 1024)
    files = builder.files()
    sent: list[int] = []
    publish_to_s3(files, f"s3://{bucket}", seaweedfs.endpoint_url, seaweedfs.session(), sent.append)
    catalog_key = next(p for p in files if p.endswith(".app-catalog.json"))
    s3 = seaweedfs.client()
    head = s3.head_object(Bucket=bucket, Key=catalog_key)
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three parts
    assert head["Metadata"]["blake3"] == blake3_hex(files[catalog_key])
    assert s3.get_object(Bucket=bucket, Key=catalog_key)["Body"].read() == files[catalog_key]
    assert sum(sent) == sum(len(data) for data in files.values()) + len(s3_origin.MARKER_BYTES)


def test_dry_run_lists_the_uploads_and_writes_nothing(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    result = CliRunner().invoke(
        archy,
        [
            "publish-s3",
            str(builder.directory),
            "--to",
            f"s3://{bucket}/repo",
            "--endpoint-url",
            seaweedfs.endpoint_url,
            "--dry-run",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "would upload  metadata/timestamp.json" in result.output
    assert f"would upload  {MARKER_PATH}" in result.output
    assert _keys(seaweedfs, bucket) == set()


def test_the_command_publishes_with_credentials_from_the_environment(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    arguments = [str(builder.directory), "--to", f"s3://{bucket}/repo"]
    arguments += ["--endpoint-url", seaweedfs.endpoint_url]
    result = CliRunner().invoke(archy, ["publish-s3", *arguments])
    assert result.exit_code == 0, result.output
    assert "timestamp version 1" in result.output
    assert f"repo/{MARKER_PATH}" in _keys(seaweedfs, bucket)


def _refused(arguments: list[str]) -> str:
    result = CliRunner().invoke(archy, ["publish-s3", *arguments])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert SECRET_KEY not in result.output
    return lines[0]


def test_bad_credentials_are_refused_with_nothing_written(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    message = _refused(
        [str(builder.directory), "--to", f"s3://{bucket}", "--endpoint-url", seaweedfs.endpoint_url]
    )
    assert "access denied" in message and "credentials" in message
    assert "not-the-secret" not in message
    assert _keys(seaweedfs, bucket) == set()


def test_missing_credentials_are_refused(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    message = _refused(
        [str(builder.directory), "--to", f"s3://{bucket}", "--endpoint-url", seaweedfs.endpoint_url]
    )
    assert "no AWS credentials" in message
    assert _keys(seaweedfs, bucket) == set()


def test_a_missing_bucket_is_refused(
    seaweedfs: SeaweedFS, builder: RepositoryBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    message = _refused(
        [
            str(builder.directory),
            "--to",
            "s3://no-such-bucket/repo",
            "--endpoint-url",
            seaweedfs.endpoint_url,
        ]
    )
    assert message == "error: bucket 'no-such-bucket' does not exist"
    names = {b["Name"] for b in seaweedfs.client().list_buckets()["Buckets"]}
    assert "no-such-bucket" not in names


def test_a_prefix_that_is_not_ours_is_refused_with_nothing_written(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    seaweedfs.client().put_object(Bucket=bucket, Key="repo/someone-elses.txt", Body=b"hello")
    with pytest.raises(PublishError, match=r"not empty and has no \.archy-repository marker"):
        publish_to_s3(
            builder.files(), f"s3://{bucket}/repo", seaweedfs.endpoint_url, seaweedfs.session()
        )
    assert _keys(seaweedfs, bucket) == {"repo/someone-elses.txt"}
    # A sibling prefix is a different repository and may be used.
    publish_to_s3(
        builder.files(), f"s3://{bucket}/repo2", seaweedfs.endpoint_url, seaweedfs.session()
    )


def test_the_timestamp_version_never_goes_backwards(
    seaweedfs: SeaweedFS, bucket: str, builder: RepositoryBuilder
) -> None:
    url = f"s3://{bucket}"
    old_files = builder.files()
    builder.add_catalog()
    publish_to_s3(builder.files(), url, seaweedfs.endpoint_url, seaweedfs.session())
    before = _keys(seaweedfs, bucket)
    with pytest.raises(PublishConflictError, match="at version 2; this publish has version 1"):
        publish_to_s3(old_files, url, seaweedfs.endpoint_url, seaweedfs.session())
    assert _keys(seaweedfs, bucket) == before


def test_bad_input_is_refused_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="not an s3:// URL"):
        S3Origin.from_url("https://bucket/prefix")
    with pytest.raises(PublishError, match="not a valid bucket name"):
        S3Origin.from_url("s3://Bad_Bucket/prefix")
    with pytest.raises(PublishError, match=r"no metadata/timestamp\.json"):
        read_repository_dir(tmp_path)
    with pytest.raises(PublishError, match="nothing to publish"):
        plan_publish(S3Origin.from_url("s3://bucket"), {"targets/x": b""})
