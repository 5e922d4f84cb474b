"""Fixtures for the workflow runs: the S3 tests' SeaweedFS (one per session) and buckets."""

from tests.integration.s3.conftest import (  # noqa: F401 - fixtures, used by name
    bucket,
    no_ambient_aws_configuration,
    seaweedfs,
)
