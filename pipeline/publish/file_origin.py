"""The local-directory origin (``file://DIR`` or a path): the embedded default origin.

Every write goes through :mod:`pipeline.atomic_file`: a temporary file in the
same directory, fsynced, then moved into place and the directory fsynced, so a
reader (or a crash) sees the old file or the new one, never half of one.
``create`` links the finished file into place, which fails rather than
overwrite a file another publisher made.  ``replace`` and ``overwrite`` are
the same unconditional atomic write: a directory has no ETag to guard on.

A directory is ours (``ensure_ours``) when it holds the marker of
:mod:`pipeline.publish.layout`, or is empty; the upload planner checks that
before it plans a write.  The file origin does not claim a directory by
itself: the ceremony's ``archy publish`` writes into ``dist/repo`` without a
marker, as it always has.

Public API: ``FileOrigin(root)`` and ``FileOrigin.from_url(url)`` — an
:class:`pipeline.publish.origin.Origin`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from pipeline.atomic_file import create_file_once, write_file_atomically
from pipeline.publish.layout import MARKER_PATH, is_plain_relative
from pipeline.publish.origin import OriginError, StoredObject, no_progress


def _relative(path: str) -> PurePosixPath:
    if not is_plain_relative(path):
        raise OriginError(f"{path!r}: origin paths are relative, without '.' or '..'")
    return PurePosixPath(path)


def _etag(status: os.stat_result) -> str:
    return f'"{status.st_size}-{status.st_mtime_ns}"'


class FileOrigin:
    """A repository in a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_url(cls, url: str, endpoint_url: str | None = None) -> FileOrigin:
        """``file:///abs/dir``, ``file://relative/dir`` or a plain path."""
        parts = urlsplit(url)
        if parts.scheme == "file":
            return cls(Path(unquote(parts.netloc + parts.path)))
        return cls(Path(url))

    def describe(self, path: str = "") -> str:
        return str(self.root / path) if path else str(self.root)

    def _path(self, path: str) -> Path:
        return self.root.joinpath(*_relative(path).parts)

    def _failed(self, path: str, error: OSError) -> OriginError:
        return OriginError(f"{self.describe(path)}: {error.strerror}")

    def ensure_ours(self) -> bool:
        """True when the directory holds our marker, False when it is empty or absent."""
        if self.stat(MARKER_PATH) is not None:
            return True
        try:
            with os.scandir(self.root) as entries:
                empty = next(entries, None) is None
        except FileNotFoundError:
            return False
        except OSError as error:
            raise self._failed("", error) from None
        if not empty:
            raise OriginError(
                f"{self.describe()} is not empty and has no {MARKER_PATH} marker: it is not an "
                "Archipelago repository; publish to an empty directory"
            )
        return False

    def stat(self, path: str) -> StoredObject | None:
        try:
            status = self._path(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise self._failed(path, error) from None
        if not stat.S_ISREG(status.st_mode):
            raise OriginError(f"{self.describe(path)}: not a file")
        return StoredObject(status.st_size, None, _etag(status))

    def read(self, path: str) -> bytes | None:
        try:
            return self._path(path).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise self._failed(path, error) from None

    def read_with_etag(self, path: str, max_length: int) -> tuple[bytes, str] | None:
        try:
            with self._path(path).open("rb") as stream:
                status = os.fstat(stream.fileno())
                if status.st_size > max_length:
                    raise OriginError(f"{self.describe(path)}: larger than {max_length} bytes")
                data = stream.read(max_length + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            raise self._failed(path, error) from None
        if len(data) > max_length:
            raise OriginError(f"{self.describe(path)}: larger than {max_length} bytes")
        return data, _etag(status)

    def create(
        self, path: str, data: bytes, on_progress: Callable[[int], None] = no_progress
    ) -> bool:
        target = self._path(path)
        try:
            created = create_file_once(target, data, mode=0o644)
        except OSError as error:
            raise self._failed(path, error) from None
        if created:
            on_progress(len(data))
        return created

    def replace(self, path: str, data: bytes) -> None:
        target = self._path(path)
        try:
            write_file_atomically(target, data, mode=0o644)
        except OSError as error:
            raise self._failed(path, error) from None

    def overwrite(self, path: str, data: bytes) -> None:
        self.replace(path, data)
