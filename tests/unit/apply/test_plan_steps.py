"""The planner's whole answer for one app, pinned line by line: each step ``apply --dry-run``
prints, with what the executor is handed beside it (the owner a data dir gets, whether a
member is created or only started, why a container goes, which image and archive, which
members get hooks or the adoption guard), and the app's change, version, reason and
rollback target.  The other planner tests check one property each; these catch a plan
that gains, loses or reorders a step."""

from __future__ import annotations

from catalog.address import blake3_hex
from catalog.catalog_model import Companion, TargetFile
from catalog.manifest import Manifest
from node_runtime.plan.actions import (
    Action,
    AppPlan,
    CreateDataDir,
    EnsureImage,
    GenerateSecret,
    RemoveContainer,
    RunMemberHooks,
    StartMember,
    WriteUnits,
)
from node_runtime.plan.app_plan import plan_app, plan_removal
from node_runtime.plan.desired import desired_app
from node_runtime.plan.observed import ObservedContainer, ObservedState
from node_runtime.plan.reconcile import paths_to_observe
from node_runtime.store.applied import AppliedApp
from tests.realparts import REPO_ROOT
from tests.support.catalogs import catalog_app, catalog_of, changed, manifest_from_folder
from tests.unit.apply.test_reconcile import DATA, applied_of, plan, running_state

NEXTCLOUD = manifest_from_folder(REPO_ROOT / "apps/nextcloud")
STACK = manifest_from_folder(REPO_ROOT / "tests/apps/test-stack")


def line(action: Action) -> str:
    """The dry-run step, and what the executor is handed that the step does not show."""
    if isinstance(action, CreateDataDir):
        return f"{action.step} uid={action.container_uid}"
    if isinstance(action, GenerateSecret):
        return f"{action.step} length={action.secret.length}"
    if isinstance(action, EnsureImage):
        archive = None if action.archive is None else action.archive.blake3
        return f"{action.step} {action.image} archive={archive}"
    if isinstance(action, WriteUnits):
        members = f"hooked={action.hooked_members} adopted={action.adopted_members}"
        return f"{action.step} units={len(action.units)} {members}"
    if isinstance(action, RemoveContainer):
        return f"{action.step} ({action.reason})"
    if isinstance(action, RunMemberHooks):
        post = [" ".join(s.exec.command) for s in action.post_install if s.exec is not None]
        pre = [" ".join(s.exec.command) for s in action.pre_start if s.exec is not None]
        return f"{action.step} post_install={post} pre_start={pre}"
    return action.step


def lines(app: AppPlan) -> list[str]:
    return [line(action) for action in app.actions]


DOMAIN = "archy-nextcloud_domain"  # the Podman secret of nextcloud's owner setting


def nextcloud_running(catalog, **changes) -> ObservedState:  # type: ignore[no-untyped-def]
    """Nextcloud fully applied (its owner setting handed to Podman too), with ``changes``."""
    running = running_state(catalog, ["nextcloud"])
    secrets = running.podman_secrets | {DOMAIN}
    return ObservedState(**{**running.__dict__, "podman_secrets": secrets, **changes})


NEXTCLOUD_STARTS = [
    "ensure-image:nextcloud:nextcloud-db docker.io/library/postgres:16.9 archive=None",
    "ensure-image:nextcloud:nextcloud-redis docker.io/library/redis:7.4.4 archive=None",
    "ensure-image:nextcloud:nextcloud docker.io/library/nextcloud:31.0.7-apache archive=None",
    "write-units:nextcloud units=4 hooked=() adopted=()",
    "create-member:nextcloud:nextcloud-db",
    "wait-healthy:nextcloud:nextcloud-db",
    "create-member:nextcloud:nextcloud-redis",
    "wait-healthy:nextcloud:nextcloud-redis",
    "create-member:nextcloud:nextcloud",
    "wait-healthy:nextcloud:nextcloud",
    "record-applied:nextcloud",
]


