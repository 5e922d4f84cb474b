"""Apply: run a reconcile plan through a container engine, app by app.

:func:`apply` is what ``archy-node apply``, ``install``, ``uninstall`` and the
daemon call.  It observes the node (one bounded ``podman ps``, ``secret ls``
and ``network exists``), asks :mod:`node_runtime.reconcile` for a plan and
executes it.  One app failing never stops the others.

What each action does on disk and in the engine:

* **data dirs** are created under a temporary name, given to the container
  uid their member's ``data_uid`` maps to (``podman unshare chown``), then
  renamed into place, so a crash never leaves a dir with the wrong owner that
  the next run would refuse to re-own.  Existing dirs are never touched.
* **secrets**: generated once into ``<state root>/secrets/<app>/<name>``
  (0600, in a 0700 dir, created with a hard link so an existing file is
  never overwritten), then handed to Podman on stdin.  Values never reach
  argv, logs or error messages.
* **images**: a bounded ``podman image inspect``; if absent, ``podman load``
  of the companion archive from the blob store, else ``podman pull``.
* **health**: after each member starts, its health check runs in a
  deadline loop (start period + retries x (interval + timeout)); a member
  without a check must be running.
* **rollback**: when an update fails, the app is brought back to the applied
  record (the last good catalog entry, kept in ``state/applied.json``), the
  failure is remembered in ``state/apply-failures.json`` with its reason, and
  the same update is not retried until the catalog changes it or an apply
  is asked to retry.
* **the last known app list**: every successful observation is kept in
  ``state/observed.json`` (written only when it changes); when the engine is
  too slow to answer, :func:`observe_apps` returns that list marked stale
  instead of an empty one, and :func:`apply` does nothing rather than act on
  a partial view.

* **no container engine** (``--engine stage``): :func:`stage_apps` instead of a
  plan: units written, data dirs and secrets created, nothing started, every
  app reported ``staged`` and nothing recorded as applied.

Every state write is atomic (``atomic_file.write_file_atomically``); a noop
apply writes nothing.  Callers that change state hold ``NodeState.lock()``;
:func:`apply` itself takes no lock, so a command already holding it can call it.

Crash-safety hook (tests only): when ``ARCHY_TEST_CRASH_AT`` names a step
(``Plan.steps``, e.g. ``generate-secret:app:token``), the process exits with
status 137 (as if killed with SIGKILL) right before that step runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import posixpath
import secrets
import string
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from catalog.address import blake3_hex
from catalog.catalog_model import AppCatalog, CatalogApp, parse_catalog
from catalog.manifest import GeneratedSecret, HookStep
from catalog.runtime_spec import (
    DEFAULT_DATA_ROOT,
    MemberSpec,
    RuntimeSpecError,
    app_data_dir,
    podman_secret_name,
    secret_homes,
)
from node_runtime.atomic_file import create_file_once_in, write_file_atomically
from node_runtime.blob_store import BlobError, BlobStore
from node_runtime.engines.container_engine import (
    ContainerEngine,
    EngineError,
    EngineObservation,
    EngineTimeout,
)
from node_runtime.engines.quadlet_engine import app_unit_files
from node_runtime.engines.stage_engine import StageEngine, staged_reason
from node_runtime.node_state import AppliedApp as AppliedRecord
from node_runtime.node_state import (
    NodePaths,
    NodeState,
    StateError,
    secret_file,
    secret_file_exists,
    secrets_dir,
    utc_now_text,
)
from node_runtime.reconcile import (
    Action,
    AppliedApp,
    AppPlan,
    CreateDataDir,
    CreateNetwork,
    CreatePodmanSecret,
    EnsureImage,
    FailedUpdate,
    ForgetApplied,
    GenerateSecret,
    ObservedState,
    Plan,
    RecordApplied,
    RemoveContainer,
    RemoveUnits,
    RunPostInstall,
    StartMember,
    StopMember,
    UnitsRefused,
    WaitHealthy,
    WriteUnits,
    app_data_dirs,
    desired_app,
    paths_to_observe,
    plan_app,
    plan_reconcile,
)
from node_runtime.safe_paths import (
    UnsafePath,
    check_directories,
    describe_entry,
    directory_state,
    entry_kind,
    open_directory,
    relative_parts_or_none,
)

CRASH_ENV = "ARCHY_TEST_CRASH_AT"
CRASH_EXIT_STATUS = 137
HEALTH_MARGIN_SECONDS = 15.0
MINIMUM_HEALTH_SECONDS = 20.0
HEALTH_POLL_SECONDS = 0.25
FAILURES_FILE = "apply-failures.json"
STOPPED_FILE = "stopped.json"
OBSERVED_FILE = "observed.json"
SECRET_OWNERS_FILE = "secret-owners.json"  # noqa: S105 (a file name, not a secret)

Status = Literal["ok", "unchanged", "failed", "removed", "stopped", "staged"]

_CHARSETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "base64url": string.ascii_letters + string.digits + "-_",
}


class ActionFailed(Exception):
    """One action could not be completed; the message is the user-facing reason."""


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppResult:
    app_id: str
    status: Status
    reason: str | None = None
    version: str | None = None
    change: str = "unchanged"
    warnings: tuple[str, ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {
            "app": self.app_id,
            "status": self.status,
            "change": self.change,
            "version": self.version,
            "reason": self.reason,
            "warnings": list(self.warnings),
        }


@dataclass
class ApplyReport:
    engine: str
    results: dict[str, AppResult] = field(default_factory=dict)
    engine_slow: str | None = None
    steps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.engine_slow is None and all(
            result.status != "failed" for result in self.results.values()
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "engine": self.engine,
            "engine_slow": self.engine_slow,
            "apps": [result.to_document() for result in self.results.values()],
            "steps": self.steps,
        }


# -- the node's own files ----------------------------------------------------------------------


def node_architecture() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise StateError(f"{path}: cannot read ({error}); remove it to start afresh") from None
    return document if isinstance(document, dict) else {}


def _write_json_if_changed(path: Path, document: Mapping[str, Any], mode: int = 0o644) -> bool:
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_file_atomically(path, data, mode=mode)
    return True


def read_failures(paths: NodePaths) -> dict[str, FailedUpdate]:
    """Updates that failed (and were rolled back), from ``state/apply-failures.json``."""
    apps = _read_json(paths.state_dir / FAILURES_FILE).get("apps", {})
    return {
        app_id: FailedUpdate(str(entry["manifest_blake3"]), str(entry["reason"]))
        for app_id, entry in (apps.items() if isinstance(apps, dict) else ())
        if isinstance(entry, dict) and "manifest_blake3" in entry and "reason" in entry
    }


def _save_failures(paths: NodePaths, failures: Mapping[str, FailedUpdate]) -> None:
    document = {
        "schema": 1,
        "apps": {
            app_id: {"manifest_blake3": f.manifest_blake3, "reason": f.reason}
            for app_id, f in sorted(failures.items())
        },
    }
    _write_json_if_changed(paths.state_dir / FAILURES_FILE, document)


def read_secret_owners(paths: NodePaths) -> dict[str, str]:
    """{Podman secret name: the app the node created it for}, from ``state/secret-owners.json``."""
    owners = _read_json(paths.state_dir / SECRET_OWNERS_FILE).get("secrets", {})
    return (
        {str(k): str(v) for k, v in owners.items() if isinstance(v, str)}
        if isinstance(owners, dict)
        else {}
    )


def record_secret_owners(paths: NodePaths, app_id: str, names: Iterable[str]) -> None:
    """Remember that ``app_id`` owns these Podman secrets (a name already owned is kept)."""
    owners = read_secret_owners(paths)
    merged = {**{name: app_id for name in names}, **owners}
    if merged != owners:
        _write_json_if_changed(
            paths.state_dir / SECRET_OWNERS_FILE,
            {"schema": 1, "secrets": dict(sorted(merged.items()))},
        )


def forget_secret_owners(paths: NodePaths, app_id: str, names: Iterable[str]) -> None:
    owners = read_secret_owners(paths)
    kept = {k: v for k, v in owners.items() if not (k in set(names) and v == app_id)}
    if kept != owners:
        _write_json_if_changed(
            paths.state_dir / SECRET_OWNERS_FILE,
            {"schema": 1, "secrets": dict(sorted(kept.items()))},
        )


def read_stopped(paths: NodePaths) -> set[str]:
    apps = _read_json(paths.state_dir / STOPPED_FILE).get("apps", [])
    return {str(each) for each in apps} if isinstance(apps, list) else set()


def save_stopped(paths: NodePaths, stopped: Iterable[str]) -> None:
    _write_json_if_changed(
        paths.state_dir / STOPPED_FILE, {"schema": 1, "apps": sorted(set(stopped))}
    )


def read_applied(paths: NodePaths) -> dict[str, AppliedApp]:
    """The applied records with their catalog entry (kept in the record as ``catalog_app``,
    else read from the catalog blob it was applied from, while the store still has it)."""
    store = BlobStore(paths.blobs_dir)
    catalogs: dict[str, AppCatalog | None] = {}
    result: dict[str, AppliedApp] = {}
    for app_id, record in NodeState(paths).applied().apps.items():
        extra = record.model_extra or {}
        app: CatalogApp | None = None
        entry = extra.get("catalog_app")
        if isinstance(entry, dict):
            with contextlib.suppress(ValueError):
                app = CatalogApp.model_validate(entry)
        if app is None:
            if record.catalog_blake3 not in catalogs:
                try:
                    data = store.read_verified(record.catalog_blake3)
                    catalogs[record.catalog_blake3] = parse_catalog(data)
                except (BlobError, ValueError):
                    catalogs[record.catalog_blake3] = None
            catalog = catalogs[record.catalog_blake3]
            app = None if catalog is None else catalog.apps.get(app_id)
        if app is not None and app.manifest_blake3 == record.manifest_blake3:
            result[app_id] = AppliedApp(app, str(extra.get("data_root") or ""))
    return result


# -- observing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppsView:
    """Which apps have containers, and whether they run; ``stale`` when the engine was slow."""

    apps: dict[str, dict[str, bool]]
    stale: bool
    observed_at: str | None


def _apps_of(observation: EngineObservation) -> dict[str, dict[str, bool]]:
    apps: dict[str, dict[str, bool]] = {}
    for container in observation.containers.values():
        if container.app_id:
            apps.setdefault(container.app_id, {})[container.name] = container.running
    return {app_id: dict(sorted(members.items())) for app_id, members in sorted(apps.items())}


def _remember_observation(paths: NodePaths, observation: EngineObservation) -> None:
    path = paths.state_dir / OBSERVED_FILE
    apps = _apps_of(observation)
    if _read_json(path).get("apps") == apps:
        return
    _write_json_if_changed(path, {"schema": 1, "apps": apps, "observed_at": utc_now_text()})


def observe_apps(engine: ContainerEngine, state_root: Path) -> AppsView:
    """The apps' containers now; the last known list (stale) if the engine is too slow."""
    paths = NodePaths(state_root)
    try:
        observation = engine.observe()
    except EngineTimeout:
        cached = _read_json(paths.state_dir / OBSERVED_FILE)
        apps = cached.get("apps", {})
        return AppsView(apps if isinstance(apps, dict) else {}, True, cached.get("observed_at"))
    with contextlib.suppress(OSError, StateError):
        _remember_observation(paths, observation)
    return AppsView(_apps_of(observation), False, utc_now_text())


