"""``state/changed-settings.json``: owner settings changed since their Podman secret was made.

``archy-node configure`` marks a setting whose value changed; the next apply re-creates
that Podman secret, recreates the members that use it (a ``type=env`` secret is read
when a container is created) and clears the mark.  Names only: no value, and no digest
of one, is ever kept here.  Only this module reads or writes the file; a write
happens only when the content changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import Field

from node_runtime.store.paths import NodePaths
from node_runtime.store.state_file import (
    STATE_SCHEMA_VERSION,
    StateModel,
    load_model,
    save_model_if_changed,
)


class ChangedSettings(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    apps: dict[str, list[str]] = Field(default_factory=dict)


def read_changed_settings(paths: NodePaths) -> Mapping[str, frozenset[str]]:
    """app id -> the names of its settings changed since their Podman secret was made."""
    changed = load_model(paths.state_dir / "changed-settings.json", ChangedSettings)
    return {} if changed is None else {a: frozenset(n) for a, n in changed.apps.items()}


def _save(paths: NodePaths, apps: Mapping[str, Iterable[str]]) -> None:
    kept = {app: sorted(set(names)) for app, names in sorted(apps.items()) if names}
    save_model_if_changed(paths.state_dir / "changed-settings.json", ChangedSettings(apps=kept))


def mark_settings_changed(paths: NodePaths, app_id: str, names: Iterable[str]) -> None:
    apps = {app: set(names) for app, names in read_changed_settings(paths).items()}
    apps.setdefault(app_id, set()).update(names)
    _save(paths, apps)


def clear_setting_changed(paths: NodePaths, app_id: str, name: str) -> None:
    apps = {app: set(names) for app, names in read_changed_settings(paths).items()}
    if name in apps.get(app_id, set()):
        apps[app_id].discard(name)
        _save(paths, apps)
