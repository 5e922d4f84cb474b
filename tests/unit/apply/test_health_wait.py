"""The health wait (node_runtime.apply.health): a member that crashes at start fails the
wait with its last log lines, even when podman could not inspect it for a moment.

FAKE ENGINE: podman's inspect failing for a moment while a crashing member is being
restarted (``--restart=always``) is a race this machine cannot cause on demand, so these
tests drive ``wait_healthy`` with a scripted engine.  The real path (a member that exits
at once, under rootless podman) is
``tests/integration/appdev/test_app_test.py::test_a_failing_app_fails_its_cell_with_the_reason_and_its_logs``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from catalog.loader import parse_yaml_document
from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.runtime_spec import app_runtime_specs
from node_runtime.apply.health import wait_healthy
from node_runtime.apply.outcome import ActionFailed
from node_runtime.engines.container_engine import ContainerStatus
from tests.support.sample_manifest import VALID_MANIFEST


def _spec() -> MemberSpec:
    data, _lines = parse_yaml_document(VALID_MANIFEST.encode(), "manifest.yml")
    data["containers"] = [
        {"name": "demo-web", "image": "docker.io/library/nginx:1.27.3", "command": ["true"]}
    ]
    data.pop("ui", None)
    data["generated_secrets"] = []
    [spec] = app_runtime_specs(Manifest.model_validate(data))
    return spec


class ScriptedEngine:
    """FAKE: answers container_status from a script, then its last answer forever."""

    def __init__(self, statuses: list[ContainerStatus | None], logs: str) -> None:
        self._statuses: Iterator[ContainerStatus | None] = iter(statuses)
        self._last: ContainerStatus | None = None
        self.logs = logs

    def container_status(self, container: str) -> ContainerStatus | None:
        self._last = next(self._statuses, self._last)
        return self._last

    def run_health_check(self, container: str) -> bool:
        return False

    def logs_tail(self, container: str) -> str:
        return self.logs


def test_a_member_podman_could_not_inspect_for_a_moment_fails_with_its_logs() -> None:
    stopped = ContainerStatus("stopped", "")
    engine = ScriptedEngine([None, None, stopped], logs="boom-from-the-app")

    with pytest.raises(ActionFailed) as refused:
        wait_healthy(engine, _spec(), budget=0.6)  # type: ignore[arg-type]

    assert str(refused.value) == (
        "demo-web did not become healthy within 0.6s (stopped); last log lines: boom-from-the-app"
    )


def test_a_member_never_seen_again_is_named_gone_without_invented_logs() -> None:
    engine = ScriptedEngine([None], logs="")

    with pytest.raises(ActionFailed) as refused:
        wait_healthy(engine, _spec(), budget=0.3)  # type: ignore[arg-type]

    assert str(refused.value) == "demo-web did not become healthy within 0.3s (no such container)"


def test_a_running_member_without_a_check_passes_at_once() -> None:
    engine = ScriptedEngine([None, ContainerStatus("running", "")], logs="")

    wait_healthy(engine, _spec(), budget=5)  # type: ignore[arg-type]
