"""Reconcile: desired state + observed state -> an ordered plan of actions.

Pure.  No podman, no files: the caller observes (containers with their
labels, Podman secrets, the node's secret files, data dirs that exist) and
this module decides, per app, what must happen for the node to converge.
:mod:`node_runtime.apply` executes the plan through an engine.

The rules (DESIGN §7, seed §2/§7) as they show up in a plan:

* **Refusals first.** An installed app the node cannot run (not in the
  catalog, unsupported architecture, a missing or mismatched dependency, a
  host port another app already uses, a manifest no engine can run) gets no
  actions and a one-line reason.  If an earlier version of it was applied,
  that version keeps being reconciled, so nothing else is disturbed.
* **Data** dirs are only ever *created* (with the owner their member's
  ``data_uid`` maps to); a plan never deletes or re-owns one.
* **Secrets**: a secret the node holds no file for and Podman holds no
  secret for is generated (once); a file without a Podman secret is handed
  to Podman again; nothing is ever regenerated.
* **Adoption**: a container with the member's name and the desired
  ``archy.config-hash`` label is kept (started if it is not running);
  a different hash means the member changed and only that member is
  replaced.  A container of that name without our labels is adopted only
  when the manifest lists it in ``migration.adopt``; otherwise the app is
  refused (the node never removes a container it did not create).
* **Order**: apps in dependency order; members in ``depends_on`` order, each
  started one followed by a health wait.
* **Zero writes when nothing changed**: an app whose containers all run with
  the desired hashes, whose dirs and secrets exist and whose applied record
  matches gets no actions at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from catalog.capabilities import provider_conflict, satisfies, shortfall
from catalog.catalog_model import AppCatalog, CatalogApp, TargetFile
from catalog.manifest import GeneratedSecret, HookStep, Manifest
from catalog.runtime_spec import (
    NETWORK_NAME,
    MemberSpec,
    RuntimeSpecError,
    SpecProblem,
    app_data_dir,
    app_runtime_specs,
    podman_secret_name,
    secret_homes,
    start_order,
)
from catalog.unit_check import check_app_units, container_unit_file

AppChange = Literal["install", "update", "repair", "unchanged", "remove", "stop", "refused"]

# -- observed state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ObservedContainer:
    """One container as ``podman ps -a`` shows it."""

    name: str
    id: str
    running: bool
    app_id: str | None = None
    member: str | None = None
    config_hash: str | None = None


@dataclass(frozen=True)
class ObservedState:
    """What the node has right now (every field filled by the caller, read-only here)."""

    containers: Mapping[str, ObservedContainer] = field(default_factory=dict)
    podman_secrets: frozenset[str] = frozenset()
    secret_files: frozenset[str] = frozenset()
    existing_dirs: frozenset[str] = frozenset()
    network_exists: bool = False
    secret_owners: Mapping[str, str] = field(default_factory=dict)


# -- what was applied before -------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedApp:
    """The last successful apply of one app: the rollback target."""

    app: CatalogApp
    data_root: str


@dataclass(frozen=True)
class FailedUpdate:
    """An update that failed: not retried until the catalog changes it (or retry is asked)."""

    manifest_blake3: str
    reason: str


# -- actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateNetwork:
    @property
    def step(self) -> str:
        return f"create-network:{NETWORK_NAME}"


@dataclass(frozen=True)
class CreateDataDir:
    """Create ``path`` (never an existing one) owned by what ``container_uid`` maps to."""

    app_id: str
    path: str
    container_uid: int | None

    @property
    def step(self) -> str:
        return f"create-data-dir:{self.app_id}:{self.path.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class GenerateSecret:
    """Generate a secret value and keep it in the node's 0600 file (first install only)."""

    app_id: str
    secret: GeneratedSecret

    @property
    def step(self) -> str:
        return f"generate-secret:{self.app_id}:{self.secret.name}"


