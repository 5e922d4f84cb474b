"""The pure planner: desired + observed state in, ordered actions out (no podman)."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.manifest import Manifest
from catalog.runtime_names import podman_secret_name
from node_runtime.plan.actions import (
    CreateDataDir,
    CreateNetwork,
    CreatePodmanSecret,
    GenerateSecret,
    Plan,
    RecordApplied,
    RemoveContainer,
    RunMemberHooks,
    StartMember,
    StopMember,
    WaitHealthy,
    WriteUnits,
)
from node_runtime.plan.desired import desired_app
from node_runtime.plan.observed import ObservedContainer, ObservedState
from node_runtime.plan.reconcile import plan_reconcile
from node_runtime.store.applied import AppliedApp
from node_runtime.store.failures import FailedUpdate
from tests.realparts import REPO_ROOT
from tests.support.catalogs import (
    catalog_of,
    manifest_from_folder,
    simple_manifest,
    with_member_changes,
)

DATA = "/srv/data"
ARCH = "amd64"


def plan(catalog, installed: Iterable[str], observed: ObservedState, applied=None, **kw) -> Plan:  # type: ignore[no-untyped-def]
    return plan_reconcile(
        catalog, set(installed), observed, applied or {}, data_root=DATA, architecture=ARCH, **kw
    )


def running_state(catalog, app_ids: Iterable[str], *, running: bool = True) -> ObservedState:  # type: ignore[no-untyped-def]
    """The observed state of a node where these apps were fully applied."""
    containers = {}
    dirs = set()
    secrets = set()
    for app_id in app_ids:
        desired = desired_app(catalog.apps[app_id], DATA)
        dirs.add(f"{DATA}/{app_id}")
        for spec in desired.specs:
            containers[spec.name] = ObservedContainer(
                spec.name, f"id-{spec.name}", running, app_id, spec.name, spec.config_hash
            )
            dirs.update(m.host_path for m in spec.mounts)
        secrets.update(
            podman_secret_name(app_id, s.name) for s in desired.manifest.generated_secrets
        )
    return ObservedState(
        containers=containers,
        podman_secrets=frozenset(secrets),
        secret_files=frozenset(secrets),
        existing_dirs=frozenset(dirs),
        networks=frozenset({"archy-net"}),
    )


def applied_of(catalog, app_ids: Iterable[str]) -> dict[str, AppliedApp]:  # type: ignore[no-untyped-def]
    return {app_id: AppliedApp.of(catalog.apps[app_id], DATA) for app_id in app_ids}


def test_a_fresh_install_creates_dirs_secrets_network_then_starts_and_records() -> None:
    catalog = catalog_of([simple_manifest("alpha", secrets=["token"])])
    result = plan(catalog, {"alpha"}, ObservedState())
    kinds = [type(action) for action in result.actions]
    assert kinds[0] is CreateNetwork
    assert isinstance(result.actions[1], CreateDataDir)
    assert result.actions[1].path == f"{DATA}/alpha" and result.actions[1].container_uid is None
    assert isinstance(result.actions[2], CreateDataDir)
    assert (
        result.actions[2].path == f"{DATA}/alpha/data" and result.actions[2].container_uid == 1000
    )
    assert GenerateSecret in kinds and CreatePodmanSecret in kinds
    assert kinds.index(GenerateSecret) < kinds.index(CreatePodmanSecret) < kinds.index(StartMember)
    assert kinds[-3:] == [StartMember, WaitHealthy, RecordApplied]
    assert result.app("alpha").change == "install"


def test_a_secret_exported_with_a_capability_names_where_the_app_kept_it_before() -> None:
    document = simple_manifest("coin", secrets=["token", "admin"]).to_document()
    document["provides"] = [
        {"capability": "coin", "alias": "coind", "container": "coin", "secrets": ["token"]}
    ]
    catalog = catalog_of([Manifest.model_validate(document)])
    steps = plan(catalog, {"coin"}, ObservedState()).apps[0].actions
    generated = {
        (a.app_id, a.secret.name): a.kept_before for a in steps if isinstance(a, GenerateSecret)
    }
    assert generated == {("cap", "coin_token"): ("coin", "token"), ("coin", "admin"): None}


def test_nothing_changed_means_no_actions_at_all() -> None:
    catalog = catalog_of([simple_manifest(f"app{i}", port=20000 + i) for i in range(5)])
    ids = list(catalog.apps)
    result = plan(catalog, ids, running_state(catalog, ids), applied_of(catalog, ids))
    assert result.actions == []
    assert {each.change for each in result.apps} == {"unchanged"}


def test_a_secret_is_never_regenerated_once_podman_or_the_node_holds_it() -> None:
    catalog = catalog_of([simple_manifest("alpha", secrets=["token"])])
    state = running_state(catalog, ["alpha"])
    name = podman_secret_name("alpha", "token")
    only_podman = ObservedState(
        state.containers, frozenset({name}), frozenset(), state.existing_dirs, state.networks
    )
    only_file = ObservedState(
        state.containers, frozenset(), frozenset({name}), state.existing_dirs, state.networks
    )
    applied = applied_of(catalog, ["alpha"])
    assert plan(catalog, {"alpha"}, only_podman, applied).actions == []
    steps = plan(catalog, {"alpha"}, only_file, applied).actions
    assert [type(a) for a in steps if not isinstance(a, RecordApplied)][:1] == [CreatePodmanSecret]
    assert not any(isinstance(a, GenerateSecret) for a in steps)


def test_stopped_containers_with_the_right_hash_are_started_not_recreated() -> None:
    catalog = catalog_of([simple_manifest("alpha")])
    result = plan(
        catalog, {"alpha"}, running_state(catalog, ["alpha"], running=False),
        applied_of(catalog, ["alpha"]),
    )  # fmt: skip
    [start, wait] = result.actions
    assert isinstance(start, StartMember) and start.create is False
    assert isinstance(wait, WaitHealthy)


def test_only_the_changed_member_of_a_stack_is_replaced_and_the_update_can_roll_back() -> None:
    stack = manifest_from_folder(REPO_ROOT / "tests/apps/test-stack")
    old = catalog_of([stack])
    new_manifest = with_member_changes(stack, "test-stack-web", env={"MODE": "new"})
    new = catalog_of([new_manifest.model_copy(update={"revision": 2})])
    result = plan(
        new, {"test-stack"}, running_state(old, ["test-stack"]), applied_of(old, ["test-stack"])
    )
    app = result.app("test-stack")
    assert app.change == "update" and app.rollback_to is not None
    replaced = [a.member for a in app.actions if isinstance(a, RemoveContainer)]
    started = [a.spec.name for a in app.actions if isinstance(a, StartMember)]
    # the revision is part of every member's config hash, so all change here …
    assert replaced == started == ["test-stack-store", "test-stack-api", "test-stack-web"]
    # … while a change to one member alone, at the same revision, replaces only it
    same_revision = catalog_of([new_manifest])
    app = plan(
        same_revision, {"test-stack"}, running_state(old, ["test-stack"]),
        applied_of(old, ["test-stack"]),
    ).app("test-stack")  # fmt: skip
    assert [a.member for a in app.actions if isinstance(a, RemoveContainer)] == ["test-stack-web"]


def test_members_start_in_health_order() -> None:
    stack = manifest_from_folder(REPO_ROOT / "tests/apps/test-stack")
    result = plan(
        catalog_of([stack]), {"test-stack"}, ObservedState(networks=frozenset({"archy-net"}))
    )
    order = [
        (type(a).__name__, a.spec.name)
        for a in result.actions
        if isinstance(a, (StartMember, WaitHealthy))
    ]
    assert order == [
        ("StartMember", "test-stack-store"), ("WaitHealthy", "test-stack-store"),
        ("StartMember", "test-stack-api"), ("WaitHealthy", "test-stack-api"),
        ("StartMember", "test-stack-web"), ("WaitHealthy", "test-stack-web"),
    ]  # fmt: skip


def test_an_uninstalled_app_loses_its_containers_but_no_data_or_secret_action_appears() -> None:
    catalog = catalog_of([simple_manifest("alpha", secrets=["token"])])
    result = plan(catalog, set(), running_state(catalog, ["alpha"]), applied_of(catalog, ["alpha"]))
    app = result.app("alpha")
    assert app.change == "remove"
    assert [a.step for a in app.actions] == [
        "remove-container:alpha:alpha", "remove-units:alpha", "forget-applied:alpha",
    ]  # fmt: skip


def test_an_unsupported_architecture_is_refused_and_the_others_still_install() -> None:
    catalog = catalog_of(
        [simple_manifest("alpha", architectures=["arm64"]), simple_manifest("beta", port=18081)]
    )
    result = plan(catalog, {"alpha", "beta"}, ObservedState())
    assert result.app("alpha").change == "refused"
    assert result.app("alpha").reason == "does not run on amd64 (only arm64)"
    assert result.app("alpha").actions == ()
    assert result.app("beta").change == "install"


def test_a_host_port_used_by_another_app_refuses_the_newcomer_not_the_running_app() -> None:
    catalog = catalog_of(
        [simple_manifest("zeta", port=18080), simple_manifest("alpha", port=18080)]
    )
    result = plan(
        catalog, {"alpha", "zeta"}, running_state(catalog, ["zeta"]), applied_of(catalog, ["zeta"])
    )
    assert result.app("zeta").change == "unchanged"
    assert result.app("alpha").change == "refused"
    assert result.app("alpha").reason == "host port 18080/tcp is already used by app 'zeta'"


def test_a_missing_dependency_refuses_the_app_and_its_dependents() -> None:
    catalog = catalog_of([
        simple_manifest("electrum", port=18081, requires=[{"app": "bitcoin"}]),
        simple_manifest("explorer", port=18082, requires=[{"app": "electrum"}]),
        simple_manifest("knots", port=18083, provides=["bitcoin"], settings={"txindex": False}),
        simple_manifest(
            "indexer", port=18084, requires=[{"app": "bitcoin", "settings": {"txindex": True}}]
        ),
    ])  # fmt: skip
    result = plan(catalog, {"electrum", "explorer", "indexer"}, ObservedState())
    assert result.app("electrum").reason == (
        "needs app 'bitcoin', which is not installed (install it first)"
    )
    assert result.app("explorer").change == "refused"
    with_knots = plan(catalog, {"electrum", "explorer", "knots", "indexer"}, ObservedState())
    assert with_knots.app("electrum").change == "install"
    assert with_knots.app("indexer").reason == (
        "needs 'bitcoin' any version with txindex=True; installed: knots 1.0.0"
    )
    order = [each.app_id for each in with_knots.apps if each.change == "install"]
    assert order.index("knots") < order.index("electrum") < order.index("explorer")


def test_a_foreign_container_with_a_members_name_refuses_the_app_unless_adopted() -> None:
    manifest = simple_manifest("alpha")
    catalog = catalog_of([manifest])
    legacy = ObservedState(
        containers={"alpha": ObservedContainer("alpha", "legacy-id", True)},
        networks=frozenset({"archy-net"}),
    )
    assert plan(catalog, {"alpha"}, legacy).app("alpha").reason == (
        "a container named 'alpha' exists that the node did not create; "
        "remove it, or list it in migration.adopt to adopt it"
    )
    adopting = manifest.model_copy(
        update={"migration": manifest.migration.model_copy(update={"adopt": ["alpha"]})}
    )
    app = plan(catalog_of([adopting]), {"alpha"}, legacy).app("alpha")
    # adopted: installed, not refused; the running container is kept (neither removed nor
    # recreated) and the node records the app as applied
    assert app.change == "install" and app.reason is None
    assert not any(isinstance(a, (StartMember, RemoveContainer)) for a in app.actions)
    assert isinstance(app.actions[-1], RecordApplied)
    # under Quadlet its unit gets the node's guard, so a boot never replaces the container
    [units] = [a for a in app.actions if isinstance(a, WriteUnits)]
    assert units.adopted_members == ("alpha",)
    stopped = ObservedState(
        containers={"alpha": ObservedContainer("alpha", "legacy-id", False)},
        networks=frozenset({"archy-net"}),
    )
    app = plan(catalog_of([adopting]), {"alpha"}, stopped).app("alpha")
    assert app.change == "install" and app.reason is None
    starts = [a for a in app.actions if isinstance(a, StartMember)]
    assert [(s.spec.name, s.create) for s in starts] == [("alpha", False)]  # started, not made


def test_a_failed_update_is_not_retried_and_the_applied_version_is_kept() -> None:
    old = catalog_of([simple_manifest("alpha")])
    new = catalog_of([simple_manifest("alpha", revision=2)])
    failure = FailedUpdate(
        manifest_blake3=new.apps["alpha"].manifest_blake3, reason="update to 1.0.0-r2 failed: x"
    )
    state = running_state(old, ["alpha"], running=False)
    app = plan(
        new, {"alpha"}, state, applied_of(old, ["alpha"]), failed_updates={"alpha": failure}
    ).app("alpha")
    assert app.change == "refused" and app.reason == failure.reason
    starts = [a for a in app.actions if isinstance(a, StartMember)]
    assert [s.create for s in starts] == [False]  # the old container comes back, unchanged


def test_a_stopped_app_is_only_stopped() -> None:
    catalog = catalog_of([simple_manifest("alpha")])
    app = plan(
        catalog, {"alpha"}, running_state(catalog, ["alpha"]), applied_of(catalog, ["alpha"]),
        stopped={"alpha"},
    ).app("alpha")  # fmt: skip
    assert app.change == "stop" and [type(a) for a in app.actions] == [StopMember]


def test_a_members_hooks_follow_each_start_of_it_and_a_start_behind_the_agents_back() -> None:
    manifest = simple_manifest("alpha")
    hooked = manifest.model_validate(
        {
            **manifest.to_document(),
            "hooks": {
                "post_install": [{"exec": {"container": "alpha", "command": ["true"]}}],
                "pre_start": [{"exec": {"container": "alpha", "command": ["date"]}}],
            },
        }
    )
    catalog = catalog_of([hooked])
    fresh = plan(catalog, {"alpha"}, ObservedState()).app("alpha")
    kinds = [type(a).__name__ for a in fresh.actions]
    assert kinds[-4:] == ["StartMember", "WaitHealthy", "RunMemberHooks", "RecordApplied"]
    hooks = next(a for a in fresh.actions if isinstance(a, RunMemberHooks))
    assert (hooks.member, len(hooks.post_install), len(hooks.pre_start)) == ("alpha", 1, 1)
    # a dead member brought back (a reboot): started, then its hooks
    state = running_state(catalog, ["alpha"], running=False)
    again = plan(catalog, {"alpha"}, state, applied_of(catalog, ["alpha"])).app("alpha")
    assert [type(a).__name__ for a in again.actions][-3:] == [
        "StartMember",
        "WaitHealthy",
        "RunMemberHooks",
    ]
    # running, and its hooks ran for this very start: nothing to do
    running = running_state(catalog, ["alpha"])
    identity = running.containers["alpha"].identity
    done = ObservedState(**{**running.__dict__, "hook_runs": {"alpha": identity}})
    assert plan(catalog, {"alpha"}, done, applied_of(catalog, ["alpha"])).app("alpha").change == (
        "unchanged"
    )
    # running, but started since its hooks last ran (conmon's restart policy): hooks only
    stale = ObservedState(**{**running.__dict__, "hook_runs": {"alpha": "other 1"}})
    repair = plan(catalog, {"alpha"}, stale, applied_of(catalog, ["alpha"])).app("alpha")
    assert [type(a) for a in repair.actions] == [RunMemberHooks]