# -- executing one action ----------------------------------------------------------------------


def crash_point(step: str) -> None:
    """Test-only: exit 137 (as SIGKILL would) before ``step`` if ARCHY_TEST_CRASH_AT names it."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(CRASH_EXIT_STATUS)


def health_budget_seconds(spec: MemberSpec) -> float:
    if spec.health is None:
        return MINIMUM_HEALTH_SECONDS
    health = spec.health
    budget = _seconds(health.start_period) + (health.retries + 1) * (
        _seconds(health.interval) + _seconds(health.timeout)
    )
    return max(MINIMUM_HEALTH_SECONDS, budget + HEALTH_MARGIN_SECONDS)


def _seconds(duration: str) -> float:
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if duration.endswith(suffix) and duration[: -len(suffix)].isdigit():
            return int(duration[: -len(suffix)]) * factor
    return 30.0


def wait_healthy(engine: ContainerEngine, spec: MemberSpec, budget: float | None = None) -> None:
    """Run the member's health check until it passes, within its budget (never a fixed sleep)."""
    seconds = health_budget_seconds(spec) if budget is None else budget
    deadline = time.monotonic() + seconds
    last = "no status yet"
    while True:
        status = engine.container_status(spec.name)
        if status is None:
            raise ActionFailed(f"{spec.name} does not exist any more")
        last = status.state
        if status.running and (spec.health is None or engine.run_health_check(spec.name)):
            return
        if spec.health is not None and status.running:
            last = f"{status.state}, {status.health or 'no health yet'}"
        if time.monotonic() >= deadline:
            logs = engine.logs_tail(spec.name)
            raise ActionFailed(
                f"{spec.name} did not become healthy within {seconds:g}s ({last})"
                + (f"; last log lines: {logs}" if logs else "")
            )
        time.sleep(HEALTH_POLL_SECONDS)  # the poll interval of a deadline-bounded wait


