"""The podman engine: each member is a ``podman run --restart=always`` container.

For hosts without a systemd user session (and this project's CI).  Every
podman argument comes from :mod:`node_runtime.engines.podman_args`, which derives
them from the same member spec the Quadlet units are rendered from; this
module only runs them, through an injectable :class:`PodmanRunner`, with a
deadline on every call (a slow engine is reported, never waited on forever).

Image presence is a bounded, targeted ``podman image inspect`` of the one
reference, never ``podman image exists`` (which can walk the whole store).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from catalog.app_network import is_app_network
from catalog.member_spec import MemberSpec
from catalog.runtime_names import (
    LABEL_APP,
    LABEL_CONFIG_HASH,
    LABEL_MEMBER,
    NETWORK_NAME,
    podman_secret_name,
)
from node_runtime.engines.container_engine import (
    CommandResult,
    ContainerStatus,
    EngineError,
    EngineObservation,
    EngineTimeout,
    PodmanRunner,
)
from node_runtime.engines.podman_args import (
    healthcheck_arguments,
    network_create_arguments,
    network_exists_arguments,
    network_isolation_arguments,
    network_list_arguments,
    network_remove_arguments,
    network_users_arguments,
    remove_arguments,
    run_arguments,
    secret_create_arguments,
    stop_arguments,
)
from node_runtime.plan.observed import ObservedContainer

OBSERVE_TIMEOUT = 30.0
INSPECT_TIMEOUT = 15.0
COMMAND_TIMEOUT = 120.0
PULL_TIMEOUT = 1800.0
STOP_SECONDS = 10
STALE_STOP_SECONDS = 2
STALE_ATTEMPTS = 2


class LocalPodmanRunner:
    """Runs ``podman`` as the current (node) user; kills it at the deadline."""

    def __init__(self, program: str = "podman", env: Mapping[str, str] | None = None) -> None:
        self.program = program
        self.env = None if env is None else {**os.environ, **env}

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        process = subprocess.Popen(
            [self.program, *args],
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise EngineTimeout(
                f"`podman {' '.join(args[:2])}` did not answer within {timeout:g}s"
            ) from None
        return CommandResult(process.returncode, stdout, stderr)


def process_alive(pid: int) -> bool:
    """True when ``pid`` runs (exists and is not a zombie): podman's record may be stale
    when conmon died with its container (a killed service, a machine that lost power)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[-1].split()
    except OSError:
        return False
    return bool(fields) and fields[0] not in (b"Z", b"X")


def _observed(entry: Mapping[str, object]) -> ObservedContainer | None:
    names = entry.get("Names")
    if not isinstance(names, list) or not names:
        return None
    labels = entry.get("Labels")
    labels = labels if isinstance(labels, dict) else {}
    pid = entry.get("Pid")
    started = entry.get("StartedAt")
    running = entry.get("State") == "running" and (
        not isinstance(pid, int) or pid <= 0 or process_alive(pid)
    )
    return ObservedContainer(
        name=str(names[0]),
        id=str(entry.get("Id", "")),
        running=running,
        app_id=labels.get(LABEL_APP),
        member=labels.get(LABEL_MEMBER),
        config_hash=labels.get(LABEL_CONFIG_HASH),
        started_at=str(started) if isinstance(started, int) and started > 0 else "",
    )


