"""A real signed repository of the whole app set, its storefront, served on loopback.

The repository is made the way ``scripts/main`` makes it: a 2-of-3 dev
ceremony, ``archy build --dev`` of this checkout's ``apps/`` (companions
skipped: their base image cannot be fetched offline), a signing event signed
by two keys, the file publish, then the storefront written after the
timestamp by the publish step.  The site is served by a loopback HTTP server
so the browser sees it as a visitor would (one origin, its own files).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.catalog_model import AppCatalog, parse_catalog
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.keystore import read_key_file
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.main_flow import DEV_THRESHOLD, _build, make_dev_ceremony
from pipeline.publish.file_origin import FileOrigin
from pipeline.storefront.publish_step import publish_storefront
from tests.integration.s3.conftest import (  # noqa: F401 - the S3 fixtures, for test_storefront_s3
    bucket,
    no_ambient_aws_configuration,
    seaweedfs,
)

REPO = Path(__file__).resolve().parents[3]
PASSPHRASE = b"storefront-test-passphrase"


@dataclass(frozen=True)
class PublishedStore:
    repo: Path
    catalog: AppCatalog
    catalog_bytes: bytes
    base_url: str


def screenshot_dir() -> Path:
    """Where screenshots are kept for people to look at: $ARCHY_TEST_OUTPUT/storefront,
    default dist/test-output/storefront (git-ignored; CI keeps the folder)."""
    base = os.environ.get("ARCHY_TEST_OUTPUT")
    root = Path(base) if base else REPO / "dist" / "test-output"
    return root / "storefront"


def publish_app_set(work: Path) -> tuple[Path, bytes]:
    now = datetime.now(UTC)
    state, maintainer_keys, online_key_file = make_dev_ceremony(work / "ceremony", PASSPHRASE, now)
    build = _build(REPO, work / "build", with_podman=False)
    event, _review = open_catalog_event(state, work / "build", now)
    for path in maintainer_keys[:DEV_THRESHOLD]:
        sign_event(state, event.event_id, read_key_file(path, PASSPHRASE), now)
    origin = FileOrigin(work / "repo")
    online_key = read_key_file(online_key_file, PASSPHRASE)
    publish_signing_event(state, event.event_id, work / "build", origin, online_key, now)
    publish_storefront(origin, state.roots()[-1].to_bytes(), now)
    return work / "repo", build.catalog_bytes


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def published_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishedStore]:
    repo, catalog_bytes = publish_app_set(tmp_path_factory.mktemp("store"))
    handler = functools.partial(_QuietHandler, directory=str(repo))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PublishedStore(
            repo,
            parse_catalog(catalog_bytes),
            catalog_bytes,
            f"http://127.0.0.1:{server.server_address[1]}/",
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
