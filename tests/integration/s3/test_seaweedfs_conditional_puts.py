"""The store honours the conditional writes the publisher relies on (DESIGN §6, §8)."""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError

from tests.integration.s3.seaweedfs import SeaweedFS

pytestmark = pytest.mark.integration


def _error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_if_none_match_star_creates_once(seaweedfs: SeaweedFS, bucket: str) -> None:
    s3 = seaweedfs.client()
    s3.put_object(Bucket=bucket, Key="metadata/1.snapshot.json", Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as refused:
        s3.put_object(
            Bucket=bucket, Key="metadata/1.snapshot.json", Body=b"second", IfNoneMatch="*"
        )
    assert _error_code(refused.value) == "PreconditionFailed"
    body = s3.get_object(Bucket=bucket, Key="metadata/1.snapshot.json")["Body"].read()
    assert body == b"first"


def test_if_match_replaces_only_the_version_that_was_read(
    seaweedfs: SeaweedFS, bucket: str
) -> None:
    s3 = seaweedfs.client()
    first = s3.put_object(Bucket=bucket, Key="metadata/timestamp.json", Body=b"v1")["ETag"]
    second = s3.put_object(Bucket=bucket, Key="metadata/timestamp.json", Body=b"v2", IfMatch=first)[
        "ETag"
    ]
    with pytest.raises(ClientError) as stale:
        s3.put_object(Bucket=bucket, Key="metadata/timestamp.json", Body=b"v2'", IfMatch=first)
    assert _error_code(stale.value) == "PreconditionFailed"
    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket=bucket, Key="metadata/absent.json", Body=b"x", IfMatch=second)
    assert _error_code(missing.value) in ("PreconditionFailed", "NoSuchKey")
    body = s3.get_object(Bucket=bucket, Key="metadata/timestamp.json")["Body"].read()
    assert body == b"v2"


def test_if_none_match_on_multipart_completion(seaweedfs: SeaweedFS, bucket: str) -> None:
    s3 = seaweedfs.client()
    key = "targets/companions/big.oci.tar"
    s3.put_object(Bucket=bucket, Key=key, Body=b"already here")
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)
    part = s3.upload_part(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
    )
    with pytest.raises(ClientError) as refused:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
            IfNoneMatch="*",
        )
    assert _error_code(refused.value) == "PreconditionFailed"
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"already here"


def test_two_concurrent_if_match_writers_exactly_one_wins(
    seaweedfs: SeaweedFS, bucket: str
) -> None:
    key = "metadata/timestamp.json"
    etag = seaweedfs.client().put_object(Bucket=bucket, Key=key, Body=b"base")["ETag"]
    clients = [seaweedfs.client(), seaweedfs.client()]
    start_together = threading.Barrier(2)
    outcomes: list[str] = []

    def write(index: int) -> None:
        start_together.wait()
        try:
            clients[index].put_object(
                Bucket=bucket, Key=key, Body=f"writer {index}".encode(), IfMatch=etag
            )
            outcomes.append("won")
        except ClientError as error:
            outcomes.append(_error_code(error))

    writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert sorted(outcomes) == ["PreconditionFailed", "won"]
