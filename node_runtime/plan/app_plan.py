"""The actions for one app: bring a runnable app to its desired state, or remove one.

Data dirs are only ever created; a secret is generated only when neither its
file nor the Podman secret exists; a container with the desired config hash is
kept (adopted if ``migration.adopt`` names it); a changed member alone is
replaced; members start in ``depends_on`` order, each followed by a health wait
and its hooks (docs/hooks.md: after every start; also for a member that was
started behind the agent's back since its hooks last ran); nothing at all when
everything already matches.  Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

from catalog.manifest import HookStep, Manifest
from catalog.runtime_names import podman_secret_name
from catalog.runtime_spec import app_runtime_specs, start_order
from catalog.secret_homes import secret_home, secret_homes
from catalog.spec_problems import RuntimeSpecError
from node_runtime.plan.actions import (
    Action,
    AppChange,
    AppPlan,
    CreateDataDir,
    CreatePodmanSecret,
    EnsureImage,
    ForgetApplied,
    GenerateSecret,
    RecordApplied,
    RemoveContainer,
    RemoveUnits,
    ReplacePodmanSecret,
    RunMemberHooks,
    StartMember,
    StopMember,
    WaitHealthy,
    WriteUnits,
)
from node_runtime.plan.desired import DesiredApp, app_data_dirs
from node_runtime.plan.observed import ObservedState
from node_runtime.store.applied import AppliedApp


def exported_secrets_before(manifest: Manifest) -> dict[str, tuple[str, str]]:
    """{name a capability's secret is filed under: (app, name) it had before capabilities}."""
    return {
        secret_home(manifest, secret.name)[1]: (manifest.id, secret.name)
        for secret in manifest.generated_secrets
        if manifest.exported_secret(secret.name) is not None
    }


def _images(desired: DesiredApp, members: Iterable[str]) -> list[EnsureImage]:
    archives = {
        companion.member: companion.archive
        for companion in desired.app.companions
        if companion.archive is not None
    }
    wanted = set(members)
    seen: set[str] = set()
    actions: list[EnsureImage] = []
    for spec in desired.specs:
        if spec.name in wanted and spec.image not in seen:
            seen.add(spec.image)
            actions.append(
                EnsureImage(desired.app_id, spec.name, spec.image, archives.get(spec.name))
            )
    return actions


def hooked_members(manifest: Manifest) -> list[str]:
    """The members some hook step names as its container, in manifest order."""
    named = {_step_container(s) for s in (*manifest.hooks.post_install, *manifest.hooks.pre_start)}
    return [member.name for member in manifest.containers if member.name in named]


def member_hooks(desired: DesiredApp, member: str) -> RunMemberHooks | None:
    """The hooks action of one member (its steps name it as their container), None without."""
    hooks = desired.manifest.hooks
    post_install = tuple(s for s in hooks.post_install if _step_container(s) == member)
    pre_start = tuple(s for s in hooks.pre_start if _step_container(s) == member)
    if not (post_install or pre_start):
        return None
    return RunMemberHooks(desired.app_id, member, post_install, pre_start)


def _step_container(step: HookStep) -> str:
    kind = step.exec if step.exec is not None else step.copy_from_host
    assert kind is not None  # a HookStep is exactly one kind
    return kind.container


def _applied_matches(desired: DesiredApp, applied: AppliedApp | None, data_root: str) -> bool:
    return (
        applied is not None
        and applied.data_root == data_root
        and applied.app.manifest_blake3 == desired.app.manifest_blake3
        and applied.app.units == desired.app.units
        and applied.app.images == desired.app.images
    )


def plan_app(
    desired: DesiredApp,
    observed: ObservedState,
    applied: AppliedApp | None,
    *,
    data_root: str,
    stopped: bool = False,
) -> AppPlan:
    """The actions that bring one runnable app to its desired state."""
    app_id = desired.app_id
    containers = observed.containers
    version = desired.version_text

    if stopped:
        actions: list[Action] = [
            StopMember(app_id, spec.name)
            for spec in reversed(desired.specs)
            if spec.name in containers and containers[spec.name].running
        ]
        return AppPlan(app_id, "stop", tuple(actions), version=version, target=desired.app)

    actions = []
    changed_settings: list[str] = []
    for path, container_uid in app_data_dirs(desired, data_root):
        if path not in observed.existing_dirs:
            actions.append(CreateDataDir(app_id, path, container_uid))
    before = exported_secrets_before(desired.manifest)
    for home in secret_homes(desired.manifest):
        has_file = home.podman_name in observed.secret_files
        in_podman = home.podman_name in observed.podman_secrets
        if not has_file and not in_podman and home.secret is not None:
            actions.append(GenerateSecret(home.owner, home.secret, before.get(home.name)))
        if not in_podman:
            actions.append(CreatePodmanSecret(home.owner, home.name))
        elif home.secret is None and home.podman_name in observed.changed_settings:
            changed_settings.append(home.name)

    wanted = {spec.name for spec in desired.specs}
    leftovers = sorted(
        (c.name for c in containers.values() if c.app_id == app_id and c.name not in wanted),
        reverse=True,
    )
    removals: list[Action] = [
        RemoveContainer(app_id, name, "no longer part of the app") for name in leftovers
    ]
    # a type=env Podman secret is read when a container is created: the members that use a
    # changed owner setting are removed (data is a bind mount and stays), the secret made
    # again from the new value, and those members created again below
    changed_names = {podman_secret_name(app_id, name) for name in changed_settings}
    recreate = [
        spec.name
        for spec in desired.specs
        if spec.name in containers and {s.secret_name for s in spec.secrets} & changed_names
    ]
    removals += [
        RemoveContainer(app_id, name, "an owner setting it uses changed")
        for name in reversed(recreate)
    ]
    removals += [ReplacePodmanSecret(app_id, name) for name in changed_settings]

    adoptable = set(desired.manifest.migration.adopt)
    adopted = [
        spec.name
        for spec in desired.specs
        if spec.name in adoptable
        and spec.name in containers
        and containers[spec.name].app_id is None
        and spec.name not in recreate
    ]
    create: list[str] = []
    members: list[Action] = []
    for spec in desired.specs:
        existing = None if spec.name in recreate else containers.get(spec.name)
        hooks = member_hooks(desired, spec.name)
        started: list[Action] = [StartMember(app_id, spec, create=True), WaitHealthy(app_id, spec)]
        if existing is None:
            create.append(spec.name)
        elif existing.config_hash == spec.config_hash or (
            existing.app_id is None and spec.name in adoptable
        ):
            if existing.running:
                started = []
                if hooks is not None and observed.hook_runs.get(spec.name) != existing.identity:
                    members.append(hooks)  # started behind the agent's back (a restart policy)
            else:
                started = [StartMember(app_id, spec, create=False), WaitHealthy(app_id, spec)]
        else:
            create.append(spec.name)
            started.insert(0, RemoveContainer(app_id, spec.name, "its configuration changed"))
        members += started
        if started and hooks is not None:
            members.append(hooks)

    record_needed = not _applied_matches(desired, applied, data_root)
    if not (actions or removals or members or record_needed):
        return AppPlan(app_id, "unchanged", (), version=version, target=desired.app)

    actions += _images(desired, create)
    if create or removals or record_needed:
        hooked = tuple(hooked_members(desired.manifest))
        actions.append(WriteUnits(app_id, desired.units, hooked, tuple(adopted)))
    actions += removals
    actions += members
    if record_needed:
        actions.append(RecordApplied(app_id, desired.app))
    change: AppChange = "install" if applied is None else "update"
    if not record_needed:
        change = "repair"  # the applied version, brought back: nothing to roll back to
    rollback = applied if change == "update" else None
    note = None
    if changed_settings:
        note = (
            f"owner setting {', '.join(changed_settings)} changed: its Podman secret made again"
            + (f", {', '.join(recreate)} recreated with it (data kept)" if recreate else "")
        )
    return AppPlan(
        app_id, change, tuple(actions), note, version=version, target=desired.app,
        rollback_to=rollback,
    )  # fmt: skip


def plan_removal(app_id: str, observed: ObservedState, applied: AppliedApp | None) -> AppPlan:
    """Stop and remove an uninstalled app's containers; its data and secrets stay."""
    names = {c.name for c in observed.containers.values() if c.app_id == app_id}
    order: list[str] = []
    if applied is not None:
        try:
            specs = start_order(app_runtime_specs(applied.app.pinned_manifest(), applied.data_root))
            order = [spec.name for spec in specs if spec.name in names]
        except RuntimeSpecError:
            order = []
    order += sorted(names - set(order))
    actions: list[Action] = []
    for name in reversed(order):
        actions.append(RemoveContainer(app_id, name, "the app was uninstalled"))
    if applied is not None or actions:
        actions.append(RemoveUnits(app_id))
    if applied is not None:
        actions.append(ForgetApplied(app_id))
    version = None if applied is None else f"{applied.app.version}-r{applied.app.revision}"
    return AppPlan(app_id, "remove", tuple(actions), version=version)
