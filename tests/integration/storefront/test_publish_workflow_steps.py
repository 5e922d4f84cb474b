"""The publish workflow's publish and mirror steps, run as written, against real parts.

The ``run`` scripts of ``.github/workflows/publish.yml`` are taken from the file
and run by bash in a work tree laid out as the runner's (``ceremony/``,
``dist/``, the ``repository`` branch checked out in ``origin/`` with its
``.git``), with a local HTTP seed and a local SeaweedFS as the configured seed
and S3 origin.  Then our node client refreshes from the S3 origin and
downloads the catalog the event signed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from pipeline.ceremony.steps import open_catalog_event, sign_event
from tests.integration.s3.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS
from tests.support.ceremony_setup import NOW, PASSPHRASE, make_ceremony
from tests.support.small_build import SmallApp, write_build

REPO = Path(__file__).resolve().parents[3]
TOKEN = "a-workflow-seed-token-0123456789"


def workflow_step(name: str) -> str:
    workflow = YAML(typ="safe").load((REPO / ".github/workflows/publish.yml").read_text())
    [step] = [s for s in workflow["jobs"]["publish"]["steps"] if s.get("name", "").startswith(name)]
    script: str = step["run"]
    return script


def run_step(name: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", workflow_step(name)], cwd=work,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def s3_keys(seaweedfs: SeaweedFS, bucket: str) -> set[str]:
    listing = seaweedfs.client().list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.mark.integration
def test_publish_seeds_and_s3_mirror_as_the_workflow_runs_them(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    work = tmp_path / "runner"
    ceremony = make_ceremony(work)  # work/ceremony, keys in work/keys
    write_build(work / "dist", [SmallApp("demo-web")], commit="b" * 40)
    event, _review = open_catalog_event(ceremony.state, work / "dist", NOW)
    for maintainer in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, maintainer, NOW)
    (work / "origin/.git").mkdir(parents=True)  # the checked-out repository branch
    (work / "origin/.git/HEAD").write_text("ref: refs/heads/repository\n")
    (work / ".venv").symlink_to(Path(sys.executable).parents[1])
    (tmp_path / "temp").mkdir()
    seed_dir = tmp_path / "seed"
    (seed_dir / "blobs").mkdir(parents=True)
    (seed_dir / "metadata").mkdir()
    store = SeedStore(seed_dir / "blobs", seed_dir / "metadata")
    with HttpSeedServer(store, upload_token=TOKEN) as seed:
        env = {
            "RUNNER_TEMP": str(tmp_path / "temp"),
            "EVENT_ID": event.event_id,
            "ARCHY_ONLINE_KEY": ceremony.key_files["online"].read_text(),
            "ARCHY_ONLINE_KEY_PASSPHRASE": PASSPHRASE.decode(),
            "ARCHY_SEEDS": seed.url,
            "ARCHY_SEED_TOKEN": TOKEN,
        }
        published = run_step("Publish", work, env)
    assert published.returncode == 0, published.stdout + published.stderr
    assert f"seed {seed.url}: " in published.stdout
    assert "storefront: " in published.stdout
    assert (work / "origin/index.html").is_file()
    targets = sorted(p.name.split(".", 1)[0] for p in (work / "origin/targets").rglob("*.*"))
    assert sorted(BlobStore(store.blobs_dir).blobs()) == targets

    mirrored = run_step("Mirror", work, {
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "ARCHY_S3_URL": f"s3://{bucket}/registry",
        "ARCHY_S3_ENDPOINT": seaweedfs.endpoint_url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    })  # fmt: skip
    assert mirrored.returncode == 0, mirrored.stdout + mirrored.stderr
    on_disk = {
        f"registry/{p.relative_to(work / 'origin').as_posix()}"
        for p in (work / "origin").rglob("*")
        if p.is_file() and ".git" not in p.relative_to(work / "origin").parts
    }
    keys = s3_keys(seaweedfs, bucket)
    assert on_disk <= keys and "registry/index.html" in keys
    assert not any("/.git/" in key for key in keys)

    node = tmp_path / "node"
    base = [str(Path(sys.executable).with_name("archy-node")), "tuf", "--metadata-dir",
            str(node / "metadata")]  # fmt: skip
    public = seaweedfs.public_url(bucket, "registry")
    for command in (
        [*base, "init", str(work / "origin/metadata/1.root.json")],
        [*base, "--metadata-url", f"{public}/metadata/", "refresh"],
        [*base, "--metadata-url", f"{public}/metadata/", "--target-name", "app-catalog.json",
         "--target-base-url", f"{public}/targets/", "--target-dir", str(node / "targets"),
         "download"],
    ):  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    assert (node / "targets/app-catalog.json").read_bytes() == (
        work / "dist/app-catalog.json"
    ).read_bytes()
