"""Publishing a repository to S3-compatible object storage (boto3), DESIGN §6.

The origin layout is the one a file origin has, under ``s3://BUCKET/PREFIX``.
A publish is planned first (every check and every refusal happens before the
first write), then executed in the publish order:

    marker → targets → targets metadata → snapshot → root → timestamp → storefront

so a node that refreshes at any moment sees the old complete repository or the
new one.  Every file but ``metadata/timestamp.json`` and the storefront
(``index.html``, ``store/…``) is immutable: created with ``If-None-Match: *``
(never overwritten), skipped when already present with the same length and
BLAKE3 (kept in object metadata).
``timestamp.json`` is replaced with ``If-Match`` on the ETag read when the
publish was planned (``If-None-Match: *`` for the first), so of two concurrent
publishers exactly one wins, and its version never goes backwards.

A prefix is ours when it holds the marker ``.archy-repository`` (written first
by the first publish); a non-empty prefix without it is refused.

Public API:

- ``S3Location`` / ``parse_s3_url(url)``; ``s3_client(endpoint_url, session)``;
- ``S3Origin(location, client)`` / ``S3Origin.from_url(url, endpoint_url,
  session)`` — ``ensure_ours()``, ``stat``, ``read``, ``read_with_etag``,
  ``create``, ``replace``, ``overwrite``.  It is also a
  :class:`pipeline.publish.file_origin.Origin`, so the ceremony's
  ``publish_targets`` / ``refresh_timestamp`` write through it unchanged
  (``replace`` is conditional on the ETag of the origin's first read);
- ``publish_order(paths)``, ``plan_publish(origin, files) -> PublishPlan``,
  ``execute_plan(origin, plan, on_progress) -> PublishResult``;
- ``publish_to_s3(files, url, endpoint_url=None, ...)`` — plan + execute;
- ``read_repository_dir(path) -> {relative path: bytes}``;
- ``publish_s3_command`` — the click command (``archy publish --to s3://…``);
- errors: ``PublishError`` (refused, with a one-line reason) and its
  subclass ``PublishConflictError`` (another publisher got there first:
  rebuild on top of the origin's current timestamp and retry).

Credentials come from the standard AWS chain (environment, profile files,
instance roles) and are never printed.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import boto3
import click
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from catalog.address import blake3_hex
from pipeline.publish.file_origin import OriginError
from pipeline.publish.layout import STOREFRONT_INDEX, is_storefront
from signing.errors import TufError
from signing.metadata import Metadata, Timestamp

MARKER_PATH = ".archy-repository"
MARKER_BYTES = b'{"archipelago-repository":1}\n'
TIMESTAMP_PATH = "metadata/timestamp.json"
STOREFRONT_PATH = STOREFRONT_INDEX
MUTABLE_PATHS = frozenset({TIMESTAMP_PATH, STOREFRONT_PATH})  # and every storefront file


def _mutable(path: str) -> bool:
    return path in MUTABLE_PATHS or is_storefront(path)


IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
TIMESTAMP_CACHE_CONTROL = "public, max-age=30"
STOREFRONT_CACHE_CONTROL = "public, max-age=300"
MARKER_CACHE_CONTROL = "no-cache"

MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_PART_SIZE = 8 * 1024 * 1024
MAX_TIMESTAMP_BYTES = 1024 * 1024
MAX_READ_BYTES = 64 * 1024 * 1024  # metadata read back by the ceremony's publish

_CONTENT_TYPES = {
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".tar": "application/x-tar",
}
_VERSIONED_METADATA = re.compile(r"^metadata/(\d+)\.([^/]+)\.json$")
_DENIED_CODES = frozenset(
    {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
)
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class PublishError(OriginError):
    """The publish was refused; the message is one line that says what to do.

    An :class:`pipeline.publish.file_origin.OriginError`, so the ceremony's
    commands (``archy publish``, ``archy refresh-timestamp``) report it as a
    refusal when they write through an :class:`S3Origin`.
    """


class PublishConflictError(PublishError):
    """Another publisher changed the origin first; rebuild on top of it and retry."""


# --- where ---


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing "/"; "" for the bucket's root

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def url(self, path: str = "") -> str:
        base = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{base}/{path}" if path else base


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_s3_url(url: str) -> S3Location:
    """``s3://BUCKET[/PREFIX]`` → :class:`S3Location`; a clear error otherwise."""
    if not url.startswith("s3://"):
        raise PublishError(f"{url}: not an s3:// URL (expected s3://BUCKET/PREFIX)")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not _BUCKET_NAME.match(bucket):
        raise PublishError(f"{url}: {bucket!r} is not a valid bucket name")
    prefix = prefix.strip("/")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise PublishError(f"{url}: the prefix must not have empty, '.' or '..' segments")
    return S3Location(bucket, prefix)