def generate_secret_value(secret: GeneratedSecret) -> bytes:
    alphabet = _CHARSETS[secret.charset]
    return "".join(secrets.choice(alphabet) for _ in range(secret.length)).encode()


SYMLINK_HINT = (
    "the node never follows a symlink below its data root or state root; remove it "
    "(a container may have planted it)"
)


def write_secret_once(path: Path, value: bytes, state_root: Path) -> bool:
    """Create ``path`` (0600, in a 0700 dir) with ``value`` unless it exists; False when it
    already did.  No symlink below ``state_root`` is followed (ActionFailed if one is there)."""
    try:
        with open_directory(str(state_root), str(path.parent), create=True, mode=0o700) as folder:
            os.fchmod(folder, 0o700)
            return create_file_once_in(folder, path.name, value, mode=0o600)
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None


def read_secret_file(path: Path, state_root: Path) -> bytes | None:
    """The value in a secret file, None when it does not exist; never through a symlink."""
    try:
        with open_directory(str(state_root), str(path.parent)) as folder:
            handle = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None
    except OSError as error:
        raise ActionFailed(f"{path} cannot be read as a secret file ({error.strerror})") from None
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def data_dir_exists(path: str, data_root: str) -> bool:
    """``path`` is a real directory below ``data_root`` with no symlink on the way."""
    try:
        return directory_state(data_root, path) == "directory"
    except (OSError, UnsafePath):
        return False


