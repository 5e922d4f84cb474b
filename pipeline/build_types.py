"""What a catalog build takes and gives: its options, its result, its progress and its refusal.

``BuildRefused`` carries one line per reason and means nothing was written; the
result's ``as_json`` is what ``archy build --json`` prints.  No logic: the build
itself is :mod:`pipeline.catalog_build`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from catalog.address import blake3_hex
from catalog.catalog_model import (
    AppCatalog,
    TargetFile,
)
from catalog.loader import ManifestSource
from catalog.refusal import Refused
from pipeline.changes import ChangeReport
from pipeline.companions import (
    PodmanRunner,
)
from signing.did_key import DidKeySigner

Renderer = Callable[[ManifestSource], dict[str, str]]


class BuildRefused(Refused):
    """The build was refused; ``problems`` holds one line per reason. Nothing was written."""

    def __init__(self, problems: list[str], warnings: list[str] | None = None) -> None:
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(problems))


class BuildProgress(Protocol):
    """How a long step reports itself (the CLI shows a rich progress bar)."""

    def start(self, step: str, total: int) -> None: ...

    def advance(self, item: str) -> None: ...


class SilentProgress:
    def start(self, step: str, total: int) -> None:
        return None

    def advance(self, item: str) -> None:
        return None


@dataclass
class BuildOptions:
    repo: Path = Path(".")
    revision: str = "HEAD"
    out_dir: Path = Path("dist")
    previous: Path | None = None
    dev: bool = False
    require_digests: bool = False
    repository_url: str | None = None
    node_binaries: list[Path] = field(default_factory=list)
    rebuild_companions: bool = False
    podman: PodmanRunner | None = None
    renderer: Renderer | None = None
    cache_dir: Path | None = None
    """Where parsed manifests and rendered units are cached (``REPO/.cache/build``); None: off."""
    companions: Literal["build", "skip"] = "build"
    """``skip`` (dev builds only): leave out the apps whose companion image must be built."""
    seeds: list[str] = field(default_factory=list)
    """Swarm seeds to record in the catalog (``seeds``)."""
    developer: DidKeySigner | None = None
    """A third-party registry's developer key: every app entry is signed with it (its
    did:key signature over the manifest's canonical bytes), and checked before writing."""


@dataclass
class BuildResult:
    catalog: AppCatalog
    catalog_bytes: bytes
    catalog_path: Path
    changes: ChangeReport
    warnings: list[str]
    outputs: dict[str, TargetFile]
    companions_built: list[str] = field(default_factory=list)
    companions_reused: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    """Apps left out of a dev build with ``companions=skip``."""
    cache_hits: int = 0
    cache_misses: int = 0

    @property
    def catalog_blake3(self) -> str:
        return blake3_hex(self.catalog_bytes)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "catalog": str(self.catalog_path),
            "blake3": self.catalog_blake3,
            "length": len(self.catalog_bytes),
            "commit": self.catalog.source.commit,
            "dev_build": self.catalog.dev_build,
            "apps": len(self.catalog.apps),
            "left_out": self.left_out,
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "changes": self.changes.as_json(),
            "companions": {"built": self.companions_built, "reused": self.companions_reused},
            "warnings": self.warnings,
            "outputs": {name: target.model_dump() for name, target in self.outputs.items()},
        }
