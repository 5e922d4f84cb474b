"""Build the storefront: verify a repository, render its pages, write them out.

``build_storefront`` reads the repository at an origin through the TUF chain
(:mod:`pipeline.storefront.verified_repository`), renders the site
(:mod:`pipeline.storefront.site`) and writes it into a directory of its own:
the site is written beside it first and swapped in, so the directory holds the
old site or the new one, never half of each.  A directory that is not a
storefront (it has files but no marker) is refused rather than replaced.

Public API: ``build_storefront(origin, trusted_root, out_dir, now) -> StorefrontBuild``,
``write_site(files, out_dir)``, ``StorefrontBuild``, ``MARKER``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from pipeline.publish.layout import STOREFRONT_INDEX
from pipeline.publish.origin import Origin
from pipeline.storefront.site import render_site
from pipeline.storefront.verified_repository import (
    StorefrontSourceError,
    VerifiedRepository,
    read_verified_repository,
)

MARKER = ".archy-storefront"


@dataclass(frozen=True)
class StorefrontBuild:
    out_dir: Path
    repository: VerifiedRepository
    files: dict[str, bytes]

    @property
    def index(self) -> Path:
        return self.out_dir / STOREFRONT_INDEX

    @property
    def pages(self) -> int:
        return sum(1 for path in self.files if path.endswith(".html"))


def _is_replaceable(out_dir: Path) -> bool:
    if not out_dir.exists():
        return True
    if not out_dir.is_dir() or out_dir.is_symlink():
        return False
    return (out_dir / MARKER).is_file() or not any(out_dir.iterdir())


def write_site(files: dict[str, bytes], out_dir: Path) -> None:
    """Write ``files`` as the whole content of ``out_dir`` (swapped in at the end)."""
    if not _is_replaceable(out_dir):
        raise StorefrontSourceError(
            f"{out_dir}: exists and is not a storefront (no {MARKER}); choose an empty or new "
            "directory"
        )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        for path, data in sorted(files.items()):
            relative = PurePosixPath(path)
            if relative.is_absolute() or ".." in relative.parts:
                raise StorefrontSourceError(f"{path}: not a relative site path")
            target = staging.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(0o644)
        (staging / MARKER).write_text("archipelago storefront\n", encoding="utf-8")
        staging.chmod(0o755)
        for directory in staging.rglob("*"):
            if directory.is_dir():
                directory.chmod(0o755)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
        staging.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build_storefront(
    origin: Origin, trusted_root: bytes, out_dir: Path, now: datetime
) -> StorefrontBuild:
    repository = read_verified_repository(origin, trusted_root, now)
    files = render_site(repository)
    write_site(files, out_dir)
    return StorefrontBuild(out_dir, repository, files)
