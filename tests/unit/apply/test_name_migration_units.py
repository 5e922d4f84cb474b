"""The naming migration at the unit-dir level, through the real Quadlet generator.

No systemd runs here: a recording systemctl stands in and notes which unit files
existed at each call (so the test can tell a service stopped *before* its file went
from one orphaned after).  No container ran from the old units either, so the podman
runner answers "no containers" (the state after Quadlet's own clean-up).  The old
unit dir is made by ``tests/support/legacy_names.py`` from today's rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog.manifest import Manifest
from node_runtime.apply.name_migration import (
    find_legacy_units,
    finish_after_apply,
    migrate_before_apply,
    rename_applied_units,
)
from node_runtime.apply.outcome import ApplyReport
from node_runtime.apply.run import apply
from node_runtime.engines.container_engine import CommandResult
from node_runtime.engines.podman_engine import PodmanEngine
from node_runtime.engines.quadlet_engine import HOOKS_DROPIN, QuadletEngine, write_app_units
from node_runtime.engines.stage_engine import StageEngine
from node_runtime.plan.actions import AppPlan, Plan
from node_runtime.plan.name_migration import (
    LegacySecret,
    legacy_secrets,
    legacy_unit,
    units_renamed,
)
from node_runtime.store.applied import AppliedApp, read_applied
from node_runtime.store.migrations import read_done_migrations
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.realparts.quadlet import (
    parse_dryrun,
    quadlet_problems,
    require_quadlet,
    run_quadlet_dryrun,
    unit_values,
)
from tests.support.catalogs import catalog_of, simple_manifest
from tests.support.legacy_names import legacy_catalog_app, legacy_units

OWNER_DROPIN = "[Container]\nEnvironment=OWNER_SETTING=1\n"


def stack(app_id: str, port: int) -> Manifest:
    """Two members, the web one needing the db one, and a secret."""
    document: dict[str, Any] = simple_manifest(app_id, port=port, secrets=["token"]).to_document()
    web = document["containers"][0]
    db = {**web, "name": f"{app_id}-db", "ports": [], "env": {}, "health": None}
    web["depends_on"] = [db["name"]]
    document["containers"] = [web, db]
    return Manifest.model_validate(document)


class NoContainersPodman:
    """No container ran from the old units here (no systemd): podman knows none."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.secrets = list(secrets)
        self.calls: list[list[str]] = []

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        self.calls.append(list(args))
        if args[0] == "ps":
            return CommandResult(0, b"[]", b"")
        if args[:2] == ["secret", "ls"]:
            return CommandResult(0, "".join(f"{s}\n" for s in self.secrets).encode(), b"")
        if args[0] == "inspect":
            return CommandResult(125, b"", b"Error: no such container")
        return CommandResult(0, b"", b"")


class SnapshottingSystemctl:
    """No systemd user session exists here: records each call with the unit files present."""

    def __init__(self, unit_dir: Path) -> None:
        self.unit_dir = unit_dir
        self.calls: list[tuple[tuple[str, ...], frozenset[str]]] = []

    def __call__(self, args: Sequence[str], *, timeout: float) -> CommandResult:
        files = (
            frozenset(p.name for p in self.unit_dir.iterdir())
            if self.unit_dir.is_dir()
            else frozenset()
        )
        self.calls.append((tuple(args), files))
        return CommandResult(0, b"", b"")


def old_unit_dir(unit_dir: Path) -> None:
    """``foo`` (two members) and ``foo-bar`` (one) as an old binary left them; ``foo``'s web
    member with an owner's drop-in and the node's hooks drop-in."""
    for app_id, port in (("foo", 18001), ("foo-bar", 18002)):
        manifest = stack(app_id, port) if app_id == "foo" else simple_manifest(app_id, port=port)
        app = catalog_of([manifest]).apps[app_id]
        write_app_units(unit_dir, app_id, legacy_units(app))
    folder = unit_dir / "archy-foo-foo.container.d"
    folder.mkdir()
    (folder / "10-owner.conf").write_text(OWNER_DROPIN)
    (folder / HOOKS_DROPIN).write_text("[Service]\nExecStartPost=-/bin/true\n")