@dataclass(frozen=True)
class CreatePodmanSecret:
    """Hand the node's secret file to Podman as ``archy-<app>_<name>``."""

    app_id: str
    secret_name: str

    @property
    def podman_name(self) -> str:
        return podman_secret_name(self.app_id, self.secret_name)

    @property
    def step(self) -> str:
        return f"create-podman-secret:{self.app_id}:{self.secret_name}"


@dataclass(frozen=True)
class EnsureImage:
    """Make the image present: a bounded inspect, else load the companion archive or pull."""

    app_id: str
    member: str
    image: str
    archive: TargetFile | None = None

    @property
    def step(self) -> str:
        return f"ensure-image:{self.app_id}:{self.member}"


@dataclass(frozen=True)
class WriteUnits:
    """Give the engine the app's units (the Quadlet engine writes them; podman ignores them)."""

    app_id: str
    units: tuple[tuple[str, str], ...]

    @property
    def step(self) -> str:
        return f"write-units:{self.app_id}"


@dataclass(frozen=True)
class RemoveContainer:
    """Stop and remove one container (its data is a bind mount and stays)."""

    app_id: str
    member: str
    reason: str

    @property
    def step(self) -> str:
        return f"remove-container:{self.app_id}:{self.member}"


@dataclass(frozen=True)
class StartMember:
    """Create and start a member (``create``), or start its existing, adopted container."""

    app_id: str
    spec: MemberSpec
    create: bool

    @property
    def step(self) -> str:
        verb = "create" if self.create else "start"
        return f"{verb}-member:{self.app_id}:{self.spec.name}"


@dataclass(frozen=True)
class WaitHealthy:
    app_id: str
    spec: MemberSpec

    @property
    def step(self) -> str:
        return f"wait-healthy:{self.app_id}:{self.spec.name}"


@dataclass(frozen=True)
class StopMember:
    app_id: str
    member: str

    @property
    def step(self) -> str:
        return f"stop-member:{self.app_id}:{self.member}"


@dataclass(frozen=True)
class RunPostInstall:
    """The manifest's ``post_install`` steps, after a fresh install (best-effort, idempotent)."""

    app_id: str
    steps: tuple[HookStep, ...]

    @property
    def step(self) -> str:
        return f"post-install:{self.app_id}"


@dataclass(frozen=True)
class RemoveUnits:
    app_id: str

    @property
    def step(self) -> str:
        return f"remove-units:{self.app_id}"


@dataclass(frozen=True)
class RecordApplied:
    """Write the app's applied record: the new rollback target."""

    app_id: str
    app: CatalogApp

    @property
    def step(self) -> str:
        return f"record-applied:{self.app_id}"


@dataclass(frozen=True)
class ForgetApplied:
    app_id: str

    @property
    def step(self) -> str:
        return f"forget-applied:{self.app_id}"


Action = (
    CreateNetwork
    | CreateDataDir
    | GenerateSecret
    | CreatePodmanSecret
    | EnsureImage
    | WriteUnits
    | RemoveContainer
    | StartMember
    | WaitHealthy
    | StopMember
    | RunPostInstall
    | RemoveUnits
    | RecordApplied
    | ForgetApplied
)

# -- plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppPlan:
    """What happens to one app, and why."""

    app_id: str
    change: AppChange
    actions: tuple[Action, ...] = ()
    reason: str | None = None
    version: str | None = None
    target: CatalogApp | None = None
    rollback_to: AppliedApp | None = None


@dataclass(frozen=True)
class Plan:
    network: tuple[CreateNetwork, ...]
    apps: tuple[AppPlan, ...]

    @property
    def actions(self) -> list[Action]:
        """Every action in the order it runs."""
        return [*self.network, *(action for app in self.apps for action in app.actions)]

    @property
    def steps(self) -> list[str]:
        return [action.step for action in self.actions]

    def app(self, app_id: str) -> AppPlan:
        for each in self.apps:
            if each.app_id == app_id:
                return each
        raise KeyError(app_id)