def s3_client(endpoint_url: str | None = None, session: boto3.session.Session | None = None) -> Any:
    """An S3 client: credentials from the standard chain, path-style for custom endpoints.

    Without ``endpoint_url``, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``
    (the SDKs' standard variables) name an S3-compatible store.
    """
    endpoint_url = (
        endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_S3")
        or os.environ.get("AWS_ENDPOINT_URL")
        or None
    )
    session = session or boto3.session.Session()
    config = Config(
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=10,
        read_timeout=60,
        # S3-compatible stores differ in their support of the newer checksum
        # trailers; send checksums only where the API requires them.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=session.region_name or "us-east-1",
        config=config,
    )


# --- what each file is ---


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


def _order_key(path: str) -> tuple[int, int, str]:
    """Publish order (DESIGN §6); a node never sees metadata naming a missing file."""
    if path == MARKER_PATH:
        return (0, 0, path)
    versioned = _VERSIONED_METADATA.match(path)
    if versioned is not None:
        version, role = int(versioned.group(1)), versioned.group(2)
        # Roots go just before the timestamp: the shortest window in which a
        # node sees a new root with the old timestamp.
        rank = {"snapshot": 3, "root": 4}.get(role, 2)
        return (rank, version, path)
    if path == TIMESTAMP_PATH:
        return (5, 0, path)
    if is_storefront(path):
        return (6, int(path == STOREFRONT_PATH), path)  # the index after its pages
    return (1, 0, path)  # targets/… and any other content-addressed file


def publish_order(paths: Iterable[str]) -> list[str]:
    return sorted(paths, key=_order_key)


def _check_relative_path(path: str) -> None:
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise PublishError(f"{path!r}: repository paths must be relative, without '.' or '..'")
    if path == MARKER_PATH:
        raise PublishError(f"{path!r}: reserved for the origin's ownership marker")


def _timestamp_version(data: bytes, where: str) -> int:
    try:
        return Metadata.from_bytes(data, Timestamp).signed.version
    except TufError as error:
        raise PublishError(f"{where}: not valid timestamp metadata ({error})") from None


# --- the origin operations a publish needs ---


@dataclass(frozen=True)
class StoredObject:
    length: int
    blake3: str | None  # None when the object was not written by us
    etag: str


class RepositoryOrigin(Protocol):
    """What planning and executing a publish need from an origin.

    A superset of :class:`pipeline.publish.file_origin.Origin` (``describe``,
    ``read``, ``create``, ``replace``), so an :class:`S3Origin` also serves the
    ceremony's ``publish_targets`` and ``refresh_timestamp``.
    """

    def describe(self, path: str = "") -> str: ...
    def ensure_ours(self) -> bool: ...
    def stat(self, path: str) -> StoredObject | None: ...
    def read(self, path: str) -> bytes | None: ...
    def read_with_etag(self, path: str, max_length: int) -> tuple[bytes, str] | None: ...
    def create(self, path: str, data: bytes, on_progress: Callable[[int], None] = ...) -> bool: ...
    def replace(self, path: str, data: bytes) -> None: ...
    def overwrite(self, path: str, data: bytes) -> None: ...


