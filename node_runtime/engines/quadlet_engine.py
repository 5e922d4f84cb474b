"""The Quadlet engine: the catalog's units in ``~/.config/containers/systemd/``, run by systemd.

Chosen automatically where the node user has a systemd user session
(``$XDG_RUNTIME_DIR/systemd/private`` exists and ``systemctl`` is installed).
The units written are the catalog's bytes, exactly what CI checked with the
real Quadlet generator.  Writes are atomic and only happen when a unit's
bytes differ; node-specific settings live in drop-ins (``<unit>.d/*.conf``),
which this engine never writes, moves or removes, apart from its own one,
``<unit>.d/archy-hooks.conf`` (:data:`HOOKS_DROPIN`): the ``ExecStartPost=`` that
runs a member's hooks at every start (docs/hooks.md).  A unit file belongs to an
app when its first line is the renderer's header naming that app, so an
app id that is a prefix of another (``foo``, ``foo-bar``) never takes the
other's units.

Observation, images, secrets and health checks go through podman, as in the
podman engine; members are started, stopped and restarted through
``systemctl --user`` so systemd (and not conmon) supervises them.

Machines without systemd (this project's CI) cannot run this engine for
real: the tests check the unit writing and that the real Quadlet generator
accepts the written directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from catalog.app_network import NETWORK_UNIT_SUFFIX, is_app_network, network_unit_file
from catalog.member_spec import MemberSpec
from catalog.runtime_names import NETWORK_NAME, member_unit_name
from catalog.unit_check import NETWORK_HEADER, unit_header, unit_owner
from node_runtime.engines.container_engine import (
    CommandResult,
    EngineError,
    EngineObservation,
    EngineTimeout,
    PodmanRunner,
)
from node_runtime.engines.podman_engine import INSPECT_TIMEOUT, PodmanEngine
from node_runtime.store.atomic_file import write_file_atomically

HOOKS_DROPIN = "archy-hooks.conf"
SYSTEMCTL_TIMEOUT = 600.0  # a unit's start waits for health (Notify=healthy)
UNIT_NOT_LOADED = 5  # systemctl's exit status for "Unit X.service not loaded."


def default_quadlet_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "containers" / "systemd"


def systemd_user_session_available() -> bool:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or shutil.which("systemctl") is None:
        return False
    return Path(runtime, "systemd", "private").exists()


class SystemctlRunner(Protocol):
    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        """Run ``systemctl --user <args>``."""
        ...


class LocalSystemctl:
    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        try:
            process = subprocess.run(
                ["systemctl", "--user", *args], capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise EngineTimeout(
                f"`systemctl --user {args[0]}` did not finish in {timeout:g}s"
            ) from None
        return CommandResult(process.returncode, process.stdout, process.stderr)


def app_unit_files(unit_dir: Path, app_id: str) -> list[Path]:
    """The unit files in ``unit_dir`` that the renderer wrote for ``app_id`` (not drop-ins)."""
    header = unit_header(app_id).encode()
    found: list[Path] = []
    if not unit_dir.is_dir():
        return found
    for path in sorted(unit_dir.iterdir()):
        if not path.is_file() or path.is_symlink() or path.name.startswith("."):
            continue
        with path.open("rb") as stream:
            if stream.readline().rstrip(b"\n") == header:
                found.append(path)
    return found


def is_network_unit_file(name: str) -> bool:
    """``archy-net.network`` or a registry's ``archy-<hex>-net.network``."""
    return name.endswith(NETWORK_UNIT_SUFFIX) and is_app_network(
        name.removesuffix(NETWORK_UNIT_SUFFIX)
    )


def network_unit_networks(unit_dir: Path) -> frozenset[str]:
    """The app networks whose unit (the renderer's network header) is in ``unit_dir``."""
    if not unit_dir.is_dir():
        return frozenset()
    found = set()
    for path in unit_dir.iterdir():
        if not is_network_unit_file(path.name) or path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as stream:
            if stream.readline().rstrip(b"\n") == NETWORK_HEADER.encode():
                found.add(path.name.removesuffix(NETWORK_UNIT_SUFFIX))
    return frozenset(found)