# -- desired state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiredApp:
    """An installed app the node can run: its catalog entry, pinned manifest and specs."""

    app_id: str
    app: CatalogApp
    manifest: Manifest
    specs: tuple[MemberSpec, ...]

    @property
    def version_text(self) -> str:
        return f"{self.app.version}-r{self.app.revision}"


class UnitsRefused(RuntimeSpecError):
    """The catalog's units for an app are not what the renderer writes for its manifest."""

    def __init__(self, app_id: str, problems: Sequence[str]) -> None:
        super().__init__([SpecProblem(("units",), problem) for problem in problems])
        shown = "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        self.message = f"its units are refused (not what the renderer writes for {app_id}): {shown}"

    def __str__(self) -> str:
        return self.message


def desired_app(app: CatalogApp, data_root: str) -> DesiredApp:
    """Raises RuntimeSpecError when no engine can run the manifest, UnitsRefused (one)
    when the catalog's units are not what the renderer writes for it (catalog.unit_check)."""
    problems = check_app_units(
        app.manifest,
        app.units,
        data_root=data_root,
        images=[image.pinned_reference for image in app.images],
    )
    if problems:
        raise UnitsRefused(app.manifest.id, problems)
    manifest = app.pinned_manifest()
    specs = start_order(app_runtime_specs(manifest, data_root))
    return DesiredApp(app.manifest.id, app, manifest, tuple(specs))


def _dependency_problem(manifest: Manifest, accepted: Mapping[str, DesiredApp]) -> str | None:
    for requirement in manifest.requires:
        if requirement.optional:
            continue
        providers = [
            each
            for each in accepted.values()
            if each.app_id != manifest.id and satisfies(each.app_id, each.manifest, requirement)
        ]
        if not providers:
            return f"needs app {requirement.app!r}, which is not installed (install it first)"
        fitting = [
            each for each in providers if shortfall(requirement, each.app_id, each.manifest) is None
        ]
        if not fitting:
            names = ", ".join(sorted(f"{p.app_id} {p.manifest.version}" for p in providers))
            wanted = requirement.version or "any version"
            settings = ", ".join(f"{k}={v}" for k, v in sorted(requirement.settings.items()))
            return (
                f"needs {requirement.app!r} {wanted}"
                + (f" with {settings}" if settings else "")
                + f"; installed: {names}"
            )
    return None


def _host_ports(desired: DesiredApp) -> set[tuple[int, str]]:
    return {(port.host_port, port.protocol) for spec in desired.specs for port in spec.ports}


def derived_names(desired: DesiredApp) -> set[tuple[str, str]]:
    """(kind, name) of everything the node names after the app: unit files, containers,
    Podman secrets.  Two apps must never share one (the node would hand one app's
    secret or unit to the other)."""
    app_id = desired.app_id
    names = {("unit", container_unit_file(app_id, spec.name)) for spec in desired.specs}
    names |= {("container", spec.name) for spec in desired.specs}
    # A capability alias answers like a container name on archy-net (P025 across the catalog).
    names |= {("container", alias) for spec in desired.specs for alias in spec.network_aliases}
    # A capability's exported secret is shared by design (one per node, P026 keeps one
    # provider installed); only the app's own secrets are names it alone may hold.
    names |= {
        ("podman secret", home.podman_name)
        for home in secret_homes(desired.manifest)
        if not home.exported
    }
    return names


def _owner_problem(desired: DesiredApp, observed: ObservedState) -> str | None:
    """A Podman secret this app would use that the node recorded as another app's."""
    for kind, name in sorted(derived_names(desired)):
        owner = observed.secret_owners.get(name) if kind == "podman secret" else None
        if owner is not None and owner != desired.app_id:
            return f"podman secret {name} belongs to app {owner!r}; refusing to hand it over"
    return None


