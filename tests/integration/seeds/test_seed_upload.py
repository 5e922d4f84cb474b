"""Authenticated uploads to an HTTP seed on 127.0.0.1, and ``archy publish --seed``: the seed
stores only bytes that hash to their name, with the right token and within its limit."""

from __future__ import annotations

import http.client
import socket
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from catalog.address import blake3_hex
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.cli import main
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.seed_push import SeedPushError, push_to_seed
from tests.integration.seeds.seeded_node import (
    pull_once_without_retries,
    seeded_node,
    stored_companion,
)
from tests.integration.seeds.test_seed_server_limits import read_until_closed, wait_until
from tests.support.ceremony_setup import NOW, PASSPHRASE, make_ceremony
from tests.support.repos import make_repository, manifest_yaml
from tests.support.small_build import SmallApp, write_build

TOKEN = "a-test-upload-token-0123456789"
ORIGIN_DOWN = "http://127.0.0.1:9/registry"
COMPANION = b"a companion pushed to the seed" * 500


def empty_store(directory: Path) -> SeedStore:
    (directory / "blobs").mkdir(parents=True)
    (directory / "metadata").mkdir()
    return SeedStore(directory / "blobs", directory / "metadata")


def put(url: str, data: bytes, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.put(url, content=data, headers=headers)


def test_the_seed_stores_an_upload_only_with_the_token_and_the_right_bytes(
    tmp_path: Path,
) -> None:
    store = empty_store(tmp_path)
    blob = b"bytes a publisher uploads"
    name = blake3_hex(blob)
    with HttpSeedServer(store, upload_token=TOKEN, max_upload_bytes=1000) as seed:
        assert put(f"{seed.url}/blobs/{name}", blob, token=None).status_code == 401
        assert put(f"{seed.url}/blobs/{name}", blob, token="x" * 30).status_code == 401
        mismatch = put(f"{seed.url}/blobs/{name}", b"other bytes of a liar")
        assert mismatch.status_code == 422 and "refused blob" in mismatch.text
        assert not BlobStore(store.blobs_dir).contains(name)
        assert put(f"{seed.url}/blobs/{name}", blob).status_code == 201
        assert put(f"{seed.url}/blobs/{name}", blob).status_code == 200  # already held
        assert httpx.get(f"{seed.url}/blobs/{name}").content == blob
        # a body longer than the limit is refused from its Content-Length, before it is read
        host, port = seed.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))
        connection.putrequest("PUT", f"/blobs/{blake3_hex(b'big')}")
        connection.putheader("Authorization", f"Bearer {TOKEN}")
        connection.putheader("Content-Length", "1001")
        connection.endheaders()
        assert connection.getresponse().status == 413
        connection.close()
        assert put(f"{seed.url}/metadata/../../x.json", b"{}").status_code == 404
    with HttpSeedServer(store) as read_only:
        assert put(f"{read_only.url}/blobs/{name}", blob).status_code == 405


def test_a_pushed_seed_serves_a_node_whose_origin_is_down(tmp_path: Path) -> None:
    repository = make_repository(
        tmp_path / "origin",
        {"demo": manifest_yaml("demo", host_port=18092)},
        companions={"demo": {"demo-ui": COMPANION}},
    )
    with HttpSeedServer(empty_store(tmp_path / "seed"), upload_token=TOKEN) as seed:
        first = push_to_seed(FileOrigin(repository.directory), seed.url, TOKEN)
        assert len([path for path in first.uploaded if path.startswith("targets/")]) == 3
        assert first.uploaded[-1] == "metadata/timestamp.json"
        again = push_to_seed(FileOrigin(repository.directory), seed.url, TOKEN)
        assert again.already_held == 3 and again.bytes_uploaded == 0
        with pytest.raises(SeedPushError, match="HTTP 401"):
            push_to_seed(FileOrigin(repository.directory), seed.url, "w" * 20)
        paths = seeded_node(tmp_path, repository, ORIGIN_DOWN, [seed.url])
        said: list[str] = []
        result, _fetcher = pull_once_without_retries(paths, report=said.append)
    assert result.pointer.blake3 == blake3_hex(repository.catalog_bytes)
    # the fall-back is said, once per metadata file the seed served
    fallbacks = [line for line in said if "read it from seed" in line]
    assert any(
        line.startswith("the origin did not answer for timestamp.json") for line in fallbacks
    )
    assert all(seed.url.removeprefix("http://") in line for line in fallbacks)
    assert stored_companion(paths, repository) == COMPANION


def test_archy_publish_seed_uploads_the_new_targets_after_the_publish(tmp_path: Path) -> None:
    ceremony = make_ceremony(tmp_path)
    write_build(tmp_path / "dist", [SmallApp("demo-web")], commit="a" * 40)
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    for maintainer in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, maintainer, NOW)
    (tmp_path / "token").write_text(TOKEN + "\n")
    env = {"ONLINE_KEY": ceremony.key_files["online"].read_text(), "PASS": PASSPHRASE.decode()}
    store = empty_store(tmp_path / "seed")
    with HttpSeedServer(store, upload_token=TOKEN) as seed:
        arguments = [
            "publish", "--to", f"file://{tmp_path}/repo", "--ceremony", str(ceremony.state.path),
            "--dist", str(tmp_path / "dist"), "--online-key-env", "ONLINE_KEY",
            "--passphrase-env", "PASS", "--seed", seed.url,
        ]  # fmt: skip
        without_token = CliRunner().invoke(main, arguments, env=env)
        assert without_token.exit_code == 2 and "--seed-token-file" in without_token.output
        result = CliRunner().invoke(
            main, [*arguments, "--seed-token-file", str(tmp_path / "token")], env=env
        )
    assert result.exit_code == 0, result.output
    assert f"seed {seed.url}: " in result.stdout
    published = sorted(
        path.name.split(".", 1)[0] for path in (tmp_path / "repo" / "targets").rglob("*.*")
    )
    assert sorted(BlobStore(store.blobs_dir).blobs()) == published
    assert (store.metadata_dir or tmp_path).joinpath("timestamp.json").read_bytes() == (
        tmp_path / "repo" / "metadata" / "timestamp.json"
    ).read_bytes()


def test_a_refused_upload_is_answered_not_reset_even_when_the_client_reads_late(
    tmp_path: Path,
) -> None:
    """The seed refuses before reading the body; the client must still be able to read the 401.

    Closing a socket with unread bytes makes the kernel send a reset, and a reset throws
    away the answer the client has not read yet ("connection reset by peer" instead of the
    refusal). The client here reads only after the seed has finished with the connection."""
    blob = b"a body the seed will never read" * 8_000  # more than the seed reads with the head
    head = (
        f"PUT /blobs/{blake3_hex(blob)} HTTP/1.1\r\nHost: seed\r\n"
        f"Authorization: Bearer {'x' * 30}\r\nContent-Length: {len(blob)}\r\n\r\n"
    ).encode()
    with HttpSeedServer(empty_store(tmp_path), upload_token=TOKEN) as seed:
        host, port = seed.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(head + blob)
            wait_until(
                lambda: seed.stats.refusals == 1 and seed.http.answering == 0,
                "the seed to answer and let go of the connection",
            )
            answer = read_until_closed(client)
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"\r\nConnection: close\r\n" in answer
    assert answer.endswith(b"uploads need the seed's token (Authorization: Bearer)\n")
