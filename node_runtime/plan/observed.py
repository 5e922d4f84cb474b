"""What the node has right now, as the planner sees it: containers, secrets, dirs, network.

Filled by the caller (``apply.observe``) from one bounded engine observation and
the node's own files; read-only here.  Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObservedContainer:
    """One container as ``podman ps -a`` shows it."""

    name: str
    id: str
    running: bool
    app_id: str | None = None
    member: str | None = None
    config_hash: str | None = None
    started_at: str = ""

    @property
    def identity(self) -> str:
        """``<id> <start time>``: changes with every start (see ``container_identity``)."""
        return f"{self.id} {self.started_at}"


@dataclass(frozen=True)
class ObservedState:
    """What the node has right now (every field filled by the caller, read-only here)."""

    containers: Mapping[str, ObservedContainer] = field(default_factory=dict)
    podman_secrets: frozenset[str] = frozenset()
    secret_files: frozenset[str] = frozenset()
    existing_dirs: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()
    """The app networks that exist (``archy-net``, registries' ``archy-<hex>-net``)."""
    secret_owners: Mapping[str, str] = field(default_factory=dict)
    changed_settings: frozenset[str] = frozenset()
    """Podman names of owner settings changed since their secret was made."""
    hook_runs: Mapping[str, str] = field(default_factory=dict)
    """container -> the identity its hooks last ran for (``store.hook_runs``)."""