def _container_problem(desired: DesiredApp, observed: ObservedState) -> str | None:
    adoptable = set(desired.manifest.migration.adopt)
    for spec in desired.specs:
        existing = observed.containers.get(spec.name)
        if existing is None:
            continue
        if existing.app_id is not None and existing.app_id != desired.app_id:
            return f"container name {spec.name!r} is used by app {existing.app_id!r}"
        if existing.app_id is None and spec.name not in adoptable:
            return (
                f"a container named {spec.name!r} exists that the node did not create; "
                "remove it, or list it in migration.adopt to adopt it"
            )
    return None


def resolve_desired(
    catalog: AppCatalog,
    installed: Collection[str],
    *,
    data_root: str,
    architecture: str,
    applied: Mapping[str, AppliedApp],
    observed: ObservedState,
) -> tuple[dict[str, DesiredApp], dict[str, str]]:
    """The installed apps the node can run, and a reason for each one it cannot."""
    refused: dict[str, str] = {}
    candidates: dict[str, DesiredApp] = {}
    for app_id in sorted(installed):
        app = catalog.apps.get(app_id)
        if app is None:
            refused[app_id] = "is not in the current catalog"
            continue
        if architecture not in app.manifest.architectures:
            supported = ", ".join(app.manifest.architectures)
            refused[app_id] = f"does not run on {architecture} (only {supported})"
            continue
        try:
            candidates[app_id] = desired_app(app, data_root)
        except UnitsRefused as error:
            refused[app_id] = str(error)
            continue
        except RuntimeSpecError as error:
            refused[app_id] = f"cannot be run: {error}"
            continue
        problem = _container_problem(candidates[app_id], observed) or _owner_problem(
            candidates[app_id], observed
        )
        if problem is not None:
            refused[app_id] = problem
            del candidates[app_id]

    # One provider per capability (P026): apps already applied keep theirs; newcomers in id order.
    providing: dict[str, Manifest] = {}
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        conflict = provider_conflict(app_id, candidates[app_id].manifest, providing)
        if conflict is not None:
            refused[app_id] = conflict
            del candidates[app_id]
            continue
        if candidates[app_id].manifest.capabilities:
            providing[app_id] = candidates[app_id].manifest

    # Host ports: apps already applied keep theirs; newcomers in id order.
    owners: dict[tuple[int, str], str] = {}
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        ports = _host_ports(candidates[app_id])
        clash = sorted(port for port in ports if port in owners)
        if clash:
            port, protocol = clash[0]
            refused[app_id] = (
                f"host port {port}/{protocol} is already used by app {owners[port, protocol]!r}"
            )
            continue
        owners.update(dict.fromkeys(ports, app_id))
    # Derived names (units, containers, Podman secrets): the same rule as host ports.
    named: dict[tuple[str, str], str] = {}
    for previous_id, previous in applied.items():
        if previous_id not in candidates:
            with contextlib.suppress(RuntimeSpecError):
                named.update(dict.fromkeys(derived_names(desired_app(previous.app,
                                                                      previous.data_root)),
                                           previous_id))  # fmt: skip
    for app_id in sorted(candidates, key=lambda each: (each not in applied, each)):
        if app_id in refused:
            continue
        names = derived_names(candidates[app_id])
        taken = sorted(name for name in names if named.get(name, app_id) != app_id)
        if taken:
            kind, name = taken[0]
            refused[app_id] = f"its {kind} name {name} is also app {named[taken[0]]!r}'s"
            continue
        named.update(dict.fromkeys(names, app_id))
    accepted = {k: v for k, v in candidates.items() if k not in refused}

    # Dependencies, to a fixed point: refusing one app can leave another without a provider.
    changed = True
    while changed:
        changed = False
        for app_id in sorted(accepted):
            problem = _dependency_problem(accepted[app_id].manifest, accepted)
            if problem is not None:
                refused[app_id] = problem
                del accepted[app_id]
                changed = True
    return accepted, refused


