"""Start our client against a LiveRepository on disk (file:// transport, no server)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from node_runtime.fetch.tuf_client import Updater, UpdaterConfig
from tests.support.repos import LiveRepository


def trust_root(client_dir: Path, root_bytes: bytes) -> None:
    (client_dir / "metadata" / "root.json").write_bytes(root_bytes)


def updater_for(
    repo: LiveRepository,
    client_dir: Path,
    reference_time: datetime | None = None,
    config: UpdaterConfig | None = None,
) -> Updater:
    return Updater(
        client_dir / "metadata",
        (repo.directory / "metadata").as_uri(),
        client_dir / "targets",
        (repo.directory / "targets").as_uri(),
        config=config,
        reference_time=reference_time,
    )


def fresh_client(repo: LiveRepository, client_dir: Path, **kwargs: object) -> Updater:
    trust_root(client_dir, repo.root_bytes(1))
    return updater_for(repo, client_dir, **kwargs)  # type: ignore[arg-type]
