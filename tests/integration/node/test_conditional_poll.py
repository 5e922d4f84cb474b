"""Cheap polls: ``timestamp.json`` is asked for conditionally and answered 304 when unchanged.

Against Python's own static server (``http.server``: Last-Modified and
If-Modified-Since, no ETag) on 127.0.0.1, with ``pull`` run once per
"process" (each pull builds its fetcher anew; the validators live in the
node's state).  The SeaweedFS (ETag) side is in ``tests/integration/s3/test_conditional_poll.py``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from node_runtime.fetch.conditional_cache import (
    CachedAnswer,
    ConditionalCache,
    validators_from_headers,
)
from node_runtime.fetch.pull import POLL_CACHE_NAME, PullError, pull
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml


@dataclass(frozen=True)
class Answered:
    path: str
    status: int
    if_modified_since: str | None
    if_none_match: str | None


class StaticServer:
    """``SimpleHTTPRequestHandler`` over a directory, remembering every answer it gave."""

    def __init__(self, directory: Path) -> None:
        self.answers: list[Answered] = []
        answers = self.answers

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(directory), **kwargs)

            def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
                answers.append(
                    Answered(
                        self.path,
                        int(code),
                        self.headers.get("If-Modified-Since"),
                        self.headers.get("If-None-Match"),
                    )
                )

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def apps(version: str = "1.0.0") -> dict[str, str]:
    return {"demo": manifest_yaml("demo", version=version)}


def age_timestamp(repository: RepositoryHandle) -> None:
    """Make ``timestamp.json`` a minute old, as it is when a node polls between publishes."""
    path = repository.path("metadata/timestamp.json")
    minute_ago = time.time() - 60
    os.utime(path, (minute_ago, minute_ago))


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    handle = make_repository(tmp_path / "origin", apps())
    age_timestamp(handle)
    return handle


@pytest.fixture
def origin(repository: RepositoryHandle) -> Iterator[StaticServer]:
    server = StaticServer(repository.directory)
    yield server
    server.close()


@pytest.fixture
def node(tmp_path: Path, repository: RepositoryHandle, origin: StaticServer) -> NodePaths:
    paths = NodePaths(tmp_path / "node")
    initialise_node(
        paths, repository.root_path.read_bytes(), origin.url, data_root=tmp_path / "data"
    )
    return paths


def test_a_poll_with_nothing_new_is_two_requests_and_the_timestamp_a_304(
    node: NodePaths, origin: StaticServer
) -> None:
    first = pull(node)
    assert first.changed
    timestamp_answer = next(a for a in origin.answers if a.path == "/metadata/timestamp.json")
    assert timestamp_answer.status == 200 and timestamp_answer.if_modified_since is None

    origin.answers.clear()
    again = pull(node)
    assert not again.changed and again.downloaded == []
    assert [(a.path, a.status) for a in origin.answers] == [
        ("/metadata/2.root.json", 404),
        ("/metadata/timestamp.json", 304),
    ]
    assert origin.answers[1].if_modified_since is not None
    assert (node.state_dir / POLL_CACHE_NAME).is_file()


def test_a_new_publish_is_seen_despite_the_remembered_validators(
    node: NodePaths, origin: StaticServer, repository: RepositoryHandle
) -> None:
    pull(node)
    repository.publish(apps("1.1.0"))
    age_timestamp(repository)  # still older than the node's poll, newer than its validator
    path = repository.path("metadata/timestamp.json")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 30))
    origin.answers.clear()
    result = pull(node)
    assert result.changed and result.pointer.targets_version == 2
    timestamp_answer = next(a for a in origin.answers if a.path == "/metadata/timestamp.json")
    assert timestamp_answer.status == 200 and timestamp_answer.if_modified_since is not None


def test_an_expired_timestamp_is_refused_even_when_the_origin_answers_304(
    node: NodePaths, origin: StaticServer, repository: RepositoryHandle
) -> None:
    good = pull(node).pointer
    origin.answers.clear()
    two_days_later = repository.now + timedelta(days=2)  # the timestamp lives one day
    with pytest.raises(PullError) as refused:
        pull(node, reference_time=two_days_later)
    assert str(refused.value) == (
        f"trust: refused the metadata from {origin.url}: timestamp: expired, and the origin "
        "has no newer one (the current catalog is kept)"
    )
    assert [(a.path, a.status) for a in origin.answers] == [
        ("/metadata/2.root.json", 404),
        ("/metadata/timestamp.json", 304),
    ]
    current = NodeState(node).current_catalog()
    assert current is not None and current.current == good
    last = NodeState(node).last_pull()
    assert last is not None and not last.ok


def test_an_unreadable_poll_cache_costs_one_full_get_and_is_replaced(
    node: NodePaths, origin: StaticServer
) -> None:
    pull(node)
    (node.state_dir / POLL_CACHE_NAME).write_bytes(b"{not json")
    origin.answers.clear()
    pull(node)
    assert [(a.path, a.status) for a in origin.answers][-1] == ("/metadata/timestamp.json", 200)
    origin.answers.clear()
    pull(node)
    assert [(a.path, a.status) for a in origin.answers][-1] == ("/metadata/timestamp.json", 304)


# --- the validators' rules, on their own ---


def test_last_modified_is_kept_only_once_the_file_is_a_second_old() -> None:
    fresh = {
        "last-modified": "Mon, 30 Nov 2026 07:00:00 GMT",
        "date": "Mon, 30 Nov 2026 07:00:00 GMT",
    }
    old = {
        "last-modified": "Mon, 30 Nov 2026 07:00:00 GMT",
        "date": "Mon, 30 Nov 2026 07:00:01 GMT",
    }
    assert validators_from_headers(fresh) == (None, None)
    assert validators_from_headers(old) == (None, "Mon, 30 Nov 2026 07:00:00 GMT")
    assert validators_from_headers({"etag": '"abc"'}) == ('"abc"', None)
    assert validators_from_headers({"last-modified": "garbage", "date": "x"}) == (None, None)


def test_the_cache_persists_and_forgets_answers_without_validators(tmp_path: Path) -> None:
    path = tmp_path / "state" / "cache.json"
    cache = ConditionalCache(path)
    cache.put("http://o/t.json", CachedAnswer('"e"', None, b"\x00body"))
    assert ConditionalCache(path).get("http://o/t.json") == CachedAnswer('"e"', None, b"\x00body")
    cache.put("http://o/t.json", CachedAnswer(None, None, b"new"))
    assert ConditionalCache(path).get("http://o/t.json") is None
