"""``state/migrations.json``: the one-time migrations of the node's own state that are done.

A migration (e.g. ``derived-names``: units and Podman secrets named
``archy-<app>-<part>`` by binaries before the ``_`` separator) is looked for at
every apply until it is recorded here; once recorded, it is never looked for
again.  Only this module reads or writes the file (through ``state_file``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths, utc_now_text
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model_if_changed,
)


class DoneMigrations(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    done: dict[str, str] = Field(
        default_factory=dict, description="migration name -> when it was finished (UTC)"
    )


def read_done_migrations(paths: NodePaths) -> dict[str, str]:
    """{migration name: when it finished}."""
    done = load_model(paths.migrations_file, DoneMigrations)
    return {} if done is None else dict(done.done)


def migration_done(paths: NodePaths, name: str) -> bool:
    return name in read_done_migrations(paths)


def record_migration_done(paths: NodePaths, name: str) -> None:
    """Remember that ``name`` is finished (the first time only: its date is kept)."""
    done = read_done_migrations(paths)
    if name not in done:
        done[name] = utc_now_text()
        record = DoneMigrations(done=dict(sorted(done.items())))
        save_model_if_changed(paths.migrations_file, record)