def dependency_order(apps: Mapping[str, DesiredApp]) -> list[str]:
    """App ids with every provider before the apps that require it (ties by id)."""
    needs: dict[str, set[str]] = {}
    for app_id, desired in apps.items():
        wanted: set[str] = set()
        for requirement in desired.manifest.requires:
            for other_id, other in apps.items():
                if other_id != app_id and (
                    other_id == requirement.app or requirement.app in other.manifest.capabilities
                ):
                    wanted.add(other_id)
        needs[app_id] = wanted
    order: list[str] = []
    remaining = sorted(apps)
    while remaining:
        ready = [each for each in remaining if needs[each] <= set(order)] or remaining[:1]
        order.append(ready[0])
        remaining.remove(ready[0])
    return order


# -- planning one app --------------------------------------------------------------------------


def app_data_dirs(desired: DesiredApp, data_root: str) -> list[tuple[str, int | None]]:
    """(path, container uid that owns it) for the app dir and every volume dir under it."""
    app_dir = app_data_dir(desired.app_id, data_root)
    dirs: dict[str, int | None] = {app_dir: None}
    for spec in desired.specs:
        for mount in spec.mounts:
            if mount.host_path.startswith(app_dir + "/"):
                dirs.setdefault(mount.host_path, spec.data_uid)
    return sorted(dirs.items())


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
    for path, container_uid in app_data_dirs(desired, data_root):
        if path not in observed.existing_dirs:
            actions.append(CreateDataDir(app_id, path, container_uid))
    for home in secret_homes(desired.manifest):
        has_file = home.podman_name in observed.secret_files
        in_podman = home.podman_name in observed.podman_secrets
        if not has_file and not in_podman and home.secret is not None:
            actions.append(GenerateSecret(home.owner, home.secret))
        if not in_podman:
            actions.append(CreatePodmanSecret(home.owner, home.name))

    wanted = {spec.name for spec in desired.specs}
    leftovers = sorted(
        (c.name for c in containers.values() if c.app_id == app_id and c.name not in wanted),
        reverse=True,
    )
    removals: list[Action] = [
        RemoveContainer(app_id, name, "no longer part of the app") for name in leftovers
    ]

    adoptable = set(desired.manifest.migration.adopt)
    create: list[str] = []
    members: list[Action] = []
    for spec in desired.specs:
        existing = containers.get(spec.name)
        if existing is None:
            create.append(spec.name)
            members += [StartMember(app_id, spec, create=True), WaitHealthy(app_id, spec)]
        elif existing.config_hash == spec.config_hash or (
            existing.app_id is None and spec.name in adoptable
        ):
            if not existing.running:
                members += [StartMember(app_id, spec, create=False), WaitHealthy(app_id, spec)]
        else:
            create.append(spec.name)
            members += [
                RemoveContainer(app_id, spec.name, "its configuration changed"),
                StartMember(app_id, spec, create=True),
                WaitHealthy(app_id, spec),
            ]

    fresh = applied is None and not any(
        c.app_id == app_id or c.name in wanted for c in containers.values()
    )
    record_needed = not _applied_matches(desired, applied, data_root)
    if not (actions or removals or members or record_needed):
        return AppPlan(app_id, "unchanged", (), version=version, target=desired.app)

    actions += _images(desired, create)
    if create or removals or record_needed:
        actions.append(WriteUnits(app_id, tuple(sorted(desired.app.units.items()))))
    actions += removals
    actions += members
    if fresh and desired.manifest.hooks.post_install:
        actions.append(RunPostInstall(app_id, tuple(desired.manifest.hooks.post_install)))
    if record_needed:
        actions.append(RecordApplied(app_id, desired.app))
    change: AppChange = "install" if applied is None else "update"
    if not record_needed:
        change = "repair"  # the applied version, brought back: nothing to roll back to
    rollback = applied if change == "update" else None
    return AppPlan(
        app_id, change, tuple(actions), version=version, target=desired.app, rollback_to=rollback
    )


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


