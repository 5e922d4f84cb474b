"""What every origin is: the ``Origin`` protocol, its errors, and ``origin_for_url``.

An origin is where a repository is published (DESIGN §6): a local directory
(:mod:`pipeline.publish.file_origin`) or an S3 prefix
(:mod:`pipeline.publish.s3_origin`), with the same layout
(:mod:`pipeline.publish.layout`).  Every publisher — the ceremony's
``signed_repository``, the upload planner and executor, the seed push, the
storefront step — talks to an origin only through this protocol, so each works
with either kind.

Invariants every implementation keeps:

- ``create`` never overwrites: it writes a new immutable file whole, or
  returns False and writes nothing when the file exists;
- ``replace`` writes a mutable file (the timestamp) whole; an origin that can
  (S3) makes it conditional on the state the publish first read, so of two
  publishers that started from the same timestamp only one gets through;
- ``overwrite`` writes a mutable file whole and unconditionally (the storefront,
  on which no trust decision depends);
- a reader sees the old file or the new one, never half of one.

Errors: one family, every member a :class:`catalog.refusal.Refused` (a command
shows it as ``error: MESSAGE`` and exits 1):
``PublishError`` (the publish was refused or stopped) ⊃ ``OriginError`` (the
origin cannot be reached, read or written, or is not ours) ⊃
``PublishConflictError`` (another publisher changed the origin first).

Origins are found by URL scheme in ``ORIGIN_CLASSES`` and imported only when
used, so a file publish never loads boto3; this module imports neither origin.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from catalog.refusal import Refused

MAX_TIMESTAMP_BYTES = 1024 * 1024  # a mutable file (timestamp, storefront page) read back

# URL scheme -> "module:class" of its origin; the class has ``from_url(url, endpoint_url)``.
ORIGIN_CLASSES = {
    "": "pipeline.publish.file_origin:FileOrigin",  # a plain path
    "file": "pipeline.publish.file_origin:FileOrigin",
    "s3": "pipeline.publish.s3_origin:S3Origin",
}


class PublishError(Refused):
    """The publish was refused before writing, or stopped; one line says why."""


class OriginError(PublishError):
    """The origin cannot be reached, read or written, or is not ours; one line says why."""


class PublishConflictError(OriginError):
    """Another publisher changed the origin first; rebuild on top of it and retry."""


@dataclass(frozen=True)
class StoredObject:
    """What an origin knows about a file without reading it."""

    length: int
    blake3: str | None
    """The BLAKE3 recorded when we wrote it; None when the origin keeps none (then a
    publish compares bytes)."""
    etag: str
    """Changes whenever the file does."""


def no_progress(sent: int) -> None:
    """No progress display."""


class Origin(Protocol):
    """A repository's files, by path relative to its root (``metadata/1.root.json``)."""

    def describe(self, path: str = "") -> str:
        """Where ``path`` is, for messages (``s3://bucket/prefix/path``, a file path)."""
        ...

    def ensure_ours(self) -> bool:
        """True when the origin holds our marker, False when it is empty; refuse otherwise."""
        ...

    def stat(self, path: str) -> StoredObject | None:
        """Length, BLAKE3 and ETag of the file, or None if there is no such file."""
        ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""
        ...

    def read_with_etag(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        """The file's bytes (refused above ``max_length``) and ETag, or None."""
        ...

    def create(self, path: str, data: bytes, on_progress: Callable[[int], None] = ...) -> bool:
        """Write a new immutable file; False (and nothing written) if it already exists."""
        ...

    def replace(self, path: str, data: bytes) -> None:
        """Write or replace a mutable file, guarded where the origin can guard it."""
        ...

    def overwrite(self, path: str, data: bytes) -> None:
        """Write or replace a mutable file unconditionally."""
        ...


def origin_for_url(url: str, endpoint_url: str | None = None) -> Origin:
    """The origin ``url`` names: ``file:///abs/dir``, ``file://relative/dir``, a path, or
    ``s3://BUCKET/PREFIX`` (``endpoint_url`` for S3-compatible stores; credentials from the
    standard AWS chain)."""
    target = ORIGIN_CLASSES.get(urlsplit(url).scheme)
    if target is None:
        raise OriginError(f"{url}: unsupported origin (use file://DIR or s3://BUCKET/PREFIX)")
    module_name, class_name = target.split(":")
    origin_class = getattr(importlib.import_module(module_name), class_name)
    origin: Origin = origin_class.from_url(url, endpoint_url)
    return origin