def remove_network_unit(unit_dir: Path, network: str) -> bool:
    """Remove a registry network's unit (never ``archy-net.network``, never a file the
    registry did not write); True when one was removed."""
    if network == NETWORK_NAME or not is_app_network(network):
        raise EngineError(f"{network!r} is not a registry's network; the node never removes it")
    path = unit_dir / network_unit_file(network)
    if unit_file_owner(path) != "":
        return False
    path.unlink()
    return True


def unit_file_owner(path: Path) -> str | None:
    """Who a unit file in the unit dir belongs to: an app id, "" for the shared network
    unit, None when it is missing.  Raises EngineError for a symlink or a file the
    registry did not write (the node never replaces either)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise EngineError(f"{path} is not a regular file (a symlink?); the node never replaces it")
    with path.open("rb") as stream:
        first = stream.readline().rstrip(b"\n").decode("utf-8", errors="replace")
    owner = unit_owner(first)
    if owner is None:
        raise EngineError(f"{path} was not written by the registry; the node never replaces it")
    return owner


def write_app_units(
    unit_dir: Path, app_id: str, units: Mapping[str, str], dropins: Mapping[str, str] = {}
) -> bool:
    """Make ``unit_dir`` hold exactly ``units`` for the app; True when anything changed.

    Each unit is written atomically and only when its bytes differ; the app's
    units that are gone from ``units`` are removed; drop-in dirs stay, and in them
    only the node's own :data:`HOOKS_DROPIN` is written (``dropins``: unit name ->
    its text) or removed (a unit without hooks).  A unit
    file that belongs to another app (its header names that app), or that the
    registry did not write, is never replaced: EngineError before anything is written.
    """
    for name in units:
        if not name or "/" in name or name.startswith(".") or name.endswith(".d"):
            raise EngineError(f"{name!r} is not a unit file name")
    unit_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted(units):
        owner = unit_file_owner(unit_dir / name)
        if owner not in (None, "", app_id) or (owner == "" and not is_network_unit_file(name)):
            raise EngineError(f"unit {name} belongs to app {owner!r}; {app_id} may not replace it")
    for name in dropins:
        if name not in units or is_network_unit_file(name):
            raise EngineError(f"a hooks drop-in for {name!r}, which is not one of the app's units")
    changed = False
    for name, text in sorted(units.items()):
        changed |= _write_if_changed(unit_dir / name, text.encode())
    for path in app_unit_files(unit_dir, app_id):
        if path.name not in units:
            changed |= _remove_hooks_dropin(unit_dir, path.name)
            path.unlink()
            changed = True
    for name in sorted(units):
        if is_network_unit_file(name):
            continue
        if name in dropins:
            folder = unit_dir / f"{name}.d"
            if folder.is_symlink():
                raise EngineError(f"{folder} is a symlink; the node never writes through it")
            folder.mkdir(exist_ok=True)
            changed |= _write_if_changed(folder / HOOKS_DROPIN, dropins[name].encode())
        else:
            changed |= _remove_hooks_dropin(unit_dir, name)
    return changed


def _write_if_changed(path: Path, data: bytes) -> bool:
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_file_atomically(path, data, mode=0o644)
    return True


def _remove_hooks_dropin(unit_dir: Path, unit_name: str) -> bool:
    """Remove the node's hooks drop-in of one unit, and the drop-in dir if that leaves it
    empty (the owner's drop-ins stay)."""
    path = unit_dir / f"{unit_name}.d" / HOOKS_DROPIN
    if path.parent.is_symlink() or not path.exists():
        return False
    path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when empty
    return True


def removed_services(unit_dir: Path, app_id: str, keep: Collection[str] = ()) -> list[str]:
    """The services of the app's ``.container`` unit files that are not in ``keep``: what
    systemd runs from the files a write (or a removal) of the app's units takes away."""
    return [
        f"{path.stem}.service"
        for path in app_unit_files(unit_dir, app_id)
        if path.suffix == ".container" and path.name not in keep
    ]


def rename_unit_file(unit_dir: Path, app_id: str, old_name: str, new_name: str) -> bool:
    """Retire the app's unit file ``old_name`` in favour of ``new_name``; True if it was there.

    The owner's drop-ins (``old_name.d/*.conf``) move to ``new_name.d/`` (a file of
    the same name already there is kept, the old one left in place), the node's
    hooks drop-in and the old file are removed.  The new unit itself is written by
    the apply, from the catalog.  Stop the old unit's service first.
    """
    old = unit_dir / old_name
    if unit_file_owner(old) != app_id:
        return False
    old_folder, new_folder = unit_dir / f"{old_name}.d", unit_dir / f"{new_name}.d"
    _remove_hooks_dropin(unit_dir, old_name)
    if old_folder.is_dir() and not old_folder.is_symlink():
        if new_folder.is_symlink():
            raise EngineError(f"{new_folder} is a symlink; the node never writes through it")
        new_folder.mkdir(exist_ok=True)
        for dropin in sorted(old_folder.iterdir()):
            target = new_folder / dropin.name
            if dropin.is_file() and not dropin.is_symlink() and not target.exists():
                dropin.rename(target)
        with contextlib.suppress(OSError):
            old_folder.rmdir()  # only when empty
    old.unlink()
    return True


def remove_app_units(unit_dir: Path, app_id: str) -> bool:
    """Remove the app's unit files and the node's hooks drop-ins (never the owner's
    drop-ins, never a network unit: a registry's goes with its last app, ``remove_network``)."""
    removed = False
    for path in app_unit_files(unit_dir, app_id):
        if not is_network_unit_file(path.name):
            _remove_hooks_dropin(unit_dir, path.name)
            path.unlink()
            removed = True
    return removed


class QuadletEngine(PodmanEngine):
    name = "quadlet"

    def __init__(self, runner: PodmanRunner, systemctl: SystemctlRunner, unit_dir: Path) -> None:
        super().__init__(runner)
        self.systemctl = systemctl
        self.unit_dir = unit_dir

    def _systemctl(self, *args: str) -> None:
        result = self.systemctl(args, timeout=SYSTEMCTL_TIMEOUT)
        if not result.ok:
            raise EngineError(f"systemctl --user {' '.join(args)} failed: {result.error_line()}")

    def _stop(self, *services: str) -> None:
        """Stop services; one systemd no longer knows (its file gone, reloaded) is stopped."""
        if not services:
            return
        result = self.systemctl(("stop", *services), timeout=SYSTEMCTL_TIMEOUT)
        if not result.ok and not (
            result.returncode == UNIT_NOT_LOADED and "not loaded" in result.error_line()
        ):
            raise EngineError(
                f"systemctl --user stop {' '.join(services)} failed: {result.error_line()}"
            )

    def stop_retired_service(self, service: str, container: str) -> None:
        """Stop a service whose unit file is being retired (while the file is still there),
        and remove the container it ran if Quadlet's own clean-up left it (so a new unit
        never finds it and takes it for a container started outside systemd)."""
        self._stop(service)
        if self._unit_label(container) == service:
            self._must(["rm", "--force", "--time=0", container], f"removing {container}")

    @staticmethod
    def _service(app_id: str, container: str) -> str:
        return f"{member_unit_name(app_id, container)}.service"

    def write_units(
        self, app_id: str, units: Mapping[str, str], dropins: Mapping[str, str] = {}
    ) -> None:
        # a unit file that goes away takes its service's definition with it: stop the
        # service first, while systemd still knows how (it would otherwise run on, orphaned)
        self._stop(*removed_services(self.unit_dir, app_id, keep=units))
        if write_app_units(self.unit_dir, app_id, units, dropins):
            self._systemctl("daemon-reload")

    def reload_units(self) -> None:
        self._systemctl("daemon-reload")

    def remove_units(self, app_id: str) -> None:
        self._stop(*removed_services(self.unit_dir, app_id))
        if remove_app_units(self.unit_dir, app_id):
            self._systemctl("daemon-reload")

    def observe(self) -> EngineObservation:
        """Podman's view, with the networks whose unit is written but not yet started."""
        observation = super().observe()
        networks = observation.networks | network_unit_networks(self.unit_dir)
        return EngineObservation(observation.containers, observation.podman_secrets, networks)

    def create_network(self, name: str) -> None:
        """``<name>.network`` is one of every app's units; systemd creates the network.  A
        registry's is refused while an ``archy-net`` made without isolation exists."""
        if name != NETWORK_NAME:
            self._require_isolated(NETWORK_NAME)

    def _make_isolated_if_unused(self, name: str) -> bool:
        """Never here: the network's unit service made it, and systemd would not make it
        again (the service stays active); the owner removes it, as the refusal says."""
        return False

    def remove_network(self, name: str) -> None:
        """The registry network's unit goes, then the network (podman refuses while a
        container uses it)."""
        if remove_network_unit(self.unit_dir, name):
            self._systemctl("daemon-reload")
        super().remove_network(name)

    def start_member(self, spec: MemberSpec, *, create: bool) -> None:
        service = self._service(spec.app_id, spec.name)
        if not create and self._started_outside(spec.name, service):
            # an adopted container: its unit would replace it (podman run --replace)
            super().start_member(spec, create=False)
            return
        result = self.systemctl(("start", service), timeout=SYSTEMCTL_TIMEOUT)
        if result.ok:
            return
        why = self._failure_of(service)
        # Restart=always would retry the failed start behind the agent's back, and a
        # rollback's start would then join that retry of the failed unit: stop it here
        self.systemctl(("stop", service), timeout=SYSTEMCTL_TIMEOUT)
        raise EngineError(f"systemctl --user start {service} failed ({why})")

    def _unit_label(self, container: str) -> str | None:
        """The service that runs ``container`` (its ``PODMAN_SYSTEMD_UNIT`` label; "" for
        none), None when there is no such container."""
        result = self._run(
            ["inspect", "--type", "container", "--format",
             '{{index .Config.Labels "PODMAN_SYSTEMD_UNIT"}}', container],
            timeout=INSPECT_TIMEOUT,
        )  # fmt: skip
        return result.stdout.decode().strip() if result.ok else None

    def _started_outside(self, container: str, service: str) -> bool:
        """True when ``container`` exists and is not the one its unit runs (adopted)."""
        label = self._unit_label(container)
        return label is not None and label != service

    def _failure_of(self, service: str) -> str:
        """Why a unit's start failed, from systemd's record (not its "see status" hint)."""
        shown = self.systemctl(
            ("show", "--property=Result", "--property=ExecMainStatus", service),
            timeout=SYSTEMCTL_TIMEOUT,
        )
        fields = dict(
            line.partition("=")[::2] for line in shown.stdout.decode(errors="replace").splitlines()
        )
        result = fields.get("Result") or "unknown result"
        status = fields.get("ExecMainStatus")
        return f"{result}, exit status {status}" if status and status != "0" else result

    def stop_member(self, app_id: str, container: str) -> None:
        service = self._service(app_id, container)
        if self._started_outside(container, service):
            super().stop_member(app_id, container)  # adopted: systemd does not run it
        self._stop(service)

    def remove_member(self, app_id: str, container: str) -> None:
        owner = self.container_owner(container)
        if owner and owner != app_id:  # never stop another app's service by a shared name
            raise EngineError(f"container {container} belongs to app {owner!r}; not removed")
        self._stop(self._service(app_id, container))
        super().remove_member(app_id, container)  # an adopted container outside systemd

    def restart_member(self, spec: MemberSpec) -> None:
        service = self._service(spec.app_id, spec.name)
        if self._started_outside(spec.name, service):
            super().restart_member(spec)  # adopted: restarted in place, never replaced
            return
        self._systemctl("restart", service)