def create_data_dir(
    engine: ContainerEngine, path: str, container_uid: int | None, data_root: str
) -> None:
    """Create ``path`` owned by ``container_uid``'s host uid; never touch an existing dir.

    Walks from ``data_root`` without following a symlink (ActionFailed when a component
    is one, or is not a directory).
    """
    parent, name = posixpath.split(path)
    try:
        with open_directory(data_root, parent, create=True) as folder:
            kind = entry_kind(folder, name)
            if kind == "directory":
                return
            if kind != "missing":
                raise UnsafePath(describe_entry(folder, name, path))
            staging = f".archy-creating-{name}"
            leftover = entry_kind(folder, staging)
            if leftover == "directory":
                try:
                    os.rmdir(staging, dir_fd=folder)  # an empty leftover of a crash; never data
                except OSError:
                    engine.remove_tree_in_user_namespace(posixpath.join(parent, staging))
            elif leftover != "missing":
                os.unlink(staging, dir_fd=folder)
            os.mkdir(staging, 0o755, dir_fd=folder)
            if container_uid:
                engine.chown_in_user_namespace(posixpath.join(parent, staging), container_uid)
            os.rename(staging, name, src_dir_fd=folder, dst_dir_fd=folder)
    except UnsafePath as error:
        raise ActionFailed(f"{error}; {SYMLINK_HINT}") from None


def check_member_mounts(spec: MemberSpec, data_root: str) -> None:
    """Refuse (ActionFailed) to start a member whose volume dirs lead through a symlink.

    Runs before every start: a running container may have replaced a dir it can
    reach with a link since the last one, and Podman would follow it.
    """
    try:
        check_directories(
            list(dict.fromkeys([data_root, DEFAULT_DATA_ROOT])),
            [mount.host_path for mount in spec.mounts],
            f"volume dir of {spec.name}",
        )
    except UnsafePath as error:
        raise ActionFailed(f"refusing to start {spec.name}: {error}; {SYMLINK_HINT}") from None


def canonical_hook_source(source: str, allowed: Sequence[str]) -> str:
    """``source`` if it lies inside an allowed dir and no symlink is on the way or inside it.

    The allowed dirs themselves are the owner's configuration (resolved); below them,
    every component is checked without following links, and a dir's whole tree too.
    """
    roots = [root.rstrip("/") or "/" for root in allowed]
    roots += [os.path.realpath(root) for root in roots]
    root = next((r for r in roots if relative_parts_or_none(r, source) is not None), None)
    if root is None:
        raise ActionFailed(
            f"copy_from_host source {source} is not inside an allowed hook source dir "
            f"({', '.join(allowed) or 'none configured'})"
        )
    parent, name = posixpath.split(source.rstrip("/"))
    try:
        if posixpath.normpath(source) == posixpath.normpath(root):
            kind = "directory"
        else:
            with open_directory(root, parent) as folder:
                kind = entry_kind(folder, name)
                if kind not in ("directory", "file"):
                    raise UnsafePath(describe_entry(folder, name, source))
        if kind == "directory":
            for directory, dirs, files in os.walk(source):
                for entry in (*dirs, *files):
                    if os.path.islink(os.path.join(directory, entry)):
                        raise UnsafePath(f"{os.path.join(directory, entry)} is a symlink")
    except (OSError, UnsafePath) as error:
        raise ActionFailed(f"copy_from_host source {source}: {error}") from None
    return source


def run_hook_steps(
    engine: ContainerEngine, steps: Sequence[HookStep], hook_sources: Sequence[str]
) -> list[str]:
    """Run hook steps best-effort; return a warning per step that failed (never raises)."""
    warnings: list[str] = []
    for index, step in enumerate(steps):
        try:
            if step.exec is not None:
                engine.exec_in(step.exec.container, step.exec.command)
            elif step.copy_from_host is not None:
                copy = step.copy_from_host
                source = canonical_hook_source(copy.source, hook_sources)
                engine.copy_into(source, copy.container, copy.destination)
        except (ActionFailed, EngineError) as error:
            warnings.append(f"post_install step {index + 1}: {error}")
    return warnings


