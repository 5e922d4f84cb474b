"""``state/apply-failures.json``: updates that failed (and were rolled back), on hold.

An update on hold is not retried until the catalog changes the app's manifest,
or an apply is asked to retry (DESIGN §7).  Only this module reads or writes the
file (through ``state_file``); a write happens only when the content changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model_if_changed,
)


class FailedUpdate(StateModel):
    """An update that failed: not retried until the catalog changes it (or retry is asked)."""

    manifest_blake3: str
    reason: str


class ApplyFailures(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, FailedUpdate] = Field(default_factory=dict)


def read_failures(paths: NodePaths) -> dict[str, FailedUpdate]:
    """Updates that failed (and were rolled back), from ``state/apply-failures.json``."""
    failures = load_model(paths.failures_file, ApplyFailures)
    return {} if failures is None else dict(failures.apps)


def save_failures(paths: NodePaths, failures: Mapping[str, FailedUpdate]) -> None:
    save_model_if_changed(paths.failures_file, ApplyFailures(apps=dict(sorted(failures.items()))))
