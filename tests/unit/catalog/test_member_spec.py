"""What a container engine runs: each value's command line, and what the config hash covers."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from catalog.member_spec import BindMount, HealthCheck, MemberSpec, PublishedPort, SecretEnv
from catalog.runtime_names import LABEL_APP, LABEL_CONFIG_HASH, LABEL_MEMBER


def spec(**changes: Any) -> MemberSpec:
    base = MemberSpec(
        app_id="demo",
        name="web",
        unit_name="archy-demo-web",
        description="Demo web",
        image="docker.io/library/nginx:1.27",
        entrypoint=("/bin/sh", "-c"),
        command=("exec httpd", "-f"),
        environment=(("MODE", "production"), ("LANG", "C")),
        secrets=(SecretEnv("PASSWORD", "archy-demo-pw"),),
        ports=(PublishedPort("127.0.0.1", 8080, 80, "tcp"), PublishedPort("", 53, 53, "udp")),
        mounts=(BindMount("/srv/demo/data", "/data", True, "Z"),),
        health=HealthCheck(("curl", "-f", "http://localhost/"), "30s", "10s", 3, "5s"),
        depends_on=("db",),
        user="999:999",
        userns="keep-id",
        network="archy-net",
        network_aliases=("web-alias",),
        read_only_rootfs=True,
        cap_add=("NET_BIND_SERVICE",),
        devices=("/dev/fuse",),
        memory="512m",
        cpus="1.5",
        pids_limit=256,
        data_uid=999,
        labels=((LABEL_APP, "demo"), (LABEL_CONFIG_HASH, "abc123"), (LABEL_MEMBER, "web")),
    )
    return dataclasses.replace(base, **changes)


def test_a_port_is_published_on_its_address_or_on_every_interface() -> None:
    assert PublishedPort("127.0.0.1", 8080, 80, "tcp").publish_argument == "127.0.0.1:8080:80/tcp"
    assert PublishedPort("", 53, 5353, "udp").publish_argument == "53:5353/udp"
    assert PublishedPort("::1", 1, 2, "tcp").publish_argument == "::1:1:2/tcp"


@pytest.mark.parametrize(
    ("mount", "argument"),
    [
        (BindMount("/h", "/c", False, ""), "/h:/c"),
        (BindMount("/h", "/c", True, ""), "/h:/c:ro"),
        (BindMount("/h", "/c", False, "Z"), "/h:/c:Z"),
        (BindMount("/h", "/c", False, "z"), "/h:/c:z"),
        (BindMount("/h", "/c", True, "Z"), "/h:/c:ro,Z"),
    ],
)
def test_a_bind_mount_is_one_volume_argument(mount: BindMount, argument: str) -> None:
    assert mount.volume_argument == argument


def test_a_secret_is_handed_over_as_an_environment_variable() -> None:
    assert SecretEnv("PASSWORD", "archy-app-pw").secret_argument == (
        "archy-app-pw,type=env,target=PASSWORD"
    )


def test_the_health_command_is_a_json_array_podman_runs_without_a_shell() -> None:
    check = HealthCheck(("pg_isready", "-U", "démo"), "5s", "3s", 4, "1s")
    assert check.command_argument == '["pg_isready", "-U", "d\\u00e9mo"]'
    assert json.loads(check.command_argument) == ["pg_isready", "-U", "démo"]


def test_the_entrypoint_is_a_json_array_or_absent() -> None:
    assert spec().entrypoint_argument == '["/bin/sh", "-c"]'
    assert spec(entrypoint=("é",)).entrypoint_argument == '["\\u00e9"]'
    assert spec(entrypoint=()).entrypoint_argument == "[]"
    assert spec(entrypoint=None).entrypoint_argument is None


def test_every_member_drops_every_capability_and_gains_no_privileges() -> None:
    assert spec().cap_drop == ("ALL",)
    assert spec().no_new_privileges is True


def test_the_config_hash_is_the_label_of_that_name() -> None:
    assert spec().config_hash == "abc123"
    with pytest.raises(KeyError):
        _ = spec(labels=((LABEL_APP, "demo"),)).config_hash


def test_the_document_holds_every_field_that_shapes_the_container_but_not_the_hash() -> None:
    assert spec().to_document() == {
        "app": "demo",
        "name": "web",
        "image": "docker.io/library/nginx:1.27",
        "entrypoint": ["/bin/sh", "-c"],
        "command": ["exec httpd", "-f"],
        "environment": [["MODE", "production"], ["LANG", "C"]],
        "secrets": [["PASSWORD", "archy-demo-pw"]],
        "ports": [["127.0.0.1", 8080, 80, "tcp"], ["", 53, 53, "udp"]],
        "mounts": [["/srv/demo/data", "/data", True, "Z"]],
        "health": {
            "command": ["curl", "-f", "http://localhost/"],
            "interval": "30s",
            "timeout": "10s",
            "retries": 3,
            "start_period": "5s",
        },
        "depends_on": ["db"],
        "user": "999:999",
        "userns": "keep-id",
        "network": "archy-net",
        "network_aliases": ["web-alias"],
        "read_only_rootfs": True,
        "cap_drop": ["ALL"],
        "cap_add": ["NET_BIND_SERVICE"],
        "no_new_privileges": True,
        "devices": ["/dev/fuse"],
        "memory": "512m",
        "cpus": "1.5",
        "pids_limit": 256,
        "data_uid": 999,
        "labels": [[LABEL_APP, "demo"], [LABEL_MEMBER, "web"]],
    }


def test_a_member_without_optional_parts_has_none_or_empty_in_its_document() -> None:
    document = spec(
        entrypoint=None,
        command=None,
        health=None,
        network_aliases=(),
        user=None,
        memory=None,
        cpus=None,
        pids_limit=None,
        data_uid=None,
        labels=(),
    ).to_document()
    assert document["entrypoint"] is None
    assert document["command"] is None
    assert document["health"] is None
    assert "network_aliases" not in document
    assert [document[key] for key in ("user", "memory", "cpus", "pids_limit", "data_uid")] == [
        None
    ] * 5
    assert document["labels"] == []
    assert spec(entrypoint=(), command=()).to_document()["entrypoint"] == []
    assert spec(entrypoint=(), command=()).to_document()["command"] == []


def test_a_member_is_frozen_and_has_no_labels_unless_given() -> None:
    member = spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        member.name = "other"  # type: ignore[misc]
    fields = {f.name: f for f in dataclasses.fields(MemberSpec)}
    assert fields["labels"].default == ()