@dataclass
class _Context:
    engine: ContainerEngine
    paths: NodePaths
    data_root: str
    catalog_blake3: Callable[[], str]
    hook_sources: Sequence[str]
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def _record(app: CatalogApp, context: _Context) -> AppliedRecord:
    return AppliedRecord.model_validate(
        {
            "version": app.version,
            "revision": app.revision,
            "manifest_blake3": app.manifest_blake3,
            "catalog_blake3": context.catalog_blake3(),
            "units": dict(app.units),
            "applied_at": utc_now_text(),
            "data_root": context.data_root,
            "catalog_app": app.model_dump(mode="json", by_alias=True),
        }
    )


def execute_action(action: Action, context: _Context) -> None:
    """Run one action; raises ActionFailed / EngineError / OSError when it cannot."""
    engine = context.engine
    state_root = context.paths.root
    crash_point(action.step)
    context.steps.append(action.step)
    match action:
        case CreateNetwork():
            engine.create_network()
        case CreateDataDir(path=path, container_uid=uid):
            create_data_dir(engine, path, uid, context.data_root)
        case GenerateSecret(app_id=app_id, secret=secret):
            write_secret_once(
                secret_file(state_root, app_id, secret.name),
                generate_secret_value(secret),
                state_root,
            )
        case CreatePodmanSecret(app_id=app_id, secret_name=name):
            value_file = secret_file(state_root, app_id, name)
            value = read_secret_file(value_file, state_root)
            if value is None:
                raise ActionFailed(
                    f"secret {name} has no value on this node ({value_file} is missing) and "
                    "Podman holds none; it is never regenerated for an installed app"
                )
            owner = read_secret_owners(context.paths).get(podman_secret_name(app_id, name))
            if owner is not None and owner != app_id:
                raise ActionFailed(f"podman secret {podman_secret_name(app_id, name)} belongs "
                                   f"to app {owner!r}")  # fmt: skip
            record_secret_owners(context.paths, app_id, [podman_secret_name(app_id, name)])
            engine.create_podman_secret(app_id, name, value)
        case EnsureImage(image=image, archive=archive):
            if engine.image_present(image):
                return
            store = BlobStore(context.paths.blobs_dir)
            if archive is not None and store.contains(archive.blake3):
                engine.load_image_archive(store.verified_path(archive.blake3))
                if engine.image_present(image):
                    return
            engine.pull_image(image)
        case WriteUnits(app_id=app_id, units=units):
            engine.write_units(app_id, dict(units))
        case RemoveContainer(app_id=app_id, member=member):
            engine.remove_member(app_id, member)
        case StartMember(spec=spec, create=create):
            check_member_mounts(spec, context.data_root)
            engine.start_member(spec, create=create)
        case WaitHealthy(spec=spec):
            wait_healthy(engine, spec)
        case StopMember(app_id=app_id, member=member):
            engine.stop_member(app_id, member)
        case RunPostInstall(steps=steps):
            context.warnings += run_hook_steps(engine, steps, context.hook_sources)
        case RemoveUnits(app_id=app_id):
            engine.remove_units(app_id)
        case RecordApplied(app_id=app_id, app=app):
            record_secret_owners(
                context.paths,
                app_id,
                [h.podman_name for h in secret_homes(app.manifest) if not h.exported],
            )
            NodeState(context.paths).record_applied(app_id, _record(app, context))
        case ForgetApplied(app_id=app_id):
            NodeState(context.paths).forget_applied(app_id)


def _run_actions(actions: Sequence[Action], context: _Context) -> None:
    for action in actions:
        try:
            execute_action(action, context)
        except (ActionFailed, EngineError, OSError, StateError) as error:
            raise ActionFailed(f"{action.step}: {error}") from None


# -- the whole apply ---------------------------------------------------------------------------


def _observe_for(
    engine: ContainerEngine,
    catalog: AppCatalog,
    installed: Collection[str],
    applied: Mapping[str, AppliedApp],
    state_root: Path,
    data_root: str,
) -> tuple[EngineObservation, ObservedState]:
    observation = engine.observe()
    dirs, names = paths_to_observe(catalog, installed, applied, data_root)
    secret_files: set[str] = set()
    for app in [*catalog.apps.values(), *(each.app for each in applied.values())]:
        for home in secret_homes(app.manifest):
            value_file = secret_file(state_root, home.owner, home.name)
            if home.podman_name in names and secret_file_exists(value_file, state_root):
                secret_files.add(home.podman_name)
    observed = ObservedState(
        containers=observation.containers,
        podman_secrets=observation.podman_secrets,
        secret_files=frozenset(secret_files),
        existing_dirs=frozenset(path for path in dirs if data_dir_exists(path, data_root)),
        network_exists=observation.network_exists,
        secret_owners=read_secret_owners(NodePaths(state_root)),
    )
    return observation, observed


