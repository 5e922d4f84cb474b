"""An origin in S3-compatible object storage, ``s3://BUCKET/PREFIX`` (DESIGN §6).

The layout is the file origin's (:mod:`pipeline.publish.layout`) under the
prefix.  Every file but the mutable ones (``metadata/timestamp.json`` and the
storefront) is immutable: created with ``If-None-Match: *`` (never
overwritten), with its BLAKE3 and length kept in object metadata so a later
publish skips it without reading it back.  ``timestamp.json`` is replaced with
``If-Match`` on the ETag of this origin's first read of it (``If-None-Match:
*`` when it was absent), so of two concurrent publishers exactly one wins.
Immutable objects get long cache headers, the timestamp a short one.

A prefix is ours when it holds the marker ``.archy-repository``; before its
first write an ``S3Origin`` checks that, claims an empty prefix by writing the
marker first, and refuses a non-empty prefix without it.

Public API: ``S3Origin(location, client)`` / ``S3Origin.from_url(url,
endpoint_url, session)`` — a :class:`pipeline.publish.origin.Origin`;
``publish_to_s3(files, url, endpoint_url, session, on_progress)`` (plan and
execute a publish of a built repository); ``content_type(path)``,
``cache_control(path)`` and the header and size constants.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from catalog.address import blake3_hex
from pipeline.publish.layout import (
    MARKER_BYTES,
    MARKER_PATH,
    TIMESTAMP_PATH,
    is_mutable,
    is_storefront,
)
from pipeline.publish.origin import (
    MAX_TIMESTAMP_BYTES,
    OriginError,
    PublishConflictError,
    StoredObject,
    no_progress,
)
from pipeline.publish.s3_client import (
    MISSING_CODES,
    S3Location,
    error_code,
    failure,
    is_precondition_failure,
    parse_s3_url,
    s3_client,
)
from pipeline.publish.upload_executor import PublishResult, execute_plan
from pipeline.publish.upload_planner import plan_publish

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
TIMESTAMP_CACHE_CONTROL = "public, max-age=30"
STOREFRONT_CACHE_CONTROL = "public, max-age=300"
MARKER_CACHE_CONTROL = "no-cache"

MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_PART_SIZE = 8 * 1024 * 1024
MAX_READ_BYTES = 64 * 1024 * 1024  # metadata read back by the ceremony's publish

_CONTENT_TYPES = {
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".tar": "application/x-tar",
}


def content_type(path: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(path).suffix, "application/octet-stream")


def cache_control(path: str) -> str:
    if path == TIMESTAMP_PATH:
        return TIMESTAMP_CACHE_CONTROL
    if is_storefront(path):
        return STOREFRONT_CACHE_CONTROL
    if path == MARKER_PATH:
        return MARKER_CACHE_CONTROL
    return IMMUTABLE_CACHE_CONTROL


class S3Origin:
    """One repository under ``s3://BUCKET/PREFIX``, reached with a boto3 client.

    Use one instance per publish: it remembers the ETag of the *first* read of
    each mutable file (the state the publish started from), and ``replace``
    writes only if the object still has that ETag.  Before its first write it
    checks that the prefix is ours (or empty, and then writes the marker first).
    """

    def __init__(self, location: S3Location, client: Any) -> None:
        self.location = location
        self._client = client
        self._ours: bool | None = None  # None: not checked yet
        self._starting_etags: dict[str, str | None] = {}  # mutable path → ETag (None: absent)

    @classmethod
    def from_url(
        cls,
        url: str,
        endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
    ) -> S3Origin:
        return cls(parse_s3_url(url), s3_client(endpoint_url, session))

    def describe(self, path: str = "") -> str:
        return self.location.url(path)

    def _refusal(self, action: str, path: str, error: Exception) -> OriginError:
        return failure(self.describe(path), action, self.location.bucket, error)

    def ensure_ours(self) -> bool:
        """True when the prefix holds our marker, False when empty; refuse anything else."""
        if self._ours is not None:
            return self._ours
        bucket = self.location.bucket
        try:
            self._client.head_bucket(Bucket=bucket)
        except ClientError as error:
            if error_code(error) in (*MISSING_CODES, "NoSuchBucket"):
                raise OriginError(f"bucket {bucket!r} does not exist") from None
            raise self._refusal("open the bucket", "", error) from None
        except BotoCoreError as error:
            raise self._refusal("open the bucket", "", error) from None
        if self.stat(MARKER_PATH) is not None:
            self._ours = True
            return True
        list_prefix = f"{self.location.prefix}/" if self.location.prefix else ""
        try:
            listing = self._client.list_objects_v2(Bucket=bucket, Prefix=list_prefix, MaxKeys=1)
        except (ClientError, BotoCoreError) as error:
            raise self._refusal("list the prefix", "", error) from None
        if listing.get("KeyCount", len(listing.get("Contents", []))):
            raise OriginError(
                f"{self.describe()} is not empty and has no {MARKER_PATH} marker: it is not an "
                "Archipelago repository; publish to an empty prefix"
            )
        self._ours = False
        return False

    def _before_write(self, path: str) -> None:
        """Refuse a prefix that is not ours; claim an empty one with the marker first."""
        if self.ensure_ours() or path == MARKER_PATH:
            return
        self.create(MARKER_PATH, MARKER_BYTES)

    def _read_request(self, path: str, request: Callable[..., Any]) -> Any | None:
        """One read of ``path`` (``head_object`` or ``get_object``): the answer, or None when
        there is no such object; any other failure is a one-line refusal."""
        try:
            return request(Bucket=self.location.bucket, Key=self.location.key(path))
        except ClientError as error:
            if error_code(error) in MISSING_CODES:
                return None
            raise self._refusal("read", path, error) from None
        except BotoCoreError as error:
            raise self._refusal("read", path, error) from None

    def stat(self, path: str) -> StoredObject | None:
        head = self._read_request(path, self._client.head_object)
        if head is None:
            return None
        metadata = head.get("Metadata", {})
        return StoredObject(int(head["ContentLength"]), metadata.get("blake3"), head["ETag"])

    def read(self, path: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        limit = MAX_TIMESTAMP_BYTES if is_mutable(path) else MAX_READ_BYTES
        found = self.read_with_etag(path, limit)
        return None if found is None else found[0]

    def read_with_etag(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None; remembers the first ETag of a mutable file."""
        found = self._get(path, max_length)
        if is_mutable(path) and path not in self._starting_etags:
            self._starting_etags[path] = None if found is None else found[1]
        return found

    def _get(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        answer = self._read_request(path, self._client.get_object)
        if answer is None:
            return None
        with answer["Body"] as body:
            if int(answer.get("ContentLength", 0)) > max_length:
                raise OriginError(f"{self.describe(path)}: larger than {max_length} bytes")
            data: bytes = body.read(max_length + 1)
        if len(data) > max_length:
            raise OriginError(f"{self.describe(path)}: larger than {max_length} bytes")
        return data, str(answer["ETag"])

    def _object_arguments(self, path: str, data: bytes) -> dict[str, Any]:
        return {
            "Bucket": self.location.bucket,
            "Key": self.location.key(path),
            "ContentType": content_type(path),
            "CacheControl": cache_control(path),
            "Metadata": {"blake3": blake3_hex(data), "length": str(len(data))},
        }

    def create(
        self, path: str, data: bytes, on_progress: Callable[[int], None] = no_progress
    ) -> bool:
        """Create ``path`` if absent (``If-None-Match: *``); False if it already existed."""
        self._before_write(path)
        try:
            if len(data) >= MULTIPART_THRESHOLD:
                self._create_multipart(path, data, on_progress)
            else:
                self._client.put_object(
                    **self._object_arguments(path, data), Body=data, IfNoneMatch="*"
                )
                on_progress(len(data))
        except ClientError as error:
            if is_precondition_failure(error):
                return False
            raise self._refusal("upload", path, error) from None
        except BotoCoreError as error:
            raise self._refusal("upload", path, error) from None
        if path == MARKER_PATH:
            self._ours = True
        return True

    def _create_multipart(self, path: str, data: bytes, on_progress: Callable[[int], None]) -> None:
        arguments = self._object_arguments(path, data)
        upload_id = self._client.create_multipart_upload(**arguments)["UploadId"]
        where = {"Bucket": arguments["Bucket"], "Key": arguments["Key"], "UploadId": upload_id}
        try:
            parts = []
            for number, start in enumerate(range(0, len(data), MULTIPART_PART_SIZE), start=1):
                chunk = data[start : start + MULTIPART_PART_SIZE]
                part = self._client.upload_part(**where, PartNumber=number, Body=chunk)
                parts.append({"PartNumber": number, "ETag": part["ETag"]})
                on_progress(len(chunk))
            self._client.complete_multipart_upload(
                **where, MultipartUpload={"Parts": parts}, IfNoneMatch="*"
            )
        except BaseException:
            # The store expires abandoned uploads; the original error is what matters.
            with contextlib.suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(**where)
            raise

    def replace(self, path: str, data: bytes) -> None:
        """Write a mutable file only if it is still as this publish first read it.

        ``If-Match`` on the ETag of the first read (``If-None-Match: *`` if it
        was absent); a file never read before is read now.  Of two publishers
        that started from the same timestamp, exactly one gets through.
        """
        if path not in self._starting_etags:
            self.read_with_etag(path, MAX_TIMESTAMP_BYTES)
        expected_etag = self._starting_etags[path]
        self._before_write(path)
        condition = {"IfNoneMatch": "*"} if expected_etag is None else {"IfMatch": expected_etag}
        try:
            answer = self._client.put_object(
                **self._object_arguments(path, data), Body=data, **condition
            )
        except ClientError as error:
            if is_precondition_failure(error) or error_code(error) == "NoSuchKey":
                # A retried request whose first attempt landed also ends here.
                current = self._get(path, MAX_TIMESTAMP_BYTES)
                if current is not None and current[0] == data:
                    self._starting_etags[path] = current[1]
                    return
                raise PublishConflictError(
                    f"{self.describe(path)} was changed by another publisher since this publish "
                    "started: rebuild on top of the origin's current timestamp and retry"
                ) from None
            raise self._refusal("upload", path, error) from None
        except BotoCoreError as error:
            raise self._refusal("upload", path, error) from None
        self._starting_etags[path] = str(answer["ETag"])

    def overwrite(self, path: str, data: bytes) -> None:
        """Unconditional write, for files no trust decision depends on (the storefront)."""
        self._before_write(path)
        try:
            self._client.put_object(**self._object_arguments(path, data), Body=data)
        except (ClientError, BotoCoreError) as error:
            raise self._refusal("upload", path, error) from None


def publish_to_s3(
    files: Mapping[str, bytes],
    url: str,
    endpoint_url: str | None = None,
    session: boto3.session.Session | None = None,
    on_progress: Callable[[int], None] = no_progress,
) -> PublishResult:
    """Publish a built repository (``{path: bytes}``) to ``s3://BUCKET/PREFIX``."""
    origin = S3Origin.from_url(url, endpoint_url, session)
    return execute_plan(origin, plan_publish(origin, files), on_progress)