def test_old_names_are_read_back_with_the_app_their_header_names_never_guessed() -> None:
    # "archy-foo-bar-web" is foo's member "bar-web" or foo-bar's "web": the owner decides
    assert legacy_unit("foo", "archy-foo-bar-web.container").new_file_name == (  # type: ignore[union-attr]
        "archy-foo_bar-web.container"
    )
    assert legacy_unit("foo-bar", "archy-foo-bar-web.container").new_file_name == (  # type: ignore[union-attr]
        "archy-foo-bar_web.container"
    )
    assert legacy_unit("foo", "archy-foo_web.container") is None  # already new
    assert legacy_unit("foo", "archy-net.network") is None
    assert legacy_unit("foo", "archy-foo-.container") is None
    found = legacy_secrets(
        podman_secrets={"archy-foo-bar-x", "archy-foo_x", "archy-foo-y", "archy-cap_btc_rpc"},
        recorded_owners={"archy-foo-bar-x": "foo-bar", "archy-foo_x": "foo"},
        declared={"foo": ["y", "gone"], "baz": ["z"]},
    )
    assert found == [LegacySecret("foo", "y"), LegacySecret("foo-bar", "x")]
    assert [s.current_name for s in found] == ["archy-foo_y", "archy-foo-bar_x"]


def test_old_units_are_stopped_before_their_files_go_and_the_owners_drop_ins_follow(
    tmp_path: Path,
) -> None:
    require_quadlet()
    unit_dir, state = tmp_path / "systemd", tmp_path / "state"
    (state / "state").mkdir(parents=True)
    old_unit_dir(unit_dir)
    stdout, stderr, status = run_quadlet_dryrun(unit_dir)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    assert {
        "archy-foo-foo.service",
        "archy-foo-foo-db.service",
        "archy-foo-bar-foo-bar.service",
    } <= set(parse_dryrun(stdout))

    systemctl = SnapshottingSystemctl(unit_dir)
    engine = QuadletEngine(NoContainersPodman(), systemctl, unit_dir)
    catalog = catalog_of([stack("foo", 18001), simple_manifest("foo-bar", port=18002)])
    paths = NodePaths(state)
    migration = migrate_before_apply(catalog, {}, paths=paths, engine=engine,
                                     data_root="/srv", plan_now=lambda: Plan((), ()))  # fmt: skip
    assert migration is not None and migration.held == {}
    stops = [(args, files) for args, files in systemctl.calls if args[0] == "stop"]
    assert sorted(args[1] for args, _ in stops) == [
        "archy-foo-bar-foo-bar.service", "archy-foo-foo-db.service", "archy-foo-foo.service",
    ]  # fmt: skip
    for args, files in stops:  # each stopped while its unit file was still there
        assert args[1].replace(".service", ".container") in files
    assert systemctl.calls[-1][0] == ("daemon-reload",)
    assert not any(name.startswith(("archy-foo-foo", "archy-foo-bar-foo-bar"))
                   for name in systemctl.calls[-1][1])  # fmt: skip
    assert sorted(migration.moved) == [
        "unit archy-foo-bar-foo-bar.container -> archy-foo-bar_foo-bar.container",
        "unit archy-foo-foo-db.container -> archy-foo_foo-db.container",
        "unit archy-foo-foo.container -> archy-foo_foo.container",
    ]
    assert find_legacy_units(unit_dir) == {}
    moved = unit_dir / "archy-foo_foo.container.d"
    assert sorted(p.name for p in moved.iterdir()) == ["10-owner.conf"]  # the node's own not
    assert (moved / "10-owner.conf").read_text() == OWNER_DROPIN
    assert not (unit_dir / "archy-foo-foo.container.d").exists()

    # the apply then writes the catalog's units: the generator sees only new names, and the
    # owner's setting is in the new web service
    for app_id, app in catalog.apps.items():
        engine.write_units(app_id, app.units)
    stdout, stderr, status = run_quadlet_dryrun(unit_dir)
    assert status == 0 and quadlet_problems(stderr) == [], stderr
    services = parse_dryrun(stdout)
    assert sorted(name for name in services if name.endswith(".service")) == [
        "archy-foo-bar_foo-bar.service", "archy-foo_foo-db.service", "archy-foo_foo.service",
        "archy-net-network.service",
    ]  # fmt: skip
    web = services["archy-foo_foo.service"]
    assert "OWNER_SETTING=1" in " ".join(unit_values(web, "Service", "ExecStart"))
    assert "archy-foo_foo-db.service" in " ".join(unit_values(web, "Unit", "Requires"))