def _result_for_success(plan: AppPlan, warnings: Sequence[str]) -> AppResult:
    status: Status = {"remove": "removed", "stop": "stopped", "unchanged": "unchanged"}.get(
        plan.change, "ok"
    )  # type: ignore[assignment]
    return AppResult(plan.app_id, status, None, plan.version, plan.change, tuple(warnings))


def plan_apply(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
    retry_failed: bool = True,
    architecture: str | None = None,
) -> Plan:
    """What :func:`apply` would do now (``apply --dry-run``); observes, changes nothing."""
    paths = NodePaths(state_root)
    applied = read_applied(paths)
    _, observed = _observe_for(engine, catalog, installed, applied, state_root, data_root)
    return plan_reconcile(
        catalog,
        installed,
        observed,
        applied,
        data_root=data_root,
        architecture=architecture or node_architecture(),
        stopped=read_stopped(paths) if stopped is None else set(stopped),
        failed_updates={} if retry_failed else read_failures(paths),
        only=only,
    )


def apply(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    catalog_blake3: str | None = None,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
    retry_failed: bool = True,
    architecture: str | None = None,
    hook_sources: Sequence[str] = (),
) -> ApplyReport:
    """Bring the installed apps to the catalog's desired state; one result per app.

    ``only`` limits the work to some apps (``install``/``start`` of one app).
    ``retry_failed=False`` (the daemon) keeps a failed update on hold until the
    catalog changes; an explicit apply retries it.  ``hook_sources`` are the
    host dirs ``copy_from_host`` may read (besides nothing else).
    """
    if isinstance(engine, StageEngine):
        return stage_apps(
            catalog, installed, state_root=state_root, data_root=data_root, engine=engine,
            stopped=stopped, only=only,
        )  # fmt: skip
    paths = NodePaths(state_root)
    report = ApplyReport(engine.name)
    applied = read_applied(paths)
    failures = read_failures(paths)
    stopped_apps = read_stopped(paths) if stopped is None else set(stopped)
    try:
        observation, observed = _observe_for(
            engine, catalog, installed, applied, state_root, data_root
        )
    except EngineTimeout as error:
        report.engine_slow = f"{error}; nothing was changed, the next reconcile tries again"
        return report
    except EngineError as error:
        report.engine_slow = f"{error}; nothing was changed"
        return report

    plan = plan_reconcile(
        catalog,
        installed,
        observed,
        applied,
        data_root=data_root,
        architecture=architecture or node_architecture(),
        stopped=stopped_apps,
        failed_updates={} if retry_failed else failures,
        only=only,
    )
    cached_blake3: list[str] = [] if catalog_blake3 is None else [catalog_blake3]

    def blake3_of_catalog() -> str:
        if not cached_blake3:
            cached_blake3.append(blake3_hex(catalog.to_canonical()))
        return cached_blake3[0]

    context = _Context(engine, paths, data_root, blake3_of_catalog, tuple(hook_sources))
    network_failure: str | None = None
    try:
        _run_actions(plan.network, context)
    except ActionFailed as error:
        network_failure = str(error)

    changed_failures = dict(failures)
    for app_plan in plan.apps:
        context.warnings = []
        if network_failure is not None and any(
            isinstance(a, StartMember) for a in app_plan.actions
        ):
            report.results[app_plan.app_id] = AppResult(
                app_plan.app_id, "failed", network_failure, app_plan.version, app_plan.change
            )
            continue
        result = _apply_app(app_plan, context, changed_failures, observed)
        report.results[app_plan.app_id] = result
    report.steps = context.steps
    if changed_failures != failures:
        _save_failures(paths, changed_failures)
    if context.steps:
        with contextlib.suppress(EngineError):
            observation = engine.observe()
    with contextlib.suppress(OSError, StateError):
        _remember_observation(paths, observation)
    return report


def _apply_app(
    plan: AppPlan,
    context: _Context,
    failures: dict[str, FailedUpdate],
    observed: ObservedState,
) -> AppResult:
    app_id = plan.app_id
    if plan.change == "refused":
        try:
            _run_actions(plan.actions, context)  # the previously applied version, kept running
        except ActionFailed as error:
            return AppResult(app_id, "failed", f"{plan.reason}; also: {error}", plan.version)
        return AppResult(app_id, "failed", plan.reason, plan.version, "refused")
    try:
        _run_actions(plan.actions, context)
    except ActionFailed as error:
        return _after_failure(plan, str(error), context, failures)
    if plan.target is not None and app_id in failures and plan.change in ("install", "update"):
        del failures[app_id]
    if plan.change == "remove":
        failures.pop(app_id, None)
    return _result_for_success(plan, context.warnings)


