"""Reaching S3-compatible object storage: where (``s3://BUCKET/PREFIX``), with which
client, and what its failures mean to a user.

- ``S3Location`` / ``parse_s3_url(url)``: a bucket and a prefix, checked before any
  request (a bad URL is refused with one line);
- ``s3_client(endpoint_url, session)``: a boto3 client with credentials from the
  standard AWS chain (environment, profile files, instance roles), path-style
  addressing for custom endpoints, bounded retries and timeouts;
- ``failure(where, action, bucket, error)``: a botocore failure as one
  :class:`pipeline.publish.origin.OriginError` line that never includes credentials;
- ``error_code`` / ``http_status`` / ``MISSING_CODES``: how an answer says "absent"
  or "precondition failed".

boto3 is imported here and by :mod:`pipeline.publish.s3_origin` only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from pipeline.publish.layout import is_plain_relative
from pipeline.publish.origin import OriginError

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_DENIED_CODES = frozenset(
    {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing "/"; "" for the bucket's root

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def url(self, path: str = "") -> str:
        base = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{base}/{path}" if path else base


def parse_s3_url(url: str) -> S3Location:
    """``s3://BUCKET[/PREFIX]`` → :class:`S3Location`; a clear error otherwise."""
    if not url.startswith("s3://"):
        raise OriginError(f"{url}: not an s3:// URL (expected s3://BUCKET/PREFIX)")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not _BUCKET_NAME.match(bucket):
        raise OriginError(f"{url}: {bucket!r} is not a valid bucket name")
    prefix = prefix.strip("/")
    if prefix and not is_plain_relative(prefix):
        raise OriginError(f"{url}: the prefix must not have empty, '.' or '..' segments")
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


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def is_precondition_failure(error: ClientError) -> bool:
    """The store refused a conditional write (If-None-Match / If-Match)."""
    return http_status(error) == 412 or error_code(error) == "PreconditionFailed"


def failure(where: str, action: str, bucket: str, error: Exception) -> OriginError:
    """A one-line error for an S3 failure at ``where``; never includes credentials."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return OriginError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "or AWS_PROFILE"
        )
    if isinstance(error, EndpointConnectionError):
        return OriginError(f"{where}: cannot reach the S3 endpoint ({error})")
    if isinstance(error, ClientError):
        code = error_code(error)
        if code == "NoSuchBucket":
            return OriginError(f"bucket {bucket!r} does not exist")
        if code in _DENIED_CODES:
            return OriginError(
                f"{where}: access denied while trying to {action}: check the AWS "
                "credentials and the bucket's permissions"
            )
        message = error.response.get("Error", {}).get("Message", "")
        return OriginError(f"{where}: {action} failed: {code or http_status(error)} {message}")
    return OriginError(f"{where}: {action} failed: {error}")
