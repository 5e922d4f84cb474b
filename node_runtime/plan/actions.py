"""The actions a plan is made of, and the plan itself.

Each action is frozen data naming one step (``step``: ``kind:app:thing``, what
``apply --dry-run`` prints and what ``ARCHY_TEST_CRASH_AT`` names); the
executor (``apply.executor``) is the only code that carries one out.  Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from catalog.catalog_model import CatalogApp, TargetFile
from catalog.manifest import GeneratedSecret, HookStep
from catalog.member_spec import MemberSpec
from catalog.runtime_names import NETWORK_NAME, podman_secret_name
from node_runtime.store.applied import AppliedApp

AppChange = Literal["install", "update", "repair", "unchanged", "remove", "stop", "refused"]

# -- actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateNetwork:
    """Create an app network: ``archy-net``, or a third-party registry's."""

    name: str = NETWORK_NAME

    @property
    def step(self) -> str:
        return f"create-network:{self.name}"


@dataclass(frozen=True)
class RemoveNetwork:
    """Remove a third-party registry's network once none of its apps remains here."""

    name: str

    @property
    def step(self) -> str:
        return f"remove-network:{self.name}"


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
    """Generate a secret value and keep it in the node's 0600 file (first install only).

    ``kept_before`` is set for a secret the app exports with a capability: the
    ``(app, name)`` it was filed under before capabilities existed.  A value found there
    is taken over instead of a new one, so an app that started exporting its secret keeps
    the value its data was made with (docs/naming-migration.md).
    """

    app_id: str
    secret: GeneratedSecret
    kept_before: tuple[str, str] | None = None

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
class ReplacePodmanSecret:
    """An owner setting changed: hand its new value to Podman (remove, create again), after
    the members that use it are removed and before they are created again."""

    app_id: str
    secret_name: str

    @property
    def step(self) -> str:
        return f"replace-podman-secret:{self.app_id}:{self.secret_name}"


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
    """Give the engine the app's units (the Quadlet engine writes them; podman ignores them),
    with a hooks drop-in for each member in ``hooked_members`` (``apply.hook_dropins``)."""

    app_id: str
    units: tuple[tuple[str, str], ...]
    hooked_members: tuple[str, ...] = ()
    adopted_members: tuple[str, ...] = ()
    """Members whose adopted container runs outside its unit (the unit must not replace it)."""

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
class RunMemberHooks:
    """A started member's hooks (best-effort, idempotent; docs/hooks.md): its
    ``post_install`` steps when its container is new since they last ran, its
    ``pre_start`` steps when it was started since they last ran."""

    app_id: str
    member: str
    post_install: tuple[HookStep, ...]
    pre_start: tuple[HookStep, ...]

    @property
    def step(self) -> str:
        return f"hooks:{self.app_id}:{self.member}"


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
    | RemoveNetwork
    | CreateDataDir
    | GenerateSecret
    | CreatePodmanSecret
    | ReplacePodmanSecret
    | EnsureImage
    | WriteUnits
    | RemoveContainer
    | StartMember
    | WaitHealthy
    | StopMember
    | RunMemberHooks
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
    network_removals: tuple[RemoveNetwork, ...] = ()
    """After every app: a registry network no app here uses any more."""

    @property
    def actions(self) -> list[Action]:
        """Every action in the order it runs."""
        return [
            *self.network,
            *(action for app in self.apps for action in app.actions),
            *self.network_removals,
        ]

    @property
    def steps(self) -> list[str]:
        return [action.step for action in self.actions]

    def app(self, app_id: str) -> AppPlan:
        for each in self.apps:
            if each.app_id == app_id:
                return each
        raise KeyError(app_id)
