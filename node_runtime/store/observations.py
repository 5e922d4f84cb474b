"""``state/observed.json``: the last app list the container engine gave (the observation cache).

Kept so that when the engine is too slow to answer, status shows the last known
list marked stale instead of an empty one.  Written only when the list changes
(its ``observed_at`` is when it last changed).  Only this module reads or writes
the file (through ``state_file``).
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

AppMembers = dict[str, dict[str, bool]]
"""{app id: {container name: running}}"""


class ObservedApps(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: AppMembers = Field(default_factory=dict)
    observed_at: str | None = None


def read_observed(paths: NodePaths) -> ObservedApps:
    """The last remembered list (empty, with no time, before the first observation)."""
    return load_model(paths.observed_file, ObservedApps) or ObservedApps()


def remember_observed(paths: NodePaths, apps: AppMembers) -> None:
    """Keep ``apps`` as the last known list, unless it is the one already kept."""
    if read_observed(paths).apps == apps:
        return
    save_model_if_changed(paths.observed_file, ObservedApps(apps=apps, observed_at=utc_now_text()))