def test_an_app_that_stays_on_its_old_units_keeps_them_running_and_the_migration_pending(
    tmp_path: Path,
) -> None:
    unit_dir, state = tmp_path / "systemd", tmp_path / "state"
    (state / "state").mkdir(parents=True)
    old_unit_dir(unit_dir)
    systemctl = SnapshottingSystemctl(unit_dir)
    engine = QuadletEngine(NoContainersPodman(), systemctl, unit_dir)
    catalog = catalog_of([stack("foo", 18001), simple_manifest("foo-bar", port=18002)])
    refused = Plan((), (AppPlan("foo", "refused", (), reason="port 18001 is taken"),))
    migration = migrate_before_apply(catalog, {}, paths=NodePaths(state), engine=engine,
                                     data_root="/srv", plan_now=lambda: refused)  # fmt: skip
    assert migration is not None
    assert [args for args, _ in systemctl.calls if args[0] == "stop"] == [
        ("stop", "archy-foo-bar-foo-bar.service")
    ]
    assert sorted(find_legacy_units(unit_dir)) == ["foo"]
    assert (unit_dir / "archy-foo-foo.container.d" / HOOKS_DROPIN).exists()
    assert read_done_migrations(NodePaths(state)) == {}


def test_a_stage_node_renames_its_staged_units_once_and_then_never_looks_again(
    tmp_path: Path,
) -> None:
    unit_dir, state = tmp_path / "staged", tmp_path / "state"
    (state / "state").mkdir(parents=True)
    old_unit_dir(unit_dir)
    catalog = catalog_of([stack("foo", 18001), simple_manifest("foo-bar", port=18002)])
    engine = StageEngine(unit_dir)
    report = apply(catalog, {"foo", "foo-bar"}, state_root=state,
                   data_root=str(tmp_path / "data"), engine=engine)  # fmt: skip
    assert len(report.migrated) == 3, report.migrated
    assert sorted(p.name for p in unit_dir.iterdir() if p.suffix == ".container") == [
        "archy-foo-bar_foo-bar.container", "archy-foo_foo-db.container",
        "archy-foo_foo.container",
    ]  # fmt: skip
    assert (unit_dir / "archy-foo_foo.container.d" / "10-owner.conf").read_text() == OWNER_DROPIN
    assert list(read_done_migrations(NodePaths(state))) == ["derived-names"]

    # an old unit appearing later (a restored backup) is not looked for any more
    (unit_dir / "archy-foo-foo.container").write_text(
        (unit_dir / "archy-foo_foo.container").read_text()
    )
    again = apply(catalog, {"foo", "foo-bar"}, state_root=state,
                  data_root=str(tmp_path / "data"), engine=engine)  # fmt: skip
    assert again.migrated == []


def test_a_member_dropped_by_an_update_is_stopped_before_its_unit_file_goes(
    tmp_path: Path,
) -> None:
    unit_dir = tmp_path / "systemd"
    two, one = stack("foo", 18001), simple_manifest("foo", port=18001)
    systemctl = SnapshottingSystemctl(unit_dir)
    engine = QuadletEngine(NoContainersPodman(), systemctl, unit_dir)
    engine.write_units("foo", catalog_of([two]).apps["foo"].units)
    systemctl.calls.clear()
    engine.write_units("foo", catalog_of([one]).apps["foo"].units)
    assert [args for args, _ in systemctl.calls] == [
        ("stop", "archy-foo_foo-db.service"), ("daemon-reload",),
    ]  # fmt: skip
    assert "archy-foo_foo-db.container" in systemctl.calls[0][1]
    assert not (unit_dir / "archy-foo_foo-db.container").exists()