def _after_failure(
    plan: AppPlan, reason: str, context: _Context, failures: dict[str, FailedUpdate]
) -> AppResult:
    app_id = plan.app_id
    if plan.target is not None and plan.change in ("install", "update"):
        target = f"{plan.target.version}-r{plan.target.revision}"
        previous = plan.rollback_to
        if plan.change == "update" and previous is not None:
            old = f"{previous.app.version}-r{previous.app.revision}"
            try:
                _rollback(previous, context)
                message = f"update to {target} failed ({reason}); rolled back to {old}"
            except (ActionFailed, EngineError) as error:
                message = (
                    f"update to {target} failed ({reason}); rolling back to {old} "
                    f"also failed ({error})"
                )
        else:
            _remove_failed_install(plan, context)
            message = f"install of {target} failed ({reason})"
        failures[app_id] = FailedUpdate(plan.target.manifest_blake3, message)
        return AppResult(app_id, "failed", message, plan.version, plan.change)
    return AppResult(app_id, "failed", reason, plan.version, plan.change)


def _rollback(previous: AppliedApp, context: _Context) -> None:
    """Bring the app back to its applied record (observing afresh: the update half ran)."""
    engine = context.engine
    desired = desired_app(previous.app, context.data_root)
    observation = engine.observe()
    state = ObservedState(
        containers=observation.containers,
        podman_secrets=observation.podman_secrets,
        secret_files=frozenset(
            home.podman_name
            for home in secret_homes(desired.manifest)
            if secret_file_exists(
                secret_file(context.paths.root, home.owner, home.name), context.paths.root
            )
        ),
        existing_dirs=frozenset(
            path
            for path, _ in app_data_dirs(desired, context.data_root)
            if data_dir_exists(path, context.data_root)
        ),
        network_exists=observation.network_exists,
    )
    plan = plan_app(desired, state, previous, data_root=context.data_root)
    _run_actions(plan.actions, context)


def _remove_failed_install(plan: AppPlan, context: _Context) -> None:
    """A fresh install that failed leaves no crash-looping containers (its data stays)."""
    for action in reversed(plan.actions):
        if isinstance(action, StartMember):
            with contextlib.suppress(EngineError):
                context.engine.remove_member(plan.app_id, action.spec.name)
    with contextlib.suppress(EngineError):
        # units left behind would start the failed app at the next boot (WantedBy=)
        context.engine.remove_units(plan.app_id)


# -- staging: no container engine -------------------------------------------------------------


def stage_apps(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    state_root: Path,
    data_root: str,
    engine: StageEngine,
    stopped: Collection[str] | None = None,
    only: Collection[str] | None = None,
) -> ApplyReport:
    """What apply can honestly do without a container engine (see ``engines.stage_engine``).

    For each installed app: its units (the catalog's bytes) into the engine's unit dir,
    its data dirs, its generated secrets (once); the result is ``staged``, never ``ok``,
    and nothing is recorded as applied.  An uninstalled app's staged units are removed
    (``removed``; its data and secrets are kept, as with every engine).
    """
    report = ApplyReport(engine.name)
    stopped_apps = read_stopped(NodePaths(state_root)) if stopped is None else set(stopped)
    wanted = set(installed) if only is None else set(installed) & set(only)
    for app_id in sorted(wanted):
        report.results[app_id] = _stage_app(catalog, app_id, state_root, data_root, engine,
                                            app_id in stopped_apps)  # fmt: skip
        report.steps.append(f"stage:{app_id}")
    leaving = set(catalog.apps) - set(installed)
    for app_id in sorted(leaving if only is None else leaving & set(only)):
        if app_unit_files(engine.unit_dir, app_id):
            engine.remove_units(app_id)
            report.results[app_id] = AppResult(
                app_id, "removed", "staged units removed; data and secrets kept", None, "remove"
            )
            report.steps.append(f"unstage:{app_id}")
    return report


def plan_stage(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    engine: StageEngine,
    only: Collection[str] | None = None,
) -> list[str]:
    """What :func:`stage_apps` would do now (``apply --dry-run --engine stage``): one step
    per app, naming the unit dir; nothing is pulled, created or started by staging."""
    wanted = set(installed) if only is None else set(installed) & set(only)
    steps = [
        f"stage:{app_id} (write {len(catalog.apps[app_id].units)} units to {engine.unit_dir}, "
        "its data dirs and secrets; start nothing)"
        if app_id in catalog.apps
        else f"stage:{app_id} (fails: not in the current catalog)"
        for app_id in sorted(wanted)
    ]
    leaving = set(catalog.apps) - set(installed)
    for app_id in sorted(leaving if only is None else leaving & set(only)):
        if app_unit_files(engine.unit_dir, app_id):
            steps.append(f"unstage:{app_id} (remove its units from {engine.unit_dir})")
    return steps