def _ignore_progress(sent: int) -> None:
    """No progress display."""


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


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

    def _refusal(self, action: str, path: str, error: Exception) -> PublishError:
        """A one-line error for an S3 failure; never includes credentials."""
        where = self.describe(path)
        if isinstance(error, NoCredentialsError | PartialCredentialsError):
            return PublishError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "or AWS_PROFILE"
            )
        if isinstance(error, EndpointConnectionError):
            return PublishError(f"{where}: cannot reach the S3 endpoint ({error})")
        if isinstance(error, ClientError):
            code = _error_code(error)
            if code == "NoSuchBucket":
                return PublishError(f"bucket {self.location.bucket!r} does not exist")
            if code in _DENIED_CODES:
                return PublishError(
                    f"{where}: access denied while trying to {action}: check the AWS "
                    "credentials and the bucket's permissions"
                )
            message = error.response.get("Error", {}).get("Message", "")
            return PublishError(f"{where}: {action} failed: {code or _status(error)} {message}")
        return PublishError(f"{where}: {action} failed: {error}")

    def ensure_ours(self) -> bool:
        """True when the prefix holds our marker, False when empty; refuse anything else."""
        if self._ours is not None:
            return self._ours
        bucket = self.location.bucket
        try:
            self._client.head_bucket(Bucket=bucket)
        except ClientError as error:
            if _error_code(error) in (*_MISSING_CODES, "NoSuchBucket"):
                raise PublishError(f"bucket {bucket!r} does not exist") from None
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
            raise PublishError(
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

    def stat(self, path: str) -> StoredObject | None:
        try:
            head = self._client.head_object(
                Bucket=self.location.bucket, Key=self.location.key(path)
            )
        except ClientError as error:
            if _error_code(error) in _MISSING_CODES:
                return None
            raise self._refusal("read", path, error) from None
        except BotoCoreError as error:
            raise self._refusal("read", path, error) from None
        metadata = head.get("Metadata", {})
        return StoredObject(int(head["ContentLength"]), metadata.get("blake3"), head["ETag"])

    def read(self, path: str) -> bytes | None:
        """The object's bytes, or None if there is none (the file origin's contract)."""
        limit = MAX_TIMESTAMP_BYTES if _mutable(path) else MAX_READ_BYTES
        found = self.read_with_etag(path, limit)
        return None if found is None else found[0]

    def read_with_etag(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None; remembers the first ETag of a mutable file."""
        found = self._get(path, max_length)
        if _mutable(path) and path not in self._starting_etags:
            self._starting_etags[path] = None if found is None else found[1]
        return found

    def _get(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        try:
            answer = self._client.get_object(
                Bucket=self.location.bucket, Key=self.location.key(path)
            )
        except ClientError as error:
            if _error_code(error) in _MISSING_CODES:
                return None
            raise self._refusal("read", path, error) from None
        except BotoCoreError as error:
            raise self._refusal("read", path, error) from None
        with answer["Body"] as body:
            if int(answer.get("ContentLength", 0)) > max_length:
                raise PublishError(f"{self.describe(path)}: larger than {max_length} bytes")
            data: bytes = body.read(max_length + 1)
        if len(data) > max_length:
            raise PublishError(f"{self.describe(path)}: larger than {max_length} bytes")
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
        self, path: str, data: bytes, on_progress: Callable[[int], None] = _ignore_progress
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
            if _status(error) == 412 or _error_code(error) == "PreconditionFailed":
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
            if _status(error) == 412 or _error_code(error) in ("PreconditionFailed", "NoSuchKey"):
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


# --- plan and execute ---


@dataclass(frozen=True)
class PlannedUpload:
    path: str
    data: bytes
    reason: str  # "new" or "changed"

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class PublishPlan:
    destination: str
    uploads: list[PlannedUpload] = field(default_factory=list)  # in publish order
    skipped: list[str] = field(default_factory=list)
    origin_timestamp_version: int | None = None
    new_timestamp_version: int = 0

    @property
    def upload_bytes(self) -> int:
        return sum(upload.size for upload in self.uploads)


@dataclass(frozen=True)
class PublishResult:
    destination: str
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    bytes_uploaded: int
    timestamp_version: int


def _same_content(origin: RepositoryOrigin, path: str, data: bytes, stored: StoredObject) -> bool:
    if stored.length != len(data):
        return False
    if stored.blake3 is not None:
        return stored.blake3 == blake3_hex(data)
    current = origin.read_with_etag(path, len(data))  # written by another tool: compare bytes
    return current is not None and current[0] == data


def _already_there(path: str, origin: RepositoryOrigin) -> PublishConflictError:
    return PublishConflictError(
        f"{origin.describe(path)} already exists with other content (another publisher wrote "
        "this version?): published files are never overwritten; rebuild with higher versions "
        "and retry"
    )


def plan_publish(origin: RepositoryOrigin, files: Mapping[str, bytes]) -> PublishPlan:
    """Every check of a publish, with no write: what to upload, in order, and why."""
    if TIMESTAMP_PATH not in files:
        raise PublishError(f"nothing to publish: the repository has no {TIMESTAMP_PATH}")
    for path in files:
        _check_relative_path(path)
    new_version = _timestamp_version(files[TIMESTAMP_PATH], f"the repository's {TIMESTAMP_PATH}")
    plan = PublishPlan(origin.describe(), new_timestamp_version=new_version)
    if not origin.ensure_ours():
        plan.uploads.append(PlannedUpload(MARKER_PATH, MARKER_BYTES, "new"))
    current_timestamp = origin.read_with_etag(TIMESTAMP_PATH, MAX_TIMESTAMP_BYTES)
    timestamp_unchanged = False
    if current_timestamp is not None:
        current_data = current_timestamp[0]
        plan.origin_timestamp_version = _timestamp_version(
            current_data, origin.describe(TIMESTAMP_PATH)
        )
        timestamp_unchanged = current_data == files[TIMESTAMP_PATH]
        if not timestamp_unchanged and new_version <= plan.origin_timestamp_version:
            raise PublishConflictError(
                f"{origin.describe(TIMESTAMP_PATH)} is at version "
                f"{plan.origin_timestamp_version}; this publish has version {new_version}, and "
                "the timestamp version never goes backwards: rebuild on top of the origin and retry"
            )
    for path in publish_order(files):
        data = files[path]
        if path == TIMESTAMP_PATH:
            if timestamp_unchanged:
                plan.skipped.append(path)
            else:
                reason = "new" if current_timestamp is None else "changed"
                plan.uploads.append(PlannedUpload(path, data, reason))
            continue
        stored = origin.stat(path)
        if stored is None:
            plan.uploads.append(PlannedUpload(path, data, "new"))
        elif _same_content(origin, path, data, stored):
            plan.skipped.append(path)
        elif _mutable(path):
            plan.uploads.append(PlannedUpload(path, data, "changed"))
        else:
            raise _already_there(path, origin)
    return plan


def execute_plan(
    origin: RepositoryOrigin,
    plan: PublishPlan,
    on_progress: Callable[[int], None] = _ignore_progress,
) -> PublishResult:
    """Upload the plan in order; stop at the first failure (a re-run completes the job)."""
    uploaded: list[str] = []
    for upload in plan.uploads:
        if upload.path == TIMESTAMP_PATH:
            origin.replace(upload.path, upload.data)  # If-Match: the ETag the plan read
            on_progress(upload.size)
        elif _mutable(upload.path):
            origin.overwrite(upload.path, upload.data)
            on_progress(upload.size)
        elif not origin.create(upload.path, upload.data, on_progress):
            # Someone created it since the plan: fine if it holds the same bytes.
            stored = origin.stat(upload.path)
            if stored is None or not _same_content(origin, upload.path, upload.data, stored):
                raise _already_there(upload.path, origin)
        uploaded.append(upload.path)
    return PublishResult(
        plan.destination,
        tuple(uploaded),
        tuple(plan.skipped),
        plan.upload_bytes,
        plan.new_timestamp_version,
    )


def publish_to_s3(
    files: Mapping[str, bytes],
    url: str,
    endpoint_url: str | None = None,
    session: boto3.session.Session | None = None,
    on_progress: Callable[[int], None] = _ignore_progress,
) -> PublishResult:
    origin = S3Origin.from_url(url, endpoint_url, session)
    return execute_plan(origin, plan_publish(origin, files), on_progress)


def read_repository_dir(directory: Path) -> dict[str, bytes]:
    """The files of a repository tree on disk, by relative path (what a publish uploads)."""
    if not (directory / TIMESTAMP_PATH).is_file():
        raise PublishError(f"{directory}: no {TIMESTAMP_PATH}: not a built repository")
    files = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            relative = path.relative_to(directory).as_posix()
            if relative != MARKER_PATH:
                files[relative] = path.read_bytes()
    return files


# --- the command ---

_stdout = Console(highlight=False, soft_wrap=True)
_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_plan(plan: PublishPlan) -> None:
    for upload in plan.uploads:
        _stdout.print(f"would upload  {upload.path}  ({upload.size} bytes, {upload.reason})")
    current = plan.origin_timestamp_version
    _stdout.print(
        f"{plan.destination}: {len(plan.uploads)} to upload ({plan.upload_bytes} bytes), "
        f"{len(plan.skipped)} already there; timestamp version "
        f"{'none' if current is None else current} → {plan.new_timestamp_version}",
        markup=False,
    )


@click.command("publish-s3")
@click.argument("repository_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--to", "destination", required=True, help="s3://BUCKET/PREFIX")
@click.option("--endpoint-url", help="Endpoint of an S3-compatible store (path-style URLs).")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; write nothing.")
def publish_s3_command(
    repository_dir: Path, destination: str, endpoint_url: str | None, dry_run: bool
) -> None:
    """Publish the built repository in REPOSITORY_DIR to s3://BUCKET/PREFIX."""
    try:
        files = read_repository_dir(repository_dir)
        origin = S3Origin.from_url(destination, endpoint_url)
        plan = plan_publish(origin, files)
        if dry_run:
            _print_plan(plan)
            return
        columns = (
            TextColumn("uploading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        with Progress(*columns, console=_stderr, transient=True) as progress:
            task = progress.add_task("upload", total=plan.upload_bytes)
            result = execute_plan(origin, plan, lambda sent: progress.advance(task, sent))
    except PublishError as error:
        _stderr.print(f"error: {error}", style="red", markup=False)
        sys.exit(1)
    except OSError as error:
        _stderr.print(f"error: {error}", style="red", markup=False)
        sys.exit(1)
    _stdout.print(
        f"published {result.destination}: {len(result.uploaded)} uploaded "
        f"({result.bytes_uploaded} bytes), {len(result.skipped)} already there, "
        f"timestamp version {result.timestamp_version}",
        markup=False,
    )


if __name__ == "__main__":
    publish_s3_command()
