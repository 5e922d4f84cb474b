"""The stage engine: the catalog's units written into a directory, nothing started.

For a node user without a usable container engine (no podman, or podman
without the apps' images on an offline machine: ``archy dev-flow`` on a
fresh clone).  It does not pretend: :func:`node_runtime.apply.run.apply` takes
its own staging path for this engine, which writes each installed app's
units (the catalog's bytes, as the Quadlet engine would), creates the data
dirs and the generated secrets (0600, once, never regenerated) and reports
every app as ``staged``, never ``ok``.  Nothing is pulled, created or
started, and nothing is recorded as applied.

Without an engine the container uids of the data dirs cannot be mapped:
the dirs are owned by the node user (the result says so for every dir a
non-root container uid should own).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from catalog.member_spec import MemberSpec
from node_runtime.engines.container_engine import (
    ContainerStatus,
    EngineError,
    EngineObservation,
)
from node_runtime.engines.engine_names import STAGE_ENGINE_NAME
from node_runtime.engines.quadlet_engine import (
    network_unit_networks,
    remove_app_units,
    remove_network_unit,
    write_app_units,
)

STAGED_REASON = "not started (the stage engine starts nothing)"


def staged_reason(unit_dir: Path) -> str:
    """What a staged app's result says: where its units are, and why nothing runs."""
    return f"units written to {unit_dir}, {STAGED_REASON}"


class StageEngine:
    """Units into ``unit_dir``; every call that would run a container is refused."""

    name = STAGE_ENGINE_NAME

    def __init__(self, unit_dir: Path) -> None:
        self.unit_dir = unit_dir

    def _refuse(self, what: str) -> EngineError:
        return EngineError(f"the stage engine starts nothing ({what})")

    # observing: no engine, so no containers and no podman secrets
    def observe(self) -> EngineObservation:
        return EngineObservation({}, frozenset(), network_unit_networks(self.unit_dir))

    def container_status(self, container: str) -> ContainerStatus | None:
        return None

    def container_identity(self, container: str) -> str | None:
        return None

    def run_health_check(self, container: str) -> bool:
        return False

    def logs_tail(self, container: str) -> str:
        return ""

    # node-wide resources
    def create_network(self, name: str) -> None:
        """``<name>.network`` is one of every app's units."""

    def remove_network(self, name: str) -> None:
        """A registry network's unit goes with the registry's last app."""
        remove_network_unit(self.unit_dir, name)

    def image_present(self, image: str) -> bool:
        return False

    def pull_image(self, image: str) -> None:
        raise self._refuse(f"would pull {image}")

    def load_image_archive(self, archive: Path) -> None:
        raise self._refuse(f"would load {archive.name}")

    def create_podman_secret(self, app_id: str, secret_name: str, value: bytes) -> None:
        raise self._refuse(f"would create a podman secret for {app_id}")

    def remove_podman_secret(self, app_id: str, secret_name: str) -> None:
        """No engine holds a secret; the secret files are the purge's business."""

    # files: owned by the node user, there is no user namespace to map uids into
    def chown_in_user_namespace(self, path: str, container_uid: int) -> None:
        """Left to the node user (see the module docstring)."""

    def remove_tree_in_user_namespace(self, path: str) -> None:
        shutil.rmtree(path)

    # units and members
    def write_units(
        self, app_id: str, units: Mapping[str, str], dropins: Mapping[str, str] = {}
    ) -> None:
        write_app_units(self.unit_dir, app_id, units, dropins)

    def remove_units(self, app_id: str) -> None:
        remove_app_units(self.unit_dir, app_id)

    def start_member(self, spec: MemberSpec, *, create: bool) -> None:
        raise self._refuse(f"would start {spec.name}")

    def stop_member(self, app_id: str, container: str) -> None:
        """Nothing runs."""

    def remove_member(self, app_id: str, container: str) -> None:
        """Nothing was created."""

    def restart_member(self, spec: MemberSpec) -> None:
        raise self._refuse(f"would restart {spec.name}")

    def exec_in(self, container: str, command: Sequence[str]) -> None:
        raise self._refuse(f"would run {command[0]} in {container}")

    def copy_into(self, source: str, container: str, destination: str) -> None:
        raise self._refuse(f"would copy into {container}")
