"""``state/installed.json``: the apps the owner wants on this node (desired state).

Only this module reads or writes the file (through ``state_file``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths, utc_now_text
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model,
)


class InstalledApp(StateModel):
    installed_at: str = Field(description="when the owner installed it (UTC)")


class InstalledApps(StateModel):
    """``state/installed.json``: the apps the owner wants on this node (desired state)."""

    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, InstalledApp] = Field(default_factory=dict)

    def with_app(self, app_id: str) -> InstalledApps:
        if app_id in self.apps:
            return self
        return self.model_copy(
            update={"apps": {**self.apps, app_id: InstalledApp(installed_at=utc_now_text())}}
        )

    def without_app(self, app_id: str) -> InstalledApps:
        return self.model_copy(update={"apps": {k: v for k, v in self.apps.items() if k != app_id}})


def read_installed(paths: NodePaths) -> InstalledApps:
    return load_model(paths.installed_file, InstalledApps) or InstalledApps()


def save_installed(paths: NodePaths, installed: InstalledApps) -> None:
    save_model(paths.installed_file, installed)