def test_a_node_that_never_ran_an_old_binary_asks_podman_nothing_and_records_it_once(
    tmp_path: Path,
) -> None:
    unit_dir, state = tmp_path / "systemd", tmp_path / "state"
    (state / "state").mkdir(parents=True)
    catalog = catalog_of([stack("foo", 18001)])
    write_app_units(unit_dir, "foo", catalog.apps["foo"].units)
    # a file the registry did not write, even under an old-looking name, is not the node's
    (unit_dir / "archy-foo-mine.container").write_text("[Container]\nImage=mine\n")
    podman = NoContainersPodman(secrets=["archy-foo-token"])
    engine = QuadletEngine(podman, SnapshottingSystemctl(unit_dir), unit_dir)
    paths = NodePaths(state)
    assert (
        migrate_before_apply(
            catalog, {}, paths=paths, engine=engine, data_root="/srv", plan_now=None
        )
        is None
    )
    assert podman.calls == []  # nothing in the state says an old binary ran
    assert list(read_done_migrations(paths)) == ["derived-names"]
    assert (unit_dir / "archy-foo-mine.container").read_text() == "[Container]\nImage=mine\n"
    written = paths.migrations_file.read_bytes()
    assert (
        migrate_before_apply(
            catalog, {}, paths=paths, engine=engine, data_root="/srv", plan_now=None
        )
        is None
    )
    assert paths.migrations_file.read_bytes() == written


def test_an_applied_record_under_old_names_is_renamed_only_when_the_unit_check_accepts_it(
    tmp_path: Path,
) -> None:
    paths = NodePaths(tmp_path / "state")
    paths.state_dir.mkdir(parents=True)
    foo = catalog_of([stack("foo", 18001)]).apps["foo"]
    # a container named like an old derived name: renaming would change ContainerName=
    odd_document = simple_manifest("odd", port=18003).to_document()
    odd_document["containers"][0]["name"] = "archy-odd-web"
    odd = catalog_of([Manifest.model_validate(odd_document)]).apps["odd"]
    data_root = "/var/lib/archipelago"
    for app in (foo, odd):
        record = AppliedApp.of(legacy_catalog_app(app), data_root, catalog_blake3="0" * 64)
        NodeState(paths).record_applied(app.manifest.id, record)
    before = read_applied(paths)
    assert before["foo"].units != foo.units
    assert rename_applied_units(paths, before, data_root) == ["foo"]
    after = read_applied(paths)
    assert after["foo"].units == foo.units and after["foo"].app.units == foo.units
    assert after["odd"] == before["odd"]  # refused by the unit check: kept as it was
    assert units_renamed("foo", foo.units) is None  # nothing old: nothing to do


def test_an_old_applied_record_alone_is_enough_to_run_the_migration_once(tmp_path: Path) -> None:
    # a podman-engine node whose app has no secrets: only its applied record shows old names
    paths = NodePaths(tmp_path / "state")
    paths.state_dir.mkdir(parents=True)
    app = catalog_of([simple_manifest("plain", port=18004)]).apps["plain"]
    record = AppliedApp.of(legacy_catalog_app(app), "/srv", catalog_blake3="0" * 64)
    NodeState(paths).record_applied("plain", record)
    engine = PodmanEngine(NoContainersPodman())
    catalog = catalog_of([app.manifest])
    migration = migrate_before_apply(catalog, read_applied(paths), paths=paths, engine=engine,
                                     data_root="/srv", plan_now=lambda: Plan((), ()))  # fmt: skip
    assert migration is not None and migration.renamed_records == ["plain"]
    assert read_applied(paths)["plain"].units == app.units
    finish_after_apply(migration, ApplyReport("podman"), paths=paths, engine=engine)
    assert list(read_done_migrations(paths)) == ["derived-names"]


def test_a_file_without_a_suffix_is_no_unit_and_is_never_renamed() -> None:
    assert legacy_unit("foo", "archy-foo-web") is None
    assert units_renamed("foo", {"archy-foo-web": "[Unit]\n"}) is None


def test_only_the_leading_old_prefix_of_a_file_name_changes_and_every_one_in_its_text() -> None:
    # a member named like an old derived name ("archy-foo-db") keeps its own name
    old = {
        "archy-foo-archy-foo-db.container": "ContainerName=archy-foo-db\nNetwork=archy-foo-net\n",
        "archy-foo-archy-foo-db.container.d/archy-foo-x.conf": "[Service]\n",
    }
    assert units_renamed("foo", old) == {
        "archy-foo_archy-foo-db.container": "ContainerName=archy-foo_db\nNetwork=archy-foo_net\n",
        "archy-foo_archy-foo-db.container.d/archy-foo-x.conf": "[Service]\n",
    }