# -- the whole node ----------------------------------------------------------------------------


def plan_reconcile(
    catalog: AppCatalog,
    installed: Collection[str],
    observed: ObservedState,
    applied: Mapping[str, AppliedApp],
    *,
    data_root: str,
    architecture: str,
    stopped: Collection[str] = (),
    failed_updates: Mapping[str, FailedUpdate] | None = None,
    only: Collection[str] | None = None,
) -> Plan:
    """Every app's plan, in dependency order, then removals; ``only`` limits it to some apps.

    An app whose last update failed (``failed_updates`` names the same
    manifest) is not retried: its applied version is reconciled instead, and
    the plan says why.  The same holds for a refused app that ran before.
    """
    failed_updates = failed_updates or {}
    accepted, refused = resolve_desired(
        catalog,
        installed,
        data_root=data_root,
        architecture=architecture,
        applied=applied,
        observed=observed,
    )
    plans: dict[str, AppPlan] = {}
    for app_id, desired in list(accepted.items()):
        failure = failed_updates.get(app_id)
        if failure is not None and failure.manifest_blake3 == desired.app.manifest_blake3:
            refused[app_id] = failure.reason
            del accepted[app_id]

    fallback: dict[str, DesiredApp] = {}
    for app_id, _reason in refused.items():
        previous = applied.get(app_id)
        if previous is not None and previous.data_root == data_root:
            with contextlib.suppress(RuntimeSpecError):
                fallback[app_id] = desired_app(previous.app, data_root)

    runnable = {**accepted, **fallback}
    for app_id in dependency_order(runnable):
        plan = plan_app(
            runnable[app_id],
            observed,
            applied.get(app_id),
            data_root=data_root,
            stopped=app_id in stopped,
        )
        if app_id in refused:
            plan = AppPlan(
                app_id,
                "refused",
                plan.actions,
                reason=refused[app_id],
                version=plan.version,
                target=plan.target,
            )
        plans[app_id] = plan
    for app_id in sorted(refused):
        if app_id not in plans:
            plans[app_id] = AppPlan(app_id, "refused", (), reason=refused[app_id])

    known = set(applied) | {c.app_id for c in observed.containers.values() if c.app_id}
    for app_id in sorted(known - set(installed)):
        plans[app_id] = plan_removal(app_id, observed, applied.get(app_id))

    network: tuple[CreateNetwork, ...] = ()
    needs_network = any(
        isinstance(action, StartMember) and action.spec.network == NETWORK_NAME
        for plan in plans.values()
        for action in plan.actions
    )
    if needs_network and not observed.network_exists:
        network = (CreateNetwork(),)
    selected = [plan for plan in plans.values() if only is None or plan.app_id in only]
    return Plan(network, tuple(selected))


def paths_to_observe(
    catalog: AppCatalog,
    installed: Collection[str],
    applied: Mapping[str, AppliedApp],
    data_root: str,
) -> tuple[set[str], set[str]]:
    """(data dirs, Podman secret names) whose existence the caller should observe."""
    dirs: set[str] = set()
    secrets: set[str] = set()
    sources: list[CatalogApp] = [catalog.apps[a] for a in installed if a in catalog.apps]
    sources += [each.app for each in applied.values()]
    for app in sources:
        try:
            desired = desired_app(app, data_root)
        except RuntimeSpecError:
            continue
        dirs.update(path for path, _ in app_data_dirs(desired, data_root))
        secrets.update(home.podman_name for home in secret_homes(app.manifest))
    return dirs, secrets


def describe_plan(plan: Plan) -> Sequence[str]:
    """One line per action, for ``apply --dry-run`` and logs (never a secret value)."""
    return plan.steps