def test_a_fresh_install_of_a_three_member_app_is_every_step_in_order() -> None:
    catalog = catalog_of([NEXTCLOUD])
    result = plan(catalog, {"nextcloud"}, ObservedState())
    assert result.steps[0] == "create-network:archy-net"
    app = result.app("nextcloud")
    assert lines(app) == [
        "create-data-dir:nextcloud:nextcloud uid=None",
        "create-data-dir:nextcloud:html uid=33",
        "create-data-dir:nextcloud:postgres uid=999",
        "create-data-dir:nextcloud:redis uid=999",
        "generate-secret:nextcloud:nextcloud-db-password length=32",
        "create-podman-secret:nextcloud:nextcloud-db-password",
        "generate-secret:nextcloud:nextcloud-redis-password length=32",
        "create-podman-secret:nextcloud:nextcloud-redis-password",
        "generate-secret:nextcloud:nextcloud-admin-password length=24",
        "create-podman-secret:nextcloud:nextcloud-admin-password",
        "create-podman-secret:nextcloud:domain",  # an owner setting: never generated
        *NEXTCLOUD_STARTS,
    ]
    assert (app.change, app.version, app.reason, app.rollback_to) == (
        "install", "31.0.7-r1", None, None
    )  # fmt: skip
    assert app.target == catalog.apps["nextcloud"]
    [record] = app.actions[-1:]
    assert getattr(record, "app", None) == catalog.apps["nextcloud"]


