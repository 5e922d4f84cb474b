"""``state/secret-owners.json``: which app each Podman secret was created for.

Two apps may derive the same Podman secret name; the node never hands one app's
secret to another, nor deletes it when purging the other.  Only this module
reads or writes the file (through ``state_file``); a write happens only when the
content changes.
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


class SecretOwners(StateModel):
    schema_version: Literal[1] = Field(default=STATE_SCHEMA_VERSION, alias="schema")
    secrets: dict[str, str] = Field(default_factory=dict)


def read_secret_owners(paths: NodePaths) -> dict[str, str]:
    """{Podman secret name: the app the node created it for}."""
    owners = load_model(paths.secret_owners_file, SecretOwners)
    return {} if owners is None else dict(owners.secrets)


def _save(paths: NodePaths, owners: dict[str, str]) -> None:
    save_model_if_changed(
        paths.secret_owners_file, SecretOwners(secrets=dict(sorted(owners.items())))
    )


def record_secret_owners(paths: NodePaths, app_id: str, names: Iterable[str]) -> None:
    """Remember that ``app_id`` owns these Podman secrets (a name already owned is kept)."""
    owners = read_secret_owners(paths)
    merged = {**{name: app_id for name in names}, **owners}
    if merged != owners:
        _save(paths, merged)


def forget_secret_owners(paths: NodePaths, app_id: str, names: Iterable[str]) -> None:
    forgotten = set(names)
    owners = read_secret_owners(paths)
    kept = {k: v for k, v in owners.items() if not (k in forgotten and v == app_id)}
    if kept != owners:
        _save(paths, kept)
