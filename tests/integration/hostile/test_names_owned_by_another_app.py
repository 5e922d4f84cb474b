"""Finding 4 at the node: a name derived for one app never reaches another app's unit,
container or Podman secret.

Whatever the naming scheme (``catalog.runtime_spec``), the node checks the owner it
records before it touches anything: a unit file's header, a container's ``archy.app``
label, the recorded owner of a Podman secret; and it refuses a newcomer whose derived
names equal an installed app's.  Where a test builds colliding ids (``core`` +
``lightning-lightningd`` against ``core-lightning`` + ``lightningd``), it asks the naming
functions whether they still collide and checks the node's behaviour either way.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.runtime_names import podman_secret_name
from catalog.unit_check import container_unit_file
from node_runtime.commands import main
from node_runtime.engines.container_engine import EngineError
from node_runtime.engines.podman_engine import PodmanEngine
from node_runtime.engines.quadlet_engine import remove_app_units, write_app_units
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.reconcile import plan_reconcile
from node_runtime.store.applied import AppliedApp
from node_runtime.store.node_config import STATE_ROOT_ENV
from pipeline.render import render_app
from tests.realparts.engine_runner import PodmanAsTestUser
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of, simple_manifest, with_member_changes
from tests.support.repos import make_repository, manifest_yaml

DATA = "/srv/data"


def core_lightning_units() -> dict[str, str]:
    manifest = with_member_changes(simple_manifest("core-lightning"), "core-lightning",
                                   name="lightningd")  # fmt: skip
    return render_app(manifest)


def core_units() -> dict[str, str]:
    manifest = with_member_changes(simple_manifest("core", port=18081), "core",
                                   name="lightning-lightningd")  # fmt: skip
    return render_app(manifest)


def test_an_app_cannot_overwrite_a_unit_whose_header_names_another_app(tmp_path: Path) -> None:
    units = tmp_path / "units"
    theirs = core_lightning_units()
    write_app_units(units, "core-lightning", theirs)
    before = {p.name: p.read_bytes() for p in units.iterdir()}
    name = container_unit_file("core-lightning", "lightningd")
    hostile = {name: core_units()[container_unit_file("core", "lightning-lightningd")]}

    with pytest.raises(EngineError) as refused:
        write_app_units(units, "core", hostile)

    assert (
        str(refused.value)
        == f"unit {name} belongs to app 'core-lightning'; core may not replace it"
    )
    assert remove_app_units(units, "core") is False  # uninstalling core deletes nothing of theirs
    assert {p.name: p.read_bytes() for p in units.iterdir()} == before


def test_a_unit_path_that_is_a_symlink_or_a_users_own_unit_is_never_replaced(
    tmp_path: Path,
) -> None:
    units = tmp_path / "units"
    units.mkdir()
    (tmp_path / "target").write_text("[Unit]\n")
    name = container_unit_file("core", "lightning-lightningd")
    (units / name).symlink_to(tmp_path / "target")
    text = core_units()[name]
    with pytest.raises(EngineError, match="is not a regular file"):
        write_app_units(units, "core", {name: text})
    (units / name).unlink()
    (units / name).write_text("[Container]\nImage=mine\n")
    with pytest.raises(EngineError, match="was not written by the registry"):
        write_app_units(units, "core", {name: text})
    assert (units / name).read_text() == "[Container]\nImage=mine\n"
    assert (tmp_path / "target").read_text() == "[Unit]\n"


def stage(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_colliding_unit_names_through_a_signed_catalog_never_take_the_other_apps_unit(
    tmp_path: Path,
) -> None:
    core = manifest_yaml("core").replace("  - name: core\n", "  - name: lightning-lightningd\n")
    lightning = manifest_yaml("core-lightning").replace(
        "  - name: core-lightning\n", "  - name: lightningd\n"
    )
    repository = make_repository(tmp_path / "origin", {"core": core, "core-lightning": lightning})
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert stage(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert stage(tmp_path, "pull").exit_code == 0
    assert stage(tmp_path, "install", "core-lightning").exit_code == 0
    units = tmp_path / "units"
    before = {p.name: p.read_bytes() for p in units.iterdir()}

    installed = stage(tmp_path, "install", "core", "--json")

    theirs = container_unit_file("core-lightning", "lightningd")
    ours = container_unit_file("core", "lightning-lightningd")
    [result] = json.loads(installed.stdout)["apps"]
    if ours == theirs:  # the naming still collides: the node must refuse
        assert installed.exit_code == 1
        assert (result["status"], result["reason"]) == (
            "failed",
            f"staging: unit {theirs} belongs to app 'core-lightning'; core may not replace it",
        )
    else:  # names that cannot collide: both apps have their own unit
        assert installed.exit_code == 0 and (units / ours).is_file(), installed.output
        assert (units / theirs).read_bytes() == before[theirs]
    uninstalled = stage(tmp_path, "uninstall", "core", "--json")
    assert uninstalled.exit_code == 0, uninstalled.output
    assert {p.name: p.read_bytes() for p in units.iterdir()} == before


def applied_of(catalog, app_id: str) -> dict[str, AppliedApp]:  # type: ignore[no-untyped-def]
    return {app_id: AppliedApp.of(catalog.apps[app_id], DATA)}


def test_a_podman_secret_recorded_as_another_apps_is_never_handed_over() -> None:
    """``bitcoin-core-bitcoin`` + ``rpc-password`` against ``bitcoin-core`` +
    ``bitcoin-rpc-password``: whatever the names, a secret the node recorded as
    bitcoin-core's is refused to any other app."""
    thief = simple_manifest("bitcoin-core-bitcoin", port=18081, secrets=["rpc-password"])
    name = podman_secret_name("bitcoin-core-bitcoin", "rpc-password")
    catalog = catalog_of([thief])
    observed = ObservedState(podman_secrets=frozenset({name}), secret_owners={name: "bitcoin-core"})

    plan = plan_reconcile(catalog, {"bitcoin-core-bitcoin"}, observed, {}, data_root=DATA,
                          architecture="amd64")  # fmt: skip

    app = plan.app("bitcoin-core-bitcoin")
    assert (app.change, app.actions) == ("refused", ())
    assert (
        app.reason
        == f"podman secret {name} belongs to app 'bitcoin-core'; refusing to hand it over"
    )


