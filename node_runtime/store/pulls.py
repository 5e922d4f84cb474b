"""``state/last-pull.json``: the last pull's time and outcome.

Only this module reads or writes the file (through ``state_file``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model,
)


class PullRecord(StateModel):
    """``state/last-pull.json``: the last pull's time and outcome."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    at: str
    ok: bool
    error: str | None = None
    catalog_blake3: str | None = None
    changed: bool = False
    downloaded: list[str] = Field(default_factory=list)


def read_last_pull(paths: NodePaths) -> PullRecord | None:
    return load_model(paths.last_pull_file, PullRecord)


def save_last_pull(paths: NodePaths, record: PullRecord) -> None:
    save_model(paths.last_pull_file, record)
