"""The renderer maps every manifest field to its Quadlet key, deterministically."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from catalog.problems import ManifestError
from catalog.runtime_names import LABEL_CONFIG_HASH
from catalog.runtime_spec import app_runtime_specs, host_uid_for, start_order
from catalog.systemd_syntax import parse_unit, split_words, unit_keys
from pipeline.render import render_app, render_app_folder, write_units
from tests.support.app_manifests import manifest, manifest_document, with_changes

FULL_MEMBERS = {
    "db": {
        "env": {"POSTGRES_PASSWORD": {"secret": "db-password"}, "POSTGRES_DB": "demo"},
        "volumes": [{"name": "pg", "path": "/var/lib/postgresql/data"}],
        "health": {"cmd": ["pg_isready", "-U", "demo"], "interval": "5s", "retries": 4},
        "user": "999:999",
        "data_uid": 999,
    },
    "web": {
        "entrypoint": ["/bin/sh", "-c"],
        "command": ["exec httpd -f -p 8080"],
        "env": {"MODE": "production"},
        "ports": [
            {"container": 8080, "host": 18080, "expose": "lan"},
            {"container": 9000, "expose": "local"},
            {"container": 9050, "host": 19050, "protocol": "udp", "expose": "tor"},
        ],
        "volumes": [
            {"name": "pg", "path": "/backup", "read_only": True},
            {"name": "www", "path": "/www"},
        ],
        "health": {"http": {"port": 8080, "path": "/health"}, "start_period": "1m"},
        "depends_on": ["db"],
        "read_only_rootfs": True,
        "cap_add": ["NET_BIND_SERVICE", "CHOWN"],
        "resources": {"memory": "512m", "cpus": "1.5", "pids": 200},
    },
}


def entries(text: str, section: str, key: str) -> list[str]:
    return [e.value for e in parse_unit(text) if e.section == section and e.key == key]


def test_an_app_renders_one_unit_per_member_and_the_shared_network() -> None:
    units = render_app(manifest(**FULL_MEMBERS))
    assert sorted(units) == [
        "archy-demo_db.container",
        "archy-demo_web.container",
        "archy-net.network",
    ]
    assert entries(units["archy-net.network"], "Network", "NetworkName") == ["archy-net"]


def test_every_member_field_reaches_its_quadlet_key() -> None:
    web = render_app(manifest(**FULL_MEMBERS))["archy-demo_web.container"]
    assert entries(web, "Container", "ContainerName") == ["web"]
    assert entries(web, "Container", "Image") == ["localhost/archy-test-busybox:1"]
    assert entries(web, "Container", "Entrypoint") == ['["/bin/sh", "-c"]']
    assert [split_words(v) for v in entries(web, "Container", "Exec")] == [
        ["exec httpd -f -p 8080"]
    ]
    assert entries(web, "Container", "PublishPort") == [
        "18080:8080/tcp",
        "127.0.0.1:9000:9000/tcp",
        "127.0.0.1:19050:9050/udp",
    ]
    assert entries(web, "Container", "Volume") == [
        "/var/lib/archipelago/demo/pg:/backup:ro,z",
        "/var/lib/archipelago/demo/www:/www:Z",
    ]
    assert entries(web, "Container", "Network") == ["archy-net.network"]
    assert entries(web, "Container", "DropCapability") == ["ALL"]
    assert entries(web, "Container", "AddCapability") == ["CHOWN NET_BIND_SERVICE"]
    assert entries(web, "Container", "NoNewPrivileges") == ["true"]
    assert entries(web, "Container", "ReadOnly") == ["true"]
    assert entries(web, "Container", "UserNS") == ["host"]
    assert entries(web, "Container", "PidsLimit") == ["200"]
    assert entries(web, "Container", "PodmanArgs") == ['"--memory=512m"', '"--cpus=1.5"']
    assert entries(web, "Container", "HealthInterval") == ["30s"]
    assert entries(web, "Container", "HealthStartPeriod") == ["1m"]
    assert entries(web, "Container", "Notify") == ["healthy"]
    assert entries(web, "Unit", "Requires") == ["archy-demo_db.service"]
    assert entries(web, "Unit", "After") == ["archy-demo_db.service"]
    assert entries(web, "Service", "Restart") == ["always"]
    assert entries(web, "Install", "WantedBy") == ["default.target"]
    labels = [split_words(v)[0] for v in entries(web, "Container", "Label")]
    assert labels[0] == "archy.app=demo"
    assert labels[1].startswith(f"{LABEL_CONFIG_HASH}=")
    assert labels[2] == "archy.member=web"


def test_secrets_become_podman_secrets_handed_over_as_environment_variables() -> None:
    db = render_app(manifest(**FULL_MEMBERS))["archy-demo_db.container"]
    assert [split_words(v) for v in entries(db, "Container", "Secret")] == [
        ["archy-demo_db-password,type=env,target=POSTGRES_PASSWORD"]
    ]
    assert [split_words(v) for v in entries(db, "Container", "Environment")] == [
        ["POSTGRES_DB=demo"]
    ]
    assert entries(db, "Container", "User") == ["999:999"]
    assert entries(db, "Container", "HealthCmd") == ['["pg_isready", "-U", "demo"]']


def test_the_data_root_decides_the_host_side_of_volumes() -> None:
    units = render_app(manifest(**FULL_MEMBERS), data_root="/srv/archy")
    assert entries(units["archy-demo_db.container"], "Container", "Volume") == [
        "/srv/archy/demo/pg:/var/lib/postgresql/data:z"
    ]


def test_a_granted_host_path_outside_the_data_dir_is_not_relabelled() -> None:
    units = render_app(
        manifest(web={"volumes": [{"name": "media", "path": "/media", "host_path": "/mnt/media"}]})
    )
    assert entries(units["archy-demo_web.container"], "Container", "Volume") == [
        "/mnt/media:/media"
    ]


def test_rendering_is_deterministic_and_the_config_hash_follows_the_configuration() -> None:
    document = manifest_document(**FULL_MEMBERS)
    first = render_app(with_changes(document))
    assert render_app(with_changes(document)) == first
    bumped = render_app(with_changes(document, revision=2))
    assert bumped != first
    hash_of = {
        name: [v for v in entries(text, "Container", "Label") if LABEL_CONFIG_HASH in v]
        for name, text in first.items()
        if name.endswith(".container")
    }
    hash_after = {
        name: [v for v in entries(text, "Container", "Label") if LABEL_CONFIG_HASH in v]
        for name, text in bumped.items()
        if name.endswith(".container")
    }
    assert all(hash_of[name] != hash_after[name] for name in hash_of)


def test_the_config_hash_changes_only_for_the_member_that_changed() -> None:
    # a deep copy: the document shares FULL_MEMBERS' dicts, and a second run of this test
    # in one process (mutmut's) would start from the MODE written below
    document = copy.deepcopy(manifest_document(**FULL_MEMBERS))
    before = {s.name: s.config_hash for s in app_runtime_specs(with_changes(document))}
    document["containers"][1]["env"]["MODE"] = "debug"
    after = {s.name: s.config_hash for s in app_runtime_specs(with_changes(document))}
    assert before["db"] == after["db"]
    assert before["web"] != after["web"]


def test_members_start_after_what_they_depend_on() -> None:
    specs = app_runtime_specs(
        manifest(
            web={"depends_on": ["api"]},
            api={"depends_on": ["db", "cache"]},
            cache={},
            db={},
        )
    )
    assert [s.name for s in start_order(specs)] == ["cache", "db", "api", "web"]


def test_a_dependency_cycle_is_refused() -> None:
    with pytest.raises(ManifestError, match="cycle"):
        render_app(manifest(a={"depends_on": ["b"]}, b={"depends_on": ["a"]}))


def test_a_member_without_health_is_not_waited_for() -> None:
    unit = render_app(manifest(web={}))["archy-demo_web.container"]
    assert entries(unit, "Container", "Notify") == []
    assert entries(unit, "Container", "HealthCmd") == []


def test_host_uids_follow_rootless_podmans_mapping() -> None:
    assert host_uid_for(0, 1000, 100000, 65536) == 1000
    assert host_uid_for(999, 1000, 100000, 65536) == 100998
    with pytest.raises(ValueError, match="outside"):
        host_uid_for(70000, 1000, 100000, 65536)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"env": {"TOKEN": {"secret": "nope"}}}, "not declared in generated_secrets"),
        ({"command": ["find", ".", "-exec", "rm", "{}", ";"]}, "command separator"),
        ({"command": ["/bin/sh", "-c", "", "x"]}, "empty argument is dropped"),
        ({"env": {"A": "x\x00y"}}, "NUL"),
        ({"volumes": [{"name": "d", "path": "/data:rw"}]}, "may use only"),
        ({"privileged": True}, "never run"),
    ],
)
def test_values_no_unit_can_carry_are_refused_with_their_field(
    member: dict[str, object], message: str
) -> None:
    with pytest.raises(ManifestError, match=message) as refused:
        render_app(manifest(web=member))
    assert all(p.field.startswith("containers[0]") for p in refused.value.problems)


def test_rendering_a_folder_refuses_an_invalid_manifest_with_its_errors(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "manifest.yml").write_text("schema: 1\nid: broken\nname: Broken\n")
    with pytest.raises(ManifestError) as refused:
        render_app_folder(folder)
    assert any("required field is missing" in str(p) for p in refused.value.problems)
    assert all(p.file.endswith("manifest.yml") for p in refused.value.problems)


def test_write_units_writes_every_unit_and_nothing_else(tmp_path: Path) -> None:
    units = render_app(manifest(**FULL_MEMBERS))
    written = write_units(units, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(units)
    assert all(p.read_text() == units[p.name] for p in written)
    with pytest.raises(ValueError, match="not a unit file name"):
        write_units({"../evil.container": ""}, tmp_path / "out")


def test_a_template_cannot_print_a_value_without_an_escaping_filter() -> None:
    from pipeline.render import _TEMPLATES

    with pytest.raises(TypeError, match="without an escaping filter"):
        _TEMPLATES.from_string("Environment={{ value }}\n").render(value="A=b\nExecStartPre=x")
    rendered = _TEMPLATES.from_string("Environment={{ value | word }}\n").render(
        value="A=b\nExecStartPre=x"
    )
    assert rendered == 'Environment="A=b\\nExecStartPre=x"\n'


def test_a_hostile_app_name_stays_on_the_description_line() -> None:
    document = manifest_document(web={})
    unit = render_app(with_changes(document, name="Evil\nExecStartPre=/bin/x %h\\"))[
        "archy-demo_web.container"
    ]
    assert entries(unit, "Unit", "Description") == ["Evil ExecStartPre=/bin/x %%h\\ (web)"]
    assert ("Unit", "ExecStartPre") not in unit_keys(unit)
