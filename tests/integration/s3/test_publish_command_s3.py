"""`archy publish --to s3://BUCKET/PREFIX` (the ceremony's publish command) against SeaweedFS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.publish.test_file_publish import signed_event
from tests.integration.s3.node import Node
from tests.integration.s3.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS
from tests.support.ceremony_setup import PASSPHRASE, make_ceremony
from tests.support.small_build import SmallApp

pytestmark = pytest.mark.integration


def archy(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def publish_env(seaweedfs: SeaweedFS, secret_key: str = SECRET_KEY) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=secret_key,
        AWS_DEFAULT_REGION=REGION,
        ARCHY_TEST_ONLINE_PASSPHRASE=PASSPHRASE.decode(),
    )
    return env


def test_archy_publish_to_an_s3_url_publishes_what_a_node_then_pulls(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    ceremony = make_ceremony(tmp_path / "ceremony")
    signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "b" * 40)
    url = f"s3://{bucket}/repo"
    done = archy(
        "publish",
        "--to",
        url,
        "--endpoint-url",
        seaweedfs.endpoint_url,
        "--ceremony",
        str(ceremony.state.path),
        "--dist",
        str(tmp_path / "dist"),
        "--online-key",
        str(ceremony.key_files["online"]),
        "--passphrase-env",
        "ARCHY_TEST_ONLINE_PASSPHRASE",
        env=publish_env(seaweedfs),
    )
    assert done.returncode == 0, done.stderr
    assert SECRET_KEY not in done.stdout + done.stderr

    root = seaweedfs.client().get_object(Bucket=bucket, Key="repo/metadata/1.root.json")
    node = Node(tmp_path / "node", root["Body"].read(), url, seaweedfs.endpoint_url)
    assert b"demo-web" in node.catalog()


def test_archy_publish_with_bad_credentials_is_one_clear_error_and_writes_nothing(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    ceremony = make_ceremony(tmp_path / "ceremony")
    signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "c" * 40)
    done = archy(
        "publish",
        "--to",
        f"s3://{bucket}/repo",
        "--endpoint-url",
        seaweedfs.endpoint_url,
        "--ceremony",
        str(ceremony.state.path),
        "--dist",
        str(tmp_path / "dist"),
        "--online-key",
        str(ceremony.key_files["online"]),
        "--passphrase-env",
        "ARCHY_TEST_ONLINE_PASSPHRASE",
        env=publish_env(seaweedfs, secret_key="wrong-secret"),
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "wrong-secret" not in done.stdout + done.stderr
    assert "Contents" not in seaweedfs.client().list_objects_v2(Bucket=bucket)
