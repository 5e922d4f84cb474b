"""The node engines' podman runner, run as the rootless test user (real podman)."""

from __future__ import annotations

from collections.abc import Sequence

from node_runtime.engines.container_engine import CommandResult
from tests.realparts.podman_user import RootlessPodman


class PodmanAsTestUser:
    """A ``PodmanRunner`` for ``PodmanEngine`` that runs podman as the rootless test user."""

    def __init__(self, podman: RootlessPodman) -> None:
        self.podman = podman

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        done = self.podman.run(*args, check=False, input=input, text=False, timeout=timeout)
        return CommandResult(done.returncode, done.stdout, done.stderr)
