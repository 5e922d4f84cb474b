"""The podman arguments for hosts without a systemd user session (beside the podman engine).

Derived from the same :class:`~catalog.runtime_spec.MemberSpec` the Quadlet
renderer uses (DESIGN §4), so a container started here is configured exactly
like one Quadlet starts; ``tests/podman/test_parity.py`` compares the two
option by option.  What differs is what systemd would otherwise do:

* ``--restart=always`` (conmon restarts the container; podman-restart.service
  brings it back after a reboot) instead of ``Restart=always``;
* no ``--sdnotify=healthy``: the caller starts members in
  :func:`start_order` and waits for each one's health (``podman healthcheck
  run``; without systemd there are no healthcheck timers) before starting
  its dependents.

Functions return podman's arguments *without* the program name, so the
caller chooses how podman is run (as which user, with which environment).
Only arguments are built here; running them is the node agent's job.
"""

from __future__ import annotations

from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.runtime_names import DEFAULT_DATA_ROOT, NETWORK_NAME, podman_secret_name
from catalog.runtime_spec import app_runtime_specs, start_order
from catalog.unit_check import NETWORK_ISOLATION

STOP_TIMEOUT_SECONDS = 30


def run_arguments(spec: MemberSpec) -> list[str]:
    """``podman run`` arguments that create and start one member, detached."""
    args = ["run", "--detach", f"--name={spec.name}", "--restart=always"]
    if spec.entrypoint_argument is not None:
        args.append(f"--entrypoint={spec.entrypoint_argument}")
    if spec.pids_limit is not None:
        args.append(f"--pids-limit={spec.pids_limit}")
    args.append(f"--network={spec.network}")
    args += [f"--network-alias={alias}" for alias in spec.network_aliases]
    if spec.no_new_privileges:
        args.append("--security-opt=no-new-privileges")
    args.extend(f"--device={device}" for device in spec.devices)
    args.extend(f"--cap-drop={capability.lower()}" for capability in spec.cap_drop)
    args.extend(f"--cap-add={capability.lower()}" for capability in spec.cap_add)
    if spec.read_only_rootfs:
        args.append("--read-only")
    if spec.user is not None:
        args.append(f"--user={spec.user}")
    args.append(f"--userns={spec.userns}")
    args.extend(f"--volume={mount.volume_argument}" for mount in spec.mounts)
    args.extend(f"--publish={port.publish_argument}" for port in spec.ports)
    args.extend(f"--env={name}={value}" for name, value in spec.environment)
    args.extend(f"--label={name}={value}" for name, value in spec.labels)
    args.extend(f"--secret={secret.secret_argument}" for secret in spec.secrets)
    if spec.health is not None:
        health = spec.health
        args += [
            f"--health-cmd={health.command_argument}",
            f"--health-interval={health.interval}",
            f"--health-retries={health.retries}",
            f"--health-start-period={health.start_period}",
            f"--health-timeout={health.timeout}",
        ]
    if spec.memory is not None:
        args.append(f"--memory={spec.memory}")
    if spec.cpus is not None:
        args.append(f"--cpus={spec.cpus}")
    args.append(spec.image)
    if spec.command:
        args.extend(spec.command)
    return args


def app_run_arguments(
    manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT
) -> list[tuple[MemberSpec, list[str]]]:
    """Every member with its ``podman run`` arguments, dependencies first."""
    specs = app_runtime_specs(manifest, data_root)
    return [(spec, run_arguments(spec)) for spec in start_order(specs)]


def network_exists_arguments(name: str = NETWORK_NAME) -> list[str]:
    """``podman network exists NAME`` (exit 0 when it does)."""
    return ["network", "exists", name]


def network_create_arguments(
    name: str = NETWORK_NAME, *, ignore_existing: bool = True
) -> list[str]:
    """``podman network create [--ignore] --opt isolate=true NAME``, as Quadlet's network
    unit runs it: podman drops traffic between two isolated networks.

    Podman before 4.5 (Debian 12 has 4.3) has no ``--ignore``: there, check
    :func:`network_exists_arguments` first and pass ``ignore_existing=False``.
    """
    ignore = ["--ignore"] if ignore_existing else []
    return ["network", "create", *ignore, "--opt", NETWORK_ISOLATION, name]


def network_isolation_arguments(name: str) -> list[str]:
    """``podman network inspect``: prints ``true`` when NAME was created isolated."""
    return ["network", "inspect", "--format", '{{index .Options "isolate"}}', name]


def network_users_arguments(name: str) -> list[str]:
    """``podman ps --all``: the id of every container (running or not) attached to NAME."""
    return ["ps", "--all", "--quiet", "--filter", f"network={name}"]


def network_list_arguments() -> list[str]:
    """``podman network ls``: one network name a line."""
    return ["network", "ls", "--format", "{{.Name}}"]


def network_remove_arguments(name: str) -> list[str]:
    """``podman network rm NAME``: without ``--force``, so podman refuses while a
    container still uses it."""
    return ["network", "rm", name]


def secret_create_arguments(app_id: str, secret_name: str) -> list[str]:
    """``podman secret create archy-<app>_<secret> -``: the value comes on stdin, never argv."""
    return ["secret", "create", podman_secret_name(app_id, secret_name), "-"]


def secret_exists_arguments(app_id: str, secret_name: str) -> list[str]:
    """``podman secret inspect`` of one app secret (exit 0 when it exists)."""
    return ["secret", "inspect", "--format", "{{.ID}}", podman_secret_name(app_id, secret_name)]


def healthcheck_arguments(container_name: str) -> list[str]:
    """Run a member's health check once (exit 0 when healthy)."""
    return ["healthcheck", "run", container_name]


def stop_arguments(container_name: str, timeout_seconds: int = STOP_TIMEOUT_SECONDS) -> list[str]:
    return ["stop", "--ignore", f"--time={timeout_seconds}", container_name]


def remove_arguments(container_name: str) -> list[str]:
    """Remove a stopped member's container (never its data: volumes are bind mounts).

    ``--force``: a member that keeps crashing can be started again by its restart
    policy between our ``stop`` and this ``rm``; a plain ``rm`` then refuses a running
    container.  The graceful stop came first, so force only ends such a restart."""
    return ["rm", "--force", "--ignore", f"--time={STOP_TIMEOUT_SECONDS}", container_name]