class PodmanEngine:
    name = "podman"

    def __init__(self, runner: PodmanRunner) -> None:
        self.runner = runner

    # -- running podman ------------------------------------------------------------------------

    def _run(
        self, args: Sequence[str], *, timeout: float = COMMAND_TIMEOUT, input: bytes | None = None
    ) -> CommandResult:
        return self.runner(args, input=input, timeout=timeout)

    def _must(
        self,
        args: Sequence[str],
        what: str,
        *,
        timeout: float = COMMAND_TIMEOUT,
        input: bytes | None = None,
    ) -> CommandResult:
        result = self._run(args, timeout=timeout, input=input)
        if not result.ok:
            raise EngineError(f"{what} failed: {result.error_line()}")
        return result

    # -- observing -----------------------------------------------------------------------------

    def observe(self) -> EngineObservation:
        listing = self._must(["ps", "--all", "--format", "json"], "listing containers",
                             timeout=OBSERVE_TIMEOUT)  # fmt: skip
        try:
            entries = json.loads(listing.stdout or b"[]")
        except json.JSONDecodeError as error:
            raise EngineError(f"podman ps printed something that is not JSON: {error}") from None
        containers: dict[str, ObservedContainer] = {}
        for entry in entries if isinstance(entries, list) else []:
            observed = _observed(entry) if isinstance(entry, dict) else None
            if observed is not None:
                containers[observed.name] = observed
        secrets = self._must(
            ["secret", "ls", "--noheading", "--format", "{{.Name}}"],
            "listing secrets",
            timeout=OBSERVE_TIMEOUT,
        )
        names = frozenset(line.strip() for line in secrets.stdout.decode().splitlines() if line)
        return EngineObservation(containers, names, self._app_networks())

    def _app_networks(self) -> frozenset[str]:
        listing = self._must(network_list_arguments(), "listing networks", timeout=OBSERVE_TIMEOUT)
        lines = listing.stdout.decode(errors="replace").splitlines()
        return frozenset(line.strip() for line in lines if is_app_network(line.strip()))

    def container_status(self, container: str) -> ContainerStatus | None:
        result = self._run(
            ["inspect", "--type", "container", "--format",
             "{{.State.Status}}|{{.State.Health.Status}}", container],
            timeout=INSPECT_TIMEOUT,
        )  # fmt: skip
        if not result.ok:
            return None
        state, _, health = result.stdout.decode().strip().partition("|")
        return ContainerStatus(state, health)

    def container_identity(self, container: str) -> str | None:
        """``<id> <start time, unix seconds>`` (as ``podman ps`` shows them), None when gone."""
        result = self._run(
            ["inspect", "--type", "container", "--format",
             "{{.Id}} {{.State.StartedAt.Unix}}", container],
            timeout=INSPECT_TIMEOUT,
        )  # fmt: skip
        return result.stdout.decode().strip() if result.ok else None

    def run_health_check(self, container: str) -> bool:
        return self._run(healthcheck_arguments(container), timeout=COMMAND_TIMEOUT).ok

    def logs_tail(self, container: str) -> str:
        result = self._run(["logs", "--tail", "5", container], timeout=INSPECT_TIMEOUT)
        if not result.ok:  # no such container (any more): podman's error is not the app's output
            return ""
        text = (result.stdout + result.stderr).decode(errors="replace").strip()
        return " | ".join(text.splitlines()[-5:])

    # -- node-wide resources -------------------------------------------------------------------

    def create_network(self, name: str) -> None:
        """Create app network ``name``, isolated.  An app network made before networks were
        isolated is made again, isolated, when no container is attached to it; while one is,
        a registry's network is refused: podman drops traffic only between two isolated
        networks, so the official apps would stay reachable."""
        if name != NETWORK_NAME:
            self._require_isolated(NETWORK_NAME)
        if self._run(network_exists_arguments(name), timeout=INSPECT_TIMEOUT).ok:
            self._require_isolated(name)
            return
        # podman 4.3 (Debian 12) has no `network create --ignore`
        result = self._run(network_create_arguments(name, ignore_existing=False))
        if not result.ok and "already exists" not in result.error_line():
            raise EngineError(f"creating network {name} failed: {result.error_line()}")

    def _require_isolated(self, name: str) -> None:
        result = self._run(network_isolation_arguments(name), timeout=INSPECT_TIMEOUT)
        if not result.ok or result.stdout.decode(errors="replace").strip() == "true":
            return
        if not self._make_isolated_if_unused(name):
            raise EngineError(
                f"network {name} exists but is not isolated (made before registries had "
                f"networks of their own); stop the apps on it and `podman network rm {name}`, "
                "then apply again"
            )

    def _make_isolated_if_unused(self, name: str) -> bool:
        """Make network ``name`` again, isolated, when no container (running or not) is
        attached to it: nothing is cut off.  False while one is, or when podman refuses."""
        users = self._run(network_users_arguments(name), timeout=INSPECT_TIMEOUT)
        if not users.ok or users.stdout.strip():
            return False
        if not self._run(network_remove_arguments(name), timeout=INSPECT_TIMEOUT).ok:
            return False
        created = self._run(network_create_arguments(name, ignore_existing=False))
        if not created.ok:
            raise EngineError(f"creating network {name} failed: {created.error_line()}")
        return True

    def remove_network(self, name: str) -> None:
        """Remove a registry's network; refused (EngineError) while a container uses it."""
        if not is_app_network(name) or name == NETWORK_NAME:
            raise EngineError(f"{name!r} is not a registry's network; the node never removes it")
        if not self._run(network_exists_arguments(name), timeout=INSPECT_TIMEOUT).ok:
            return
        result = self._run(network_remove_arguments(name), timeout=INSPECT_TIMEOUT)
        if not result.ok:
            raise EngineError(f"removing network {name} failed: {result.error_line()}")

    def image_present(self, image: str) -> bool:
        result = self._run(["image", "inspect", "--format", "{{.Id}}", image],
                           timeout=INSPECT_TIMEOUT)  # fmt: skip
        return result.ok

    def pull_image(self, image: str) -> None:
        self._must(["pull", "--quiet", image], f"pulling {image}", timeout=PULL_TIMEOUT)

    def load_image_archive(self, archive: Path) -> None:
        self._must(["load", "--quiet", "--input", str(archive)], f"loading {archive.name}",
                   timeout=PULL_TIMEOUT)  # fmt: skip

    def create_podman_secret(self, app_id: str, secret_name: str, value: bytes) -> None:
        result = self._run(secret_create_arguments(app_id, secret_name), input=value)
        if not result.ok:
            # never echo podman's output here: it is about a secret
            raise EngineError(
                f"creating podman secret {podman_secret_name(app_id, secret_name)} failed "
                f"(exit status {result.returncode})"
            )

    def remove_podman_secret(self, app_id: str, secret_name: str) -> None:
        self.remove_podman_secret_named(podman_secret_name(app_id, secret_name))

    def remove_podman_secret_named(self, name: str) -> None:
        result = self._run(["secret", "rm", name])
        if not result.ok and "no such secret" not in result.error_line():
            raise EngineError(f"removing podman secret {name} failed: {result.error_line()}")

    # -- files in the user namespace -----------------------------------------------------------

    def chown_in_user_namespace(self, path: str, container_uid: int) -> None:
        owner = f"{container_uid}:{container_uid}"
        self._must(["unshare", "chown", owner, path], f"giving {path} to container uid {owner}")

    def remove_tree_in_user_namespace(self, path: str) -> None:
        self._must(["unshare", "rm", "-rf", "--", path], f"removing {path}")

    # -- units and members ---------------------------------------------------------------------

    def write_units(
        self, app_id: str, units: Mapping[str, str], dropins: Mapping[str, str] = {}
    ) -> None:
        """No units without systemd: the member specs carry the same configuration."""

    def remove_units(self, app_id: str) -> None:
        """No units without systemd."""

    def start_member(self, spec: MemberSpec, *, create: bool) -> None:
        if create:
            self._must(run_arguments(spec), f"starting {spec.name}")
            return
        for _ in range(STALE_ATTEMPTS):
            status = self.container_status(spec.name)
            if status is None or status.state not in ("running", "stopping"):
                break
            # podman still records it running, but its process is gone (the plan only
            # starts members it saw dead, e.g. after conmon was killed): let podman
            # notice the exit, then tear down its network (the port forwarder died
            # too) so the start sets it up again
            self._run(stop_arguments(spec.name, STALE_STOP_SECONDS))
            self._run(["container", "cleanup", spec.name])
        else:
            # podman 4.3 can leave such a container "stopping" for good; it is dead and
            # its data is a bind mount: remove it and create it again from the same spec
            self._must(["rm", "--force", "--time=0", spec.name], f"removing dead {spec.name}")
            self._must(run_arguments(spec), f"starting {spec.name}")
            return
        self._must(["start", spec.name], f"starting {spec.name}")

    def stop_member(self, app_id: str, container: str) -> None:
        self._must(stop_arguments(container, STOP_SECONDS), f"stopping {container}")

    def container_owner(self, container: str) -> str | None:
        """The ``archy.app`` label of a container ("" without one), None when it is gone."""
        result = self._run(
            ["inspect", "--type", "container", "--format",
             f'{{{{index .Config.Labels "{LABEL_APP}"}}}}', container],
            timeout=INSPECT_TIMEOUT,
        )  # fmt: skip
        if not result.ok:
            return None
        owner = result.stdout.decode().strip()
        return "" if owner == "<no value>" else owner

    def remove_member(self, app_id: str, container: str) -> None:
        owner = self.container_owner(container)
        if owner and owner != app_id:
            raise EngineError(f"container {container} belongs to app {owner!r}; not removed")
        self._must(stop_arguments(container, STOP_SECONDS), f"stopping {container}")
        self._must(remove_arguments(container), f"removing {container}")

    def restart_member(self, spec: MemberSpec) -> None:
        self._must(["restart", f"--time={STOP_SECONDS}", spec.name], f"restarting {spec.name}")

    def exec_in(self, container: str, command: Sequence[str]) -> None:
        self._must(["exec", container, *command], f"running {command[0]} in {container}")

    def copy_into(self, source: str, container: str, destination: str) -> None:
        self._must(["cp", source, f"{container}:{destination}"],
                   f"copying {source} into {container}")  # fmt: skip
