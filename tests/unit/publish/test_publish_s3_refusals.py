"""``archy publish-s3`` refusals that happen before any request: one line, exit 1.

No store is needed: every refusal here comes before the first S3 call.  The
real program runs (a subprocess), so a traceback would show in stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from catalog.refusal import Refused
from pipeline.publish.artifacts import ArtifactError
from pipeline.publish.origin import OriginError, PublishConflictError, PublishError
from pipeline.publish.seed_push import SeedPushError
from tests.support.repository_builder import RepositoryBuilder


def archy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_publish_error_is_a_refusal() -> None:
    assert issubclass(PublishConflictError, OriginError)
    assert issubclass(OriginError, PublishError)
    for error in (PublishError, SeedPushError, ArtifactError):
        assert issubclass(error, Refused)


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        (
            "https://bucket/repo",
            "https://bucket/repo: not an s3:// URL (expected s3://BUCKET/PREFIX)",
        ),
        ("s3://Bad_Bucket/repo", "s3://Bad_Bucket/repo: 'Bad_Bucket' is not a valid bucket name"),
        (
            "s3://bucket/a/../b",
            "s3://bucket/a/../b: the prefix must not have empty, '.' or '..' segments",
        ),
    ],
)
def test_a_bad_destination_is_one_line_and_exit_1(
    destination: str, message: str, tmp_path: Path
) -> None:
    repository = RepositoryBuilder(tmp_path / "repository")
    done = archy("publish-s3", str(repository.directory), "--to", destination)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"error: {message}\n")


def test_a_directory_that_is_not_a_built_repository_is_refused(tmp_path: Path) -> None:
    done = archy("publish-s3", str(tmp_path), "--to", "s3://bucket/repo")
    assert done.returncode == 1
    assert done.stderr == f"error: {tmp_path}: no metadata/timestamp.json: not a built repository\n"