def _stage_app(
    catalog: AppCatalog,
    app_id: str,
    state_root: Path,
    data_root: str,
    engine: StageEngine,
    stopped: bool,
) -> AppResult:
    app = catalog.apps.get(app_id)
    if app is None:
        return AppResult(app_id, "failed", "is not in the current catalog")
    try:
        desired = desired_app(app, data_root)
    except UnitsRefused as error:
        return AppResult(app_id, "failed", str(error))
    except RuntimeSpecError as error:
        return AppResult(app_id, "failed", f"cannot be run on any engine: {error}")
    warnings: list[str] = []
    app_dir = app_data_dir(app_id, data_root)
    if any(m.host_path.startswith(app_dir) for spec in desired.specs for m in spec.mounts) and not (
        any(app_dir in text for text in app.units.values())
    ):
        warnings.append(
            f"the catalog's units mount the catalog's data root, not {data_root} (this node's)"
        )
    try:
        for path, container_uid in app_data_dirs(desired, data_root):
            existed = data_dir_exists(path, data_root)
            create_data_dir(engine, path, container_uid, data_root)
            if container_uid and not existed:
                warnings.append(
                    f"{path} is owned by the node user, not container uid {container_uid} "
                    "(the stage engine maps no uids)"
                )
        for home in secret_homes(app.manifest):
            value_file = secret_file(state_root, home.owner, home.name)
            if home.secret is not None and not secret_file_exists(value_file, state_root):
                write_secret_once(value_file, generate_secret_value(home.secret), state_root)
        engine.write_units(app_id, dict(app.units))
    except (OSError, EngineError, ActionFailed) as error:
        return AppResult(app_id, "failed", f"staging: {error}", desired.version_text, "stage")
    reason = staged_reason(engine.unit_dir) + ("; stopped by the owner" if stopped else "")
    return AppResult(app_id, "staged", reason, desired.version_text, "stage", tuple(warnings))


# -- one app at a time -------------------------------------------------------------------------


def restart_app(app_id: str, *, state_root: Path, engine: ContainerEngine) -> AppResult:
    """Restart every member of an applied app in start order, waiting for each one's health."""
    applied = read_applied(NodePaths(state_root)).get(app_id)
    if applied is None:
        return AppResult(app_id, "failed", "is not applied on this node; install it first")
    desired = desired_app(applied.app, applied.data_root)
    version = desired.version_text
    for spec in desired.specs:
        try:
            check_member_mounts(spec, applied.data_root)
            engine.restart_member(spec)
            wait_healthy(engine, spec)
        except (ActionFailed, EngineError) as error:
            return AppResult(app_id, "failed", f"restart of {spec.name}: {error}", version)
    return AppResult(app_id, "ok", None, version, "restart")


class PurgeRefused(Exception):
    """The app still runs or is installed; uninstall it first."""


def purge_app(
    app_id: str,
    *,
    state_root: Path,
    data_root: str,
    engine: ContainerEngine,
    installed: Collection[str],
    secret_names: Iterable[str] = (),
) -> list[str]:
    """Delete an uninstalled app's data dir and secrets (the only path that deletes data).

    Returns what was removed.  Refuses while the app is installed or has containers.
    """
    if app_id in installed:
        raise PurgeRefused(f"{app_id} is installed; uninstall it before purging its data")
    observation = engine.observe()
    left = sorted(c.name for c in observation.containers.values() if c.app_id == app_id)
    if left:
        raise PurgeRefused(f"{app_id} still has containers ({', '.join(left)}); uninstall it")
    removed: list[str] = []
    data_dir = app_data_dir(app_id, data_root)
    if os.path.lexists(data_dir):
        engine.remove_tree_in_user_namespace(data_dir)
        removed.append(data_dir)
    own = secrets_dir(state_root, app_id)
    names = set(secret_names)
    if own.is_dir() and not own.is_symlink():
        names.update(p.name for p in own.iterdir() if not p.name.startswith("."))
    owners = read_secret_owners(NodePaths(state_root))
    for name in sorted(names):
        podman_name = podman_secret_name(app_id, name)
        if owners.get(podman_name, app_id) != app_id:
            continue  # another app's secret that only shares the derived name
        if podman_name in observation.podman_secrets:
            engine.remove_podman_secret(app_id, name)
            removed.append(f"podman secret {podman_name}")
    forget_secret_owners(
        NodePaths(state_root), app_id, [podman_secret_name(app_id, n) for n in names]
    )
    if own.is_dir() and not own.is_symlink():
        for path in sorted(own.iterdir()):
            path.unlink()
        own.rmdir()
        removed.append(str(own))
    paths = NodePaths(state_root)
    failures = read_failures(paths)
    if failures.pop(app_id, None) is not None:
        _save_failures(paths, failures)
    return removed
