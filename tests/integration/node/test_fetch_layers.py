"""The fetch stage's shape: one Fetcher interface, retries as a wrapper that resumes a
dropped stream, and one place that drops a lying source (real HTTP servers on 127.0.0.1)."""

from __future__ import annotations

import http.server
import importlib
import pkgutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import node_runtime.fetch
import node_runtime.seed
from catalog.address import blake3_hex
from node_runtime.fetch.fetcher import DownloadError, Fetcher
from node_runtime.fetch.http import OriginFetcher, repository_urls
from node_runtime.fetch.retry import RetryPolicy
from node_runtime.fetch.sources import SourceError, Sources
from node_runtime.fetch.swarm import MultiSourceBlobFetcher
from node_runtime.store.blob_store import BlobStore

Respond = Callable[[http.server.BaseHTTPRequestHandler, int], None]


class ScriptedServer:
    """A loopback HTTP server answering the n-th request with ``respond(handler, n)``."""

    def __init__(self, respond: Respond) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests.append(self.path)
                respond(self, len(owner.requests))

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def scripted() -> Iterator[Callable[[Respond], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(respond: Respond) -> ScriptedServer:
        servers.append(ScriptedServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def send(handler: http.server.BaseHTTPRequestHandler, body: bytes, cut: int | None = None) -> None:
    """Announce ``body``; send it whole, or only ``cut`` bytes and hang up."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body if cut is None else body[:cut])
    handler.wfile.flush()
    if cut is not None:
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True


def every_fetch_and_seed_module() -> list[str]:
    names = []
    for package in (node_runtime.fetch, node_runtime.seed):
        for module in pkgutil.iter_modules(package.__path__):
            names.append(f"{package.__name__}.{module.name}")
    return names


def all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for child in list(found):
        found |= all_subclasses(child)
    return found


def test_every_fetcher_provides_only_the_byte_stream() -> None:
    for name in every_fetch_and_seed_module():
        importlib.import_module(name)
    fetchers = all_subclasses(Fetcher)
    assert {cls.__name__ for cls in fetchers} >= {
        "FileFetcher",
        "HttpOrigin",
        "Retrying",
        "OriginFetcher",
        "Sources",
    }
    for cls in fetchers:
        overridden = {"download_bytes", "download_to", "_capped"} & set(vars(cls))
        assert not overridden, f"{cls.__qualname__} overrides {overridden}"


def test_a_retry_after_a_dropped_connection_delivers_every_byte_once(
    scripted: Callable[[Respond], ScriptedServer], tmp_path: Path
) -> None:
    body = bytes(range(256)) * 2048
    server = scripted(lambda h, n: send(h, body, cut=len(body) // 3 if n == 1 else None))
    waits: list[float] = []
    with OriginFetcher(sleep=waits.append) as fetcher, (tmp_path / "out").open("wb") as out:
        assert fetcher.download_to(f"{server.url}/blob", len(body), out) == len(body)
    assert (tmp_path / "out").read_bytes() == body
    assert len(server.requests) == 2 and fetcher.stats.retries == 1 and len(waits) == 1


def test_a_file_that_changes_between_attempts_is_refused_not_spliced(
    scripted: Callable[[Respond], ScriptedServer],
) -> None:
    first, second = b"a" * 200_000, b"b" * 200_000
    server = scripted(lambda h, n: send(h, first, cut=100_000) if n == 1 else send(h, second))
    with (
        OriginFetcher(sleep=lambda seconds: None) as fetcher,
        pytest.raises(DownloadError, match="changed while it was being downloaded"),
    ):
        fetcher.download_bytes(f"{server.url}/blob", len(first))
    assert len(server.requests) == 2


def lying_mirror(respond_to: list[str]) -> Respond:
    def respond(handler: http.server.BaseHTTPRequestHandler, number: int) -> None:
        respond_to.append(handler.path)
        send(handler, b"not the signed bytes")

    return respond


def sources_without_the_blob(tmp_path: Path, mirrors: list[str]) -> Sources:
    origin = tmp_path / "origin"
    (origin / "targets").mkdir(parents=True)
    metadata_url, targets_url = repository_urls(str(origin))
    fetcher = OriginFetcher(retry=RetryPolicy(attempts=1))
    return Sources(fetcher, metadata_url, targets_url, MultiSourceBlobFetcher(), mirrors)


def test_a_mirror_that_serves_wrong_bytes_is_dropped_once_and_not_asked_again(
    scripted: Callable[[Respond], ScriptedServer], tmp_path: Path
) -> None:
    asked: list[str] = []
    mirror = scripted(lying_mirror(asked))
    sources = sources_without_the_blob(tmp_path, [f"{mirror.url}/targets/"])
    store = BlobStore(tmp_path / "blobs")
    one, two = b"the first signed blob", b"the second signed blob"
    with pytest.raises(SourceError, match=r"served wrong bytes \(dropped\)"):
        sources.fetch_blob(store, "one.bin", blake3_hex(one), len(one))
    assert list(sources.dropped) == [mirror.url]
    with pytest.raises(SourceError) as second:
        sources.fetch_blob(store, "two.bin", blake3_hex(two), len(two))
    assert mirror.url not in str(second.value)
    assert asked == ["/targets/one.bin"]  # never asked for the second blob
    assert store.blobs() == []
    sources.close()


def test_a_seed_the_swarm_dropped_is_not_asked_as_a_mirror_either(
    scripted: Callable[[Respond], ScriptedServer], tmp_path: Path
) -> None:
    asked: list[str] = []
    seed = scripted(lying_mirror(asked))
    sources = sources_without_the_blob(tmp_path, [f"{seed.url}/targets/"])
    assert sources.swarm is not None
    sources.swarm.dropped.drop(seed.url, "stalled (no bytes within the stall limit)")
    blob = b"a signed blob"
    with pytest.raises(SourceError, match="no such file"):
        sources.fetch_blob(BlobStore(tmp_path / "blobs"), "blob.bin", blake3_hex(blob), len(blob))
    assert asked == []
    sources.close()
