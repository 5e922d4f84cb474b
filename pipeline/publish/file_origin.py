"""Origins a publish writes to, and the local-directory one (``file://DIR``).

``Origin`` is the small interface a publish needs: read a file, create an
immutable file (never overwriting one), replace the mutable timestamp.  The
file origin writes each file through a temporary file and a rename, so a
reader never sees half a file; ``create`` links the finished file into
place, which fails rather than overwrite a file another publisher made.

Public API: ``Origin`` (protocol), ``FileOrigin(root)``, ``origin_for_url(url)``,
``OriginError``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import unquote, urlsplit

from pipeline.atomic_file import create_file_once, write_file_atomically


class OriginError(Exception):
    """The origin cannot be reached or written; one line says why."""


class Origin(Protocol):
    def describe(self, path: str = "") -> str: ...

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""

    def create(self, path: str, data: bytes) -> bool:
        """Write a new immutable file; False (and nothing written) if it already exists."""

    def replace(self, path: str, data: bytes) -> None:
        """Write or replace a mutable file atomically."""


def _relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise OriginError(f"{path!r}: origin paths are relative, without '.' or '..'")
    return relative


class FileOrigin:
    """A repository in a local directory: the embedded default origin."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self, path: str = "") -> str:
        return str(self.root / path) if path else str(self.root)

    def _path(self, path: str) -> Path:
        return self.root.joinpath(*_relative(path).parts)

    def read(self, path: str) -> bytes | None:
        try:
            return self._path(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise OriginError(f"{self.describe(path)}: {error.strerror}") from None

    def create(self, path: str, data: bytes) -> bool:
        target = self._path(path)
        try:
            return create_file_once(target, data, mode=0o644)
        except OSError as error:
            raise OriginError(f"{self.describe(path)}: {error.strerror}") from None

    def replace(self, path: str, data: bytes) -> None:
        target = self._path(path)
        try:
            write_file_atomically(target, data, mode=0o644)
        except OSError as error:
            raise OriginError(f"{self.describe(path)}: {error.strerror}") from None


def origin_for_url(url: str, endpoint_url: str | None = None) -> Origin:
    """The origin ``url`` names: ``file:///abs/dir``, ``file://relative/dir``, a path, or
    ``s3://BUCKET/PREFIX`` (``endpoint_url`` for S3-compatible stores; credentials from the
    standard AWS chain)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileOrigin(Path(unquote(parts.netloc + parts.path)))
    if parts.scheme == "":
        return FileOrigin(Path(url))
    if parts.scheme == "s3":
        from pipeline.s3_origin import S3Origin  # boto3 is loaded only for S3 origins

        return S3Origin.from_url(url, endpoint_url)
    raise OriginError(f"{url}: unsupported origin (use file://DIR or s3://BUCKET/PREFIX)")
