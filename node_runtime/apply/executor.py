"""The executor: carries out a plan's actions through a container engine, one at a time.

Each action's step is appended to ``context.steps`` before it runs; the first
that fails stops the app's actions with :class:`ActionFailed` naming the step.
Crash-safety hook (tests only): when ``ARCHY_TEST_CRASH_AT`` names a step
(``Plan.steps``, e.g. ``generate-secret:app:token``), the process exits with
status 137 (as if killed with SIGKILL) right before that step runs.

Stopping (the daemon's SIGTERM): after :func:`request_stop`, the next step of any
apply in this process raises :class:`ApplyInterrupted` instead of running, so the
apply ends between two steps, leaving exactly what a crash at that point leaves
(which the next apply converges), and nothing is rolled back or recorded as failed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from catalog.catalog_model import CatalogApp
from catalog.runtime_names import podman_secret_name
from catalog.secret_homes import secret_homes
from node_runtime.apply.data_dirs import check_member_mounts, create_data_dir
from node_runtime.apply.health import wait_healthy
from node_runtime.apply.hook_dropins import app_hooks_dropins, node_program
from node_runtime.apply.hooks import run_member_hooks
from node_runtime.apply.outcome import ActionFailed
from node_runtime.apply.secrets import first_secret_value, read_secret_file, write_secret_once
from node_runtime.engines.container_engine import ContainerEngine, EngineError
from node_runtime.plan.actions import (
    Action,
    CreateDataDir,
    CreateNetwork,
    CreatePodmanSecret,
    EnsureImage,
    ForgetApplied,
    GenerateSecret,
    RecordApplied,
    RemoveContainer,
    RemoveNetwork,
    RemoveUnits,
    ReplacePodmanSecret,
    RunMemberHooks,
    StartMember,
    StopMember,
    WaitHealthy,
    WriteUnits,
)
from node_runtime.store.applied import AppliedApp, forget_applied, record_applied
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.changed_settings import clear_setting_changed
from node_runtime.store.paths import NodePaths, StateError, secret_file
from node_runtime.store.secret_owners import read_secret_owners, record_secret_owners

CRASH_ENV = "ARCHY_TEST_CRASH_AT"
CRASH_EXIT_STATUS = 137
_STOP_REQUESTED = threading.Event()


class ApplyInterrupted(BaseException):
    """The process is stopping: the apply ended right before ``step`` (not an error of the
    app, so no ``except Exception`` and no rollback catches it)."""

    def __init__(self, step: str) -> None:
        super().__init__(step)
        self.step = step


def request_stop() -> None:
    """Make every apply in this process end before its next step (ApplyInterrupted)."""
    _STOP_REQUESTED.set()


def crash_point(step: str) -> None:
    """Before ``step``: exit 137 (as SIGKILL would) if ARCHY_TEST_CRASH_AT names it (tests
    only); raise ApplyInterrupted once a stop was requested."""
    if os.environ.get(CRASH_ENV) == step:
        os._exit(CRASH_EXIT_STATUS)
    if _STOP_REQUESTED.is_set():
        raise ApplyInterrupted(step)


@dataclass
class ExecutionContext:
    """What every action of one apply needs; ``warnings`` and ``steps`` collect as it runs."""

    engine: ContainerEngine
    paths: NodePaths
    data_root: str
    catalog_blake3: Callable[[], str]
    hook_sources: Sequence[str]
    program: Sequence[str] = field(default_factory=node_program)
    warnings: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def applied_record(app: CatalogApp, context: ExecutionContext) -> AppliedApp:
    """The record that makes ``app`` the app's new rollback target."""
    return AppliedApp.of(app, context.data_root, catalog_blake3=context.catalog_blake3())


def execute_action(action: Action, context: ExecutionContext) -> None:
    """Run one action; raises ActionFailed / EngineError / OSError when it cannot."""
    engine = context.engine
    state_root = context.paths.root
    crash_point(action.step)
    context.steps.append(action.step)
    match action:
        case CreateNetwork(name=name):
            engine.create_network(name)
        case RemoveNetwork(name=name):
            engine.remove_network(name)
        case CreateDataDir(path=path, container_uid=uid):
            create_data_dir(engine, path, uid, context.data_root)
        case GenerateSecret(app_id=app_id, secret=secret, kept_before=kept_before):
            before = None if kept_before is None else secret_file(state_root, *kept_before)
            write_secret_once(
                secret_file(state_root, app_id, secret.name),
                first_secret_value(secret, before, state_root),
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
        case ReplacePodmanSecret(app_id=app_id, secret_name=name):
            value = read_secret_file(secret_file(state_root, app_id, name), state_root)
            if value is None:
                raise ActionFailed(f"owner setting {name} has no value on this node")
            engine.remove_podman_secret(app_id, name)
            engine.create_podman_secret(app_id, name, value)
            clear_setting_changed(context.paths, app_id, name)
        case EnsureImage(image=image, archive=archive):
            if engine.image_present(image):
                return
            store = BlobStore(context.paths.blobs_dir)
            if archive is not None and store.contains(archive.blake3):
                engine.load_image_archive(store.verified_path(archive.blake3))
                if engine.image_present(image):
                    return
            engine.pull_image(image)
        case WriteUnits(app_id=app_id, units=units, hooked_members=hooked, adopted_members=adopted):
            dropins = app_hooks_dropins(
                app_id, hooked, context.program, state_root, context.hook_sources, adopted
            )
            engine.write_units(app_id, dict(units), dropins)
        case RemoveContainer(app_id=app_id, member=member):
            engine.remove_member(app_id, member)
        case StartMember(spec=spec, create=create):
            check_member_mounts(spec, context.data_root)
            engine.start_member(spec, create=create)
        case WaitHealthy(spec=spec):
            wait_healthy(engine, spec)
        case StopMember(app_id=app_id, member=member):
            engine.stop_member(app_id, member)
        case RunMemberHooks(member=member, post_install=post_install, pre_start=pre_start):
            context.warnings += run_member_hooks(
                engine, context.paths, member, post_install, pre_start, context.hook_sources
            )
        case RemoveUnits(app_id=app_id):
            engine.remove_units(app_id)
        case RecordApplied(app_id=app_id, app=app):
            record_secret_owners(
                context.paths,
                app_id,
                [h.podman_name for h in secret_homes(app.manifest) if not h.exported],
            )
            record_applied(context.paths, app_id, applied_record(app, context))
        case ForgetApplied(app_id=app_id):
            forget_applied(context.paths, app_id)


def run_actions(actions: Sequence[Action], context: ExecutionContext) -> None:
    for action in actions:
        try:
            execute_action(action, context)
        except (ActionFailed, EngineError, OSError, StateError) as error:
            raise ActionFailed(f"{action.step}: {error}") from None
