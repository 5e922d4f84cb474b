"""Fixtures for the S3 tests: one SeaweedFS per session, a fresh bucket per test."""

from __future__ import annotations

import pytest

from tests.integration.s3.fixtures import no_ambient_aws_configuration, seaweedfs  # noqa: F401
from tests.integration.s3.seaweedfs import SeaweedFS


@pytest.fixture
def bucket(seaweedfs: SeaweedFS) -> str:  # noqa: F811 (the fixture, imported above)
    return seaweedfs.new_bucket()