def test_a_changed_owner_setting_recreates_only_the_members_that_use_it() -> None:
    catalog = catalog_of([NEXTCLOUD])
    state = nextcloud_running(catalog, changed_settings=frozenset({DOMAIN}))
    app = plan(catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert lines(app) == [
        "ensure-image:nextcloud:nextcloud docker.io/library/nextcloud:31.0.7-apache archive=None",
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "remove-container:nextcloud:nextcloud (an owner setting it uses changed)",
        "replace-podman-secret:nextcloud:domain",
        "create-member:nextcloud:nextcloud",
        "wait-healthy:nextcloud:nextcloud",
    ]
    assert (app.change, app.rollback_to) == ("repair", None)
    assert app.reason == (
        "owner setting domain changed: its Podman secret made again, "
        "nextcloud recreated with it (data kept)"
    )
    # a changed setting the node has no Podman secret for yet is only created
    missing = ObservedState(**{**state.__dict__, "podman_secrets": state.podman_secrets - {DOMAIN}})
    app = plan(catalog, {"nextcloud"}, missing, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert (lines(app), app.reason) == (["create-podman-secret:nextcloud:domain"], None)


def test_a_changed_setting_no_member_runs_with_is_made_again_and_nothing_is_recreated() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = nextcloud_running(catalog)
    gone = {k: v for k, v in running.containers.items() if k != "nextcloud"}
    state = nextcloud_running(catalog, containers=gone, changed_settings=frozenset({DOMAIN}))
    app = plan(catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert lines(app) == [
        "ensure-image:nextcloud:nextcloud docker.io/library/nextcloud:31.0.7-apache archive=None",
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "replace-podman-secret:nextcloud:domain",
        "create-member:nextcloud:nextcloud",
        "wait-healthy:nextcloud:nextcloud",
    ]
    assert app.reason == "owner setting domain changed: its Podman secret made again"


def test_containers_no_longer_part_of_the_app_are_removed_last_name_first() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = nextcloud_running(catalog)
    extra = {
        name: ObservedContainer(name, f"id-{name}", True, "nextcloud", name, "old-hash")
        for name in ("nextcloud-cron", "nextcloud-aa", "nextcloud-zz")
    }
    other = {"other-web": ObservedContainer("other-web", "id-o", True, "other", "other-web", "h")}
    state = nextcloud_running(catalog, containers={**running.containers, **extra, **other})
    app = plan(catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert lines(app) == [
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "remove-container:nextcloud:nextcloud-zz (no longer part of the app)",
        "remove-container:nextcloud:nextcloud-cron (no longer part of the app)",
        "remove-container:nextcloud:nextcloud-aa (no longer part of the app)",
    ]
    assert (app.change, app.reason) == ("repair", None)


def test_an_app_moved_to_another_data_root_is_recorded_again_and_can_roll_back() -> None:
    catalog = catalog_of([NEXTCLOUD])
    elsewhere = AppliedApp.of(catalog.apps["nextcloud"], "/mnt/old")
    app = plan(catalog, {"nextcloud"}, nextcloud_running(catalog), {"nextcloud": elsewhere}).app(
        "nextcloud"
    )
    assert lines(app) == [
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "record-applied:nextcloud",
    ]
    assert (app.change, app.rollback_to) == ("update", elsewhere)


def test_an_applied_record_with_other_units_or_images_is_written_again() -> None:
    catalog = catalog_of([NEXTCLOUD])
    applied = applied_of(catalog, ["nextcloud"])["nextcloud"]
    first = sorted(applied.app.units)[0]
    other_units = {**applied.app.units, first: applied.app.units[first] + "# edited\n"}
    other_images = applied.app.images[:1]
    older = catalog_app(changed(NEXTCLOUD, summary="an older summary"))
    for stale_app in (
        applied.app.model_copy(update={"units": other_units}),
        applied.app.model_copy(update={"images": other_images}),
        older.model_copy(update={"units": applied.app.units, "images": applied.app.images}),
    ):
        stale = AppliedApp.of(stale_app, DATA)
        app = plan(catalog, {"nextcloud"}, nextcloud_running(catalog), {"nextcloud": stale}).app(
            "nextcloud"
        )
        assert lines(app) == [
            "write-units:nextcloud units=4 hooked=() adopted=()",
            "record-applied:nextcloud",
        ]
        assert (app.change, app.rollback_to) == ("update", stale)


def test_a_member_gone_from_an_applied_app_is_repaired_without_a_rollback_target() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = nextcloud_running(catalog)
    gone = {k: v for k, v in running.containers.items() if k != "nextcloud-redis"}
    state = nextcloud_running(catalog, containers=gone)
    app = plan(catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert lines(app) == [
        "ensure-image:nextcloud:nextcloud-redis docker.io/library/redis:7.4.4 archive=None",
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "create-member:nextcloud:nextcloud-redis",
        "wait-healthy:nextcloud:nextcloud-redis",
    ]
    assert (app.change, app.version, app.rollback_to) == ("repair", "31.0.7-r1", None)


def test_unlabelled_containers_the_manifest_adopts_are_kept_or_started_never_made() -> None:
    catalog = catalog_of([NEXTCLOUD])
    legacy = {
        "nextcloud-db": ObservedContainer("nextcloud-db", "a", True, config_hash="whatever"),
        "nextcloud-redis": ObservedContainer("nextcloud-redis", "b", False),
        "nextcloud": ObservedContainer("nextcloud", "c", True),
    }
    state = nextcloud_running(catalog, containers=legacy)
    app = plan(catalog, {"nextcloud"}, state).app("nextcloud")
    adopted = "('nextcloud-db', 'nextcloud-redis', 'nextcloud')"
    assert lines(app) == [
        f"write-units:nextcloud units=4 hooked=() adopted={adopted}",
        "start-member:nextcloud:nextcloud-redis",
        "wait-healthy:nextcloud:nextcloud-redis",
        "record-applied:nextcloud",
    ]
    assert (app.change, app.reason) == ("install", None)


def test_a_labelled_container_with_another_hash_is_replaced_even_when_adoptable() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = nextcloud_running(catalog)
    old = running.containers["nextcloud"]
    changed_hash = ObservedContainer(old.name, old.id, True, "nextcloud", old.name, "old-hash")
    state = nextcloud_running(catalog, containers={**running.containers, "nextcloud": changed_hash})
    app = plan(catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"])).app("nextcloud")
    assert lines(app) == [
        "ensure-image:nextcloud:nextcloud docker.io/library/nextcloud:31.0.7-apache archive=None",
        "write-units:nextcloud units=4 hooked=() adopted=()",
        "remove-container:nextcloud:nextcloud (its configuration changed)",
        "create-member:nextcloud:nextcloud",
        "wait-healthy:nextcloud:nextcloud",
    ]


def test_stopping_an_app_stops_its_running_members_last_started_first() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = nextcloud_running(catalog)
    redis = running.containers["nextcloud-redis"]
    idle = ObservedContainer(
        redis.name, redis.id, False, "nextcloud", redis.name, redis.config_hash
    )
    state = nextcloud_running(catalog, containers={**running.containers, "nextcloud-redis": idle})
    app = plan(
        catalog, {"nextcloud"}, state, applied_of(catalog, ["nextcloud"]), stopped={"nextcloud"}
    ).app("nextcloud")
    assert lines(app) == ["stop-member:nextcloud:nextcloud", "stop-member:nextcloud:nextcloud-db"]
    assert (app.change, app.version, app.target) == ("stop", "31.0.7-r1", catalog.apps["nextcloud"])


def test_members_sharing_one_image_ensure_it_once_and_hooks_go_to_their_own_member() -> None:
    hooks = {
        "post_install": [
            {"exec": {"container": "test-stack-web", "command": ["web-setup"]}},
            {"exec": {"container": "test-stack-store", "command": ["store-setup"]}},
        ],
        "pre_start": [{"exec": {"container": "test-stack-web", "command": ["web-check"]}}],
    }
    stack = changed(STACK, hooks=hooks)
    app = plan(catalog_of([stack]), {"test-stack"}, ObservedState()).app("test-stack")
    setup = ("create-data", "generate", "create-podman")
    starts = [each for each in lines(app) if not each.startswith(setup)]
    assert starts == [
        "ensure-image:test-stack:test-stack-store localhost/archy-test-stack:1 archive=None",
        "write-units:test-stack units=4 hooked=('test-stack-store', 'test-stack-web') adopted=()",
        "create-member:test-stack:test-stack-store",
        "wait-healthy:test-stack:test-stack-store",
        "hooks:test-stack:test-stack-store post_install=['store-setup'] pre_start=[]",
        "create-member:test-stack:test-stack-api",
        "wait-healthy:test-stack:test-stack-api",
        "create-member:test-stack:test-stack-web",
        "wait-healthy:test-stack:test-stack-web",
        "hooks:test-stack:test-stack-web post_install=['web-setup'] pre_start=['web-check']",
        "record-applied:test-stack",
    ]


def test_an_uninstalled_app_is_removed_in_reverse_start_order_unknown_containers_first() -> None:
    catalog = catalog_of([NEXTCLOUD])
    running = running_state(catalog, ["nextcloud"])
    stray = ObservedContainer("nextcloud-old", "x", True, "nextcloud", "nextcloud-old", "h")
    other = ObservedContainer("other-web", "y", True, "other", "other-web", "h")
    containers = {**running.containers, "nextcloud-old": stray, "other-web": other}
    state = ObservedState(**{**running.__dict__, "containers": containers})
    applied = applied_of(catalog, ["nextcloud"])["nextcloud"]
    app = plan_removal("nextcloud", state, applied)
    assert lines(app) == [
        "remove-container:nextcloud:nextcloud-old (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud-redis (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud-db (the app was uninstalled)",
        "remove-units:nextcloud",
        "forget-applied:nextcloud",
    ]
    assert (app.change, app.version) == ("remove", "31.0.7-r1")
    # containers the node labelled but never recorded (a crash before the record)
    app = plan_removal("nextcloud", state, None)
    assert lines(app) == [
        "remove-container:nextcloud:nextcloud-redis (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud-old (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud-db (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud (the app was uninstalled)",
        "remove-units:nextcloud",
    ]
    assert (app.change, app.version) == ("remove", None)
    # recorded, its containers already gone
    assert lines(plan_removal("nextcloud", ObservedState(), applied)) == [
        "remove-units:nextcloud",
        "forget-applied:nextcloud",
    ]
    assert plan_removal("nextcloud", ObservedState(), None).actions == ()


def test_asking_a_plan_for_an_app_it_does_not_hold_names_the_app() -> None:
    result = plan(catalog_of([NEXTCLOUD]), {"nextcloud"}, ObservedState())
    try:
        result.app("nope")
    except KeyError as error:
        assert error.args == ("nope",)
    else:
        raise AssertionError("a plan without the app must raise KeyError")


def test_the_data_root_of_the_plan_is_the_one_asked_for() -> None:
    catalog = catalog_of([NEXTCLOUD])
    app = plan(catalog, {"nextcloud"}, ObservedState()).app("nextcloud")
    dirs = [a.path for a in app.actions if isinstance(a, CreateDataDir)]
    assert dirs[0] == f"{DATA}/nextcloud"
    starts = [a for a in app.actions if isinstance(a, StartMember)]
    assert all(a.create for a in starts)


def test_an_unchanged_app_keeps_its_version_and_target_in_the_plan() -> None:
    catalog = catalog_of([NEXTCLOUD])
    app = plan(
        catalog, {"nextcloud"}, nextcloud_running(catalog), applied_of(catalog, ["nextcloud"])
    ).app("nextcloud")
    assert app == AppPlan(
        "nextcloud", "unchanged", (), version="31.0.7-r1", target=catalog.apps["nextcloud"]
    )


def test_planning_one_app_directly_installs_it_unless_asked_to_stop_it() -> None:
    # the rollback plans an app with plan_app itself, without naming ``stopped``
    catalog = catalog_of([NEXTCLOUD])
    desired = desired_app(catalog.apps["nextcloud"], DATA)
    app = plan_app(desired, ObservedState(), None, data_root=DATA)
    assert (app.change, lines(app)[-1]) == ("install", "record-applied:nextcloud")


def test_an_applied_record_without_a_usable_data_root_is_removed_in_name_order() -> None:
    # a record written before the data root was kept: its start order cannot be derived
    catalog = catalog_of([NEXTCLOUD])
    old = AppliedApp.of(catalog.apps["nextcloud"], "")
    app = plan_removal("nextcloud", nextcloud_running(catalog), old)
    assert lines(app) == [
        "remove-container:nextcloud:nextcloud-redis (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud-db (the app was uninstalled)",
        "remove-container:nextcloud:nextcloud (the app was uninstalled)",
        "remove-units:nextcloud",
        "forget-applied:nextcloud",
    ]


def test_a_companion_image_is_loaded_from_its_archive_and_the_others_are_pulled() -> None:
    stack = catalog_of([STACK]).apps["test-stack"]
    data = b"an OCI archive"
    digest = blake3_hex(data)
    archive = TargetFile(
        target=f"companions/{digest}.test-stack-store.oci.tar", blake3=digest, length=len(data)
    )
    companions = [
        Companion(member="test-stack-store", image="localhost/archy-test-stack:1",
                  context_blake3=blake3_hex(b"context"), image_id="1" * 64,
                  archive=archive),
        Companion(member="test-stack-web", image="localhost/archy-test-stack:1",
                  context_blake3=blake3_hex(b"context"), image_id=None, archive=None,
                  local_override=True),
    ]  # fmt: skip
    built = stack.model_copy(update={"companions": companions})
    desired = desired_app(built, DATA)
    app = plan_app(desired, ObservedState(), None, data_root=DATA)
    [image] = [a for a in app.actions if isinstance(a, EnsureImage)]
    assert line(image) == (
        f"ensure-image:test-stack:test-stack-store localhost/archy-test-stack:1 archive={digest}"
    )


def test_two_changed_settings_used_by_two_members_are_named_in_the_note() -> None:
    document = STACK.to_document()
    document["owner_settings"] = [
        {"name": "mode", "help": "the mode", "default": "a"},
        {"name": "level", "help": "the level", "default": "1"},
    ]
    for member in document["containers"]:
        if member["name"] == "test-stack-web":
            member["env"] = {"MODE": {"setting": "mode"}}
        if member["name"] == "test-stack-api":
            member["env"] = {"LEVEL": {"setting": "level"}, "MODE": {"setting": "mode"}}
    stack = Manifest.model_validate(document)
    catalog = catalog_of([stack])
    running = running_state(catalog, ["test-stack"])
    names = frozenset({"archy-test-stack_mode", "archy-test-stack_level"})
    state = ObservedState(
        **{
            **running.__dict__,
            "podman_secrets": running.podman_secrets | names,
            "changed_settings": names,
        }
    )
    app = plan(catalog, {"test-stack"}, state, applied_of(catalog, ["test-stack"])).app(
        "test-stack"
    )
    assert app.reason == (
        "owner setting mode, level changed: its Podman secret made again, "
        "test-stack-api, test-stack-web recreated with it (data kept)"
    )


def test_an_app_known_only_by_its_record_or_only_by_its_containers_is_removed() -> None:
    catalog = catalog_of([NEXTCLOUD, STACK])
    stray = ObservedContainer("test-stack-web", "w", True, "test-stack", "test-stack-web", "h")
    state = ObservedState(containers={"test-stack-web": stray}, networks=frozenset({"archy-net"}))
    result = plan(catalog, set(), state, applied_of(catalog, ["nextcloud"]))
    assert [(a.app_id, a.change, lines(a)) for a in result.apps] == [
        ("nextcloud", "remove", ["remove-units:nextcloud", "forget-applied:nextcloud"]),
        ("test-stack", "remove", [
            "remove-container:test-stack:test-stack-web (the app was uninstalled)",
            "remove-units:test-stack",
        ]),
    ]  # fmt: skip


def test_only_limits_the_plan_to_the_apps_named() -> None:
    catalog = catalog_of([NEXTCLOUD, STACK])
    result = plan(catalog, {"nextcloud", "test-stack"}, ObservedState(), only={"test-stack"})
    assert [a.app_id for a in result.apps] == ["test-stack"]


def test_a_refused_update_keeps_reconciling_the_applied_version_and_says_so() -> None:
    old = catalog_of([NEXTCLOUD])
    new = catalog_of([changed(NEXTCLOUD, architectures=["arm64"], revision=2)])
    state = nextcloud_running(old, containers={})
    app = plan(new, {"nextcloud"}, state, applied_of(old, ["nextcloud"])).app("nextcloud")
    assert (app.change, app.reason) == ("refused", "does not run on amd64 (only arm64)")
    assert (app.version, app.target) == ("31.0.7-r1", old.apps["nextcloud"])
    assert lines(app)[-2:] == [
        "create-member:nextcloud:nextcloud",
        "wait-healthy:nextcloud:nextcloud",
    ]


def test_a_refused_app_whose_applied_version_no_longer_passes_gets_no_actions() -> None:
    old = catalog_of([NEXTCLOUD]).apps["nextcloud"]
    db = "archy-nextcloud_nextcloud-db.container"
    hostile = old.model_copy(
        update={"units": {**old.units, db: old.units[db] + "AddCapability=SYS_ADMIN\n"}}
    )
    new = catalog_of([changed(NEXTCLOUD, architectures=["arm64"], revision=2)])
    app = plan(
        new, {"nextcloud"}, ObservedState(), {"nextcloud": AppliedApp.of(hostile, DATA)}
    ).app("nextcloud")
    assert app == AppPlan("nextcloud", "refused", (), reason="does not run on amd64 (only arm64)")


def test_the_node_observes_the_dirs_and_secrets_of_installed_and_applied_apps() -> None:
    catalog = catalog_of([NEXTCLOUD, STACK])
    lnd = catalog_of([manifest_from_folder(REPO_ROOT / "apps/lnd")])
    good = catalog.apps["test-stack"]
    db = "archy-nextcloud_nextcloud-db.container"
    bad = catalog.apps["nextcloud"]
    bad = bad.model_copy(update={"units": {**bad.units, db: bad.units[db] + "Exec=sh\n"}})
    with_bad = catalog.model_copy(update={"apps": {"nextcloud": bad, "test-stack": good}})
    applied = applied_of(lnd, ["lnd"])
    dirs, secrets = paths_to_observe(with_bad, ["nextcloud", "gone", "test-stack"], applied, DATA)
    assert sorted(dirs) == [
        f"{DATA}/lnd", f"{DATA}/lnd/data",
        f"{DATA}/test-stack", f"{DATA}/test-stack/store",
    ]  # fmt: skip
    assert sorted(secrets) == ["archy-lnd_lnd-wallet-password", "archy-test-stack_store-password"]
