"""``state/stopped.json``: the apps the owner stopped (``archy-node stop``).

A stopped app stays installed; every apply keeps it stopped until ``start``.
Only this module reads or writes the file (through ``state_file``); a write
happens only when the content changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model_if_changed,
)


class StoppedApps(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: list[str] = Field(default_factory=list)


def read_stopped(paths: NodePaths) -> set[str]:
    stopped = load_model(paths.stopped_file, StoppedApps)
    return set() if stopped is None else set(stopped.apps)


def save_stopped(paths: NodePaths, stopped: Iterable[str]) -> None:
    save_model_if_changed(paths.stopped_file, StoppedApps(apps=sorted(set(stopped))))
