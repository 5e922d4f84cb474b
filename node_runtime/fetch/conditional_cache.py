"""What a conditional GET needs between pulls: the validators and body of the last answer.

A node polls ``timestamp.json`` every few minutes.  Each ``archy-node pull``
is a new process, so the ETag and ``Last-Modified`` of the previous answer
are kept in the node's state (``state/origin-cache.json``) with the bytes
they validate: when the origin answers ``304 Not Modified`` the fetcher hands
those bytes back, and the TUF client checks them like any download (an
expired timestamp is still refused).

An ETag is always kept (a server must change a strong ETag whenever the
bytes change).  ``Last-Modified`` has a one-second resolution, so it is kept
only when the file was at least one second old at the server's clock
(RFC 9110 §8.8.2.2, a "strong" last-modified): a timestamp written twice in
one second must not be answered 304 to a node that saw the first.

A validator that was not kept costs one full GET on the next poll, never a
stale answer.  An unreadable cache file is ignored (the next answer replaces
it).

Public API: ``CachedAnswer``, ``ConditionalCache(path=None)`` with
``get(url)``, ``put(url, answer)``, ``validators_from_headers(headers)``,
``conditional_headers(answer)``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from node_runtime.store.atomic_file import write_file_atomically

CACHE_FORMAT = 1
MAX_ENTRIES = 16  # a node polls one origin, and a few seeds at most


@dataclass(frozen=True)
class CachedAnswer:
    etag: str | None
    last_modified: str | None
    body: bytes

    @property
    def has_validator(self) -> bool:
        return bool(self.etag or self.last_modified)


def _http_date_seconds(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def validators_from_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(etag, last_modified)`` of a 200 answer, each ``None`` unless it is safe to reuse."""
    etag = headers.get("etag") or None
    last_modified = headers.get("last-modified") or None
    modified_at = _http_date_seconds(last_modified)
    answered_at = _http_date_seconds(headers.get("date"))
    if modified_at is None or answered_at is None or answered_at - modified_at < 1:
        last_modified = None  # unknown age, or written within the second of the answer
    return etag, last_modified


def conditional_headers(answer: CachedAnswer | None) -> dict[str, str]:
    """The ``If-None-Match`` / ``If-Modified-Since`` headers for the next GET."""
    if answer is None:
        return {}
    headers = {}
    if answer.etag:
        headers["If-None-Match"] = answer.etag
    if answer.last_modified:
        headers["If-Modified-Since"] = answer.last_modified
    return headers


class ConditionalCache:
    """url -> the last answer worth revalidating; persisted to ``path`` when one is given."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._answers: dict[str, CachedAnswer] = self._load() if path is not None else {}

    def get(self, url: str) -> CachedAnswer | None:
        return self._answers.get(url)

    def put(self, url: str, answer: CachedAnswer) -> None:
        if not answer.has_validator:
            if self._answers.pop(url, None) is not None:
                self._save()
            return
        if self._answers.get(url) == answer:
            return
        self._answers.pop(url, None)
        self._answers[url] = answer
        while len(self._answers) > MAX_ENTRIES:
            self._answers.pop(next(iter(self._answers)))
        self._save()

    def _load(self) -> dict[str, CachedAnswer]:
        assert self._path is not None
        try:
            document = json.loads(self._path.read_bytes())
            if document.get("format") != CACHE_FORMAT:
                return {}
            return {
                str(url): CachedAnswer(
                    etag=entry.get("etag") or None,
                    last_modified=entry.get("last_modified") or None,
                    body=base64.b64decode(entry["body"], validate=True),
                )
                for url, entry in document["answers"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            return {}

    def _save(self) -> None:
        if self._path is None:
            return
        document = {
            "format": CACHE_FORMAT,
            "answers": {
                url: {
                    "etag": answer.etag,
                    "last_modified": answer.last_modified,
                    "body": base64.b64encode(answer.body).decode("ascii"),
                }
                for url, answer in self._answers.items()
            },
        }
        self._path.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(self._path, json.dumps(document, sort_keys=True).encode() + b"\n")
