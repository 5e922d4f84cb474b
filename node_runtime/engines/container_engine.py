"""What the apply step needs from a container engine, and how podman is run.

The engine is injectable end to end: :class:`PodmanRunner` is any callable
that runs ``podman <args>`` (as the node user, with a deadline) and returns
its exit status and output.  The real node uses
:class:`~node_runtime.engines.podman_engine.LocalPodmanRunner`; the tests run
the same engine against rootless podman as a test user, and the benchmark
counts calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from catalog.member_spec import MemberSpec
from catalog.refusal import Refused
from node_runtime.plan.observed import ObservedContainer


class EngineError(Refused):
    """The container engine refused or failed a command; the message says which and why.

    A ``Refused``: a command that meets one says so in one line and exits 1."""


class EngineTimeout(EngineError):
    """The container engine did not answer before its deadline (it may just be slow)."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error_line(self) -> str:
        """The last non-empty line of stderr (podman's reason), or the exit status."""
        lines = [line for line in self.stderr.decode(errors="replace").splitlines() if line.strip()]
        return lines[-1].strip() if lines else f"exit status {self.returncode}"


class PodmanRunner(Protocol):
    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        """Run ``podman <args>``; raise EngineTimeout if it runs past ``timeout`` seconds."""
        ...


@dataclass(frozen=True)
class EngineObservation:
    containers: Mapping[str, ObservedContainer]
    podman_secrets: frozenset[str]
    networks: frozenset[str]
    """The app networks that exist (``catalog.app_network.is_app_network``), no others."""


@dataclass(frozen=True)
class ContainerStatus:
    """``state``: created/running/exited/…; ``health``: healthy/unhealthy/starting or ''."""

    state: str
    health: str

    @property
    def running(self) -> bool:
        return self.state == "running"


class ContainerEngine(Protocol):
    name: str

    # observing
    def observe(self) -> EngineObservation: ...
    def container_status(self, container: str) -> ContainerStatus | None: ...
    def container_identity(self, container: str) -> str | None: ...
    def run_health_check(self, container: str) -> bool: ...
    def logs_tail(self, container: str) -> str: ...

    # node-wide resources
    def create_network(self, name: str) -> None: ...
    def remove_network(self, name: str) -> None: ...
    def image_present(self, image: str) -> bool: ...
    def pull_image(self, image: str) -> None: ...
    def load_image_archive(self, archive: Path) -> None: ...
    def create_podman_secret(self, app_id: str, secret_name: str, value: bytes) -> None: ...
    def remove_podman_secret(self, app_id: str, secret_name: str) -> None: ...

    # files in the user namespace (data owned by subordinate uids)
    def chown_in_user_namespace(self, path: str, container_uid: int) -> None: ...
    def remove_tree_in_user_namespace(self, path: str) -> None: ...

    # units and members
    def write_units(
        self, app_id: str, units: Mapping[str, str], dropins: Mapping[str, str] = ...
    ) -> None: ...
    def remove_units(self, app_id: str) -> None: ...
    def start_member(self, spec: MemberSpec, *, create: bool) -> None: ...
    def stop_member(self, app_id: str, container: str) -> None: ...
    def remove_member(self, app_id: str, container: str) -> None: ...
    def restart_member(self, spec: MemberSpec) -> None: ...
    def exec_in(self, container: str, command: Sequence[str]) -> None: ...
    def copy_into(self, source: str, container: str, destination: str) -> None: ...
