"""What a manifest means to a container engine (catalog.runtime_spec), field by field: the
health probes, the uid mapping, the config hash every node compares, names, secrets,
SELinux labels, host networking, aliases, and each refusal with its field and rule."""

from __future__ import annotations

import pytest

from catalog.member_spec import SecretEnv
from catalog.runtime_spec import app_runtime_specs, config_hash, health_command, host_uid_for
from catalog.spec_problems import RuntimeSpecError
from tests.realparts import REPO_ROOT
from tests.support.app_manifests import manifest, manifest_document, with_changes
from tests.support.catalogs import manifest_from_folder

ROOT = "/var/lib/archipelago"


def refusal(*args: object, **kwargs: object) -> str:
    with pytest.raises(RuntimeSpecError) as caught:
        app_runtime_specs(*args, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def test_the_health_probes_are_exact_commands() -> None:
    [tcp] = app_runtime_specs(manifest(db={"health": {"tcp": {"port": 5432}}}))
    [http] = app_runtime_specs(manifest(web={"health": {"http": {"port": 80, "path": "/ok"}}}))
    assert tcp.health is not None and http.health is not None
    assert tcp.health.command[:2] + tcp.health.command[3:] == (
        "/bin/sh", "-c", "archy-health", "5432")  # fmt: skip
    assert http.health.command[:2] + http.health.command[3:] == (
        "/bin/sh", "-c", "archy-health", "http://127.0.0.1:80/ok")  # fmt: skip
    assert "nc -z 127.0.0.1" in tcp.health.command[2] and "curl" in http.health.command[2]
    explicit = manifest(web={"health": {"cmd": ["true"]}}).containers[0].health
    assert explicit is not None and health_command(explicit) == ("true",)


def test_container_uids_map_onto_the_subordinate_range_and_no_further() -> None:
    assert host_uid_for(0, 1000, 100000, 65536) == 1000
    assert host_uid_for(1, 1000, 100000, 65536) == 100000
    assert host_uid_for(65536, 1000, 100000, 65536) == 165535
    with pytest.raises(ValueError) as caught:
        host_uid_for(65537, 1000, 100000, 65536)
    assert (
        str(caught.value) == "container uid 65537 is outside the node user's 65536 subordinate uids"
    )


def test_the_config_hash_is_pinned_it_restarts_every_nodes_containers_when_it_moves() -> None:
    [spec] = app_runtime_specs(manifest(web={"command": ["httpd"]}))
    assert config_hash(spec, "1.0.0", 1) == (
        "d0dda69b0cae7ade0b44d961d6bc5d70e58abac13057b67526538fad7e0faa3e"
    )
    assert dict(spec.labels)["archy.config-hash"] == config_hash(spec, "1.0.0", 1)
    assert config_hash(spec, "1.0.1", 1) != config_hash(spec, "1.0.0", 1)
    assert spec.unit_name == "archy-demo_web" and spec.data_uid is None
    [db] = app_runtime_specs(manifest(db={"data_uid": 999}))
    assert db.data_uid == 999


def test_secrets_from_a_capability_and_from_an_owner_setting_name_their_podman_secrets() -> None:
    [lnd] = app_runtime_specs(manifest_from_folder(REPO_ROOT / "apps" / "lnd"))
    assert SecretEnv("BITCOIN_RPC_PASSWORD", "archy-cap_bitcoin_rpc-password") in lnd.secrets
    nextcloud = app_runtime_specs(manifest_from_folder(REPO_ROOT / "apps" / "nextcloud"))
    secrets = [s for spec in nextcloud for s in spec.secrets]
    assert SecretEnv("NEXTCLOUD_TRUSTED_DOMAINS", "archy-nextcloud_domain") in secrets


def test_a_host_network_member_publishes_no_port_and_answers_to_no_alias() -> None:
    document = manifest_document(
        web={"host_network": True, "ports": [{"container": 80, "host": 18080}],
             "cap_add": ["CAP_CHOWN"]},
        api={"ports": [{"container": 81, "host": 18081}]},
    )  # fmt: skip
    provides = [{"capability": "demo-web", "alias": "webhost", "container": "web"},
                {"capability": "demo-api", "alias": "apihost", "container": "api"},
                {"capability": "demo-none", "secrets": []}]  # fmt: skip
    app = with_changes(document, provides=provides, permissions={"host_network": True})
    web, api = app_runtime_specs(app, network="archy-0123456789abcdef-net")
    assert (web.network, web.ports, web.network_aliases) == ("host", (), ())
    assert web.cap_add == ("CHOWN",)
    assert api.network == "archy-0123456789abcdef-net" and len(api.ports) == 1
    assert api.network_aliases == ("apihost",)


def test_selinux_labels_private_shared_and_none_for_another_apps_dir() -> None:
    shared = f"{ROOT}/demo/shared"
    other = f"{ROOT}/other/data"
    app = with_changes(
        manifest_document(
            a={"volumes": [{"name": "s", "path": "/s", "host_path": shared},
                           {"name": "own", "path": "/own"},
                           {"name": "o", "path": "/o", "host_path": other, "read_only": True}]},
            b={"volumes": [{"name": "s", "path": "/s", "host_path": shared}]},
        ),
        permissions={"host_paths": [other]},
    )  # fmt: skip
    a, b = app_runtime_specs(app)
    assert [(m.host_path, m.selinux_label) for m in a.mounts] == [
        (shared, "z"), (f"{ROOT}/demo/own", "Z"), (other, "")]  # fmt: skip
    assert [(m.host_path, m.selinux_label) for m in b.mounts] == [(shared, "z")]


def test_each_field_no_engine_can_run_is_refused_with_its_path_and_rule() -> None:
    app = manifest(
        web={"privileged": True, "devices": ["/dev/x%y"], "command": ["ok", "a\x80"],
             "health": {"cmd": ["t", "b\x80"]},
             "env": {"PW": {"secret": "rpc", "from": "bitcoin"}}},
    )  # fmt: skip
    assert refusal(app) == "; ".join([
        "containers[0].privileged: privileged containers are never run; remove "
        "'privileged: true' (P001)",
        "containers[0].env.PW.from: secret 'rpc' comes from 'bitcoin', which this app does "
        "not require; add '- app: bitcoin' to requires (P024)",
        "containers[0].command[1]: contains the control character U+0080; remove it (P023)",
        "containers[0].devices[0]: device '/dev/x%y' may use only letters, digits and "
        ". _ @ + = ~ / - (':' and ',' would split the volume option, '%' is a systemd "
        "specifier, spaces and quotes would need a shell); rename the path (P023)",
        "containers[0].health.cmd[1]: contains the control character U+0080; remove it "
        "(P023)",
    ])  # fmt: skip


def test_an_app_name_no_unit_can_carry_is_refused_at_its_field() -> None:
    app = with_changes(manifest_document(web={}), name="App\x80")
    assert refusal(app) == "name: contains the control character U+0080; remove it (P023)"


def test_a_data_root_that_is_not_a_plain_absolute_path_is_refused() -> None:
    app = manifest(web={})
    for root in ("srv/x", "/srv/x y"):
        assert refusal(app, root) == (
            f": data root {root!r} must be an absolute path of plain characters (P023)"
        )


def test_a_depends_on_cycle_names_its_members() -> None:
    app = manifest(a={"depends_on": ["b"]}, b={"depends_on": ["a"]}, c={})
    assert refusal(app) == (
        "containers: depends_on forms a cycle among a, b; remove one of these depends_on (P010)"
    )