def test_colliding_derived_secret_names_refuse_the_newcomer_not_the_installed_app() -> None:
    owner = simple_manifest("bitcoin-core", secrets=["bitcoin-rpc-password"])
    thief = simple_manifest("bitcoin-core-bitcoin", port=18081, secrets=["rpc-password"])
    catalog = catalog_of([owner, thief])
    theirs = podman_secret_name("bitcoin-core", "bitcoin-rpc-password")
    ours = podman_secret_name("bitcoin-core-bitcoin", "rpc-password")

    plan = plan_reconcile(catalog, {"bitcoin-core", "bitcoin-core-bitcoin"}, ObservedState(),
                          applied_of(catalog, "bitcoin-core"), data_root=DATA,
                          architecture="amd64")  # fmt: skip

    assert plan.app("bitcoin-core").change != "refused"
    thief_plan = plan.app("bitcoin-core-bitcoin")
    if ours == theirs:
        assert (thief_plan.change, thief_plan.actions) == ("refused", ())
        assert thief_plan.reason == f"its podman secret name {ours} is also app 'bitcoin-core''s"
    else:
        assert thief_plan.change == "install"


def test_a_member_named_like_another_apps_container_refuses_the_newcomer() -> None:
    owner = simple_manifest("gate-vault")
    thief = with_member_changes(simple_manifest("evil", port=18081), "evil", name="gate-vault")
    catalog = catalog_of([owner, thief])

    plan = plan_reconcile(catalog, {"gate-vault", "evil"}, ObservedState(),
                          applied_of(catalog, "gate-vault"), data_root=DATA,
                          architecture="amd64")  # fmt: skip

    assert plan.app("gate-vault").change == "repair"  # applied, its container gone: not refused
    evil = plan.app("evil")
    assert (evil.change, evil.actions) == ("refused", ())
    assert evil.reason == "its container name gate-vault is also app 'gate-vault''s"


@pytest.mark.integration
@pytest.mark.podman
def test_an_app_cannot_remove_a_container_labelled_as_another_apps(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    name = "archy-test-owned-by-vault"
    rootless_podman.run("rm", "--force", name, check=False)
    rootless_podman.run("create", "--name", name, "--label", "archy.app=gate-vault",
                        busybox_image, "sleep", "infinity")  # fmt: skip
    container_id = rootless_podman.inspect_field(name, "{{.Id}}")
    try:
        engine = PodmanEngine(PodmanAsTestUser(rootless_podman))
        with pytest.raises(EngineError) as refused:
            engine.remove_member("evil", name)
        assert str(refused.value) == f"container {name} belongs to app 'gate-vault'; not removed"
        assert rootless_podman.inspect_field(name, "{{.Id}}") == container_id
        engine.remove_member("gate-vault", name)  # its own app may
        assert not rootless_podman.container_exists(name)
    finally:
        rootless_podman.run("rm", "--force", name, check=False)
