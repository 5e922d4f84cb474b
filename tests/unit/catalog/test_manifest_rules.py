"""The manifest's own rules (members, secrets, settings, provides), and what it tells readers."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from catalog.manifest import Manifest, manifest_json_schema
from tests.support.app_manifests import manifest_document

IMAGE = "docker.io/library/nginx:1.27"
DIGEST = "sha256:" + "cd" * 32


def document(**top_level: Any) -> dict[str, Any]:
    base = manifest_document(web={"image": IMAGE}, db={"image": IMAGE})
    base["generated_secrets"] = [{"name": "db-password"}, {"name": "admin"}]
    base.update(copy.deepcopy(top_level))
    return base


def refusal(**top_level: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Manifest.model_validate(document(**top_level))
    errors = caught.value.errors(include_url=False)
    assert len(errors) == 1, errors
    return str(errors[0]["msg"]).removeprefix("Value error, ")


def members(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "web", "image": IMAGE}, {"name": "db", "image": IMAGE}, *extra]


def test_a_consistent_manifest_is_taken() -> None:
    manifest = Manifest.model_validate(
        document(
            containers=[
                {
                    "name": "web",
                    "image": IMAGE,
                    "depends_on": ["db"],
                    "env": {"D": {"setting": "domain"}},
                },
                {"name": "db", "image": IMAGE},
            ],
            ui={"container": "web", "port": 80},
            owner_settings=[{"name": "domain", "help": "your domain"}],
            provides=[
                "web-ui",
                {
                    "capability": "postgres",
                    "alias": "pg",
                    "container": "db",
                    "secrets": ["db-password"],
                },
                {"capability": "admin-api", "secrets": ["admin"]},
            ],
        )
    )
    assert manifest.capabilities == ["web-ui", "postgres", "admin-api"]
    assert [entry.capability for entry in manifest.exports] == ["postgres", "admin-api"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"containers": [{"name": "web", "image": IMAGE}, {"name": "web", "image": IMAGE}]},
            "container name 'web' is used twice in this app",
        ),
        (
            {"ui": {"container": "api", "port": 80}},
            "ui.container 'api' is not one of ['db', 'web']",
        ),
        (
            {"containers": members({"name": "api", "image": IMAGE, "depends_on": ["db", "cache"]})},
            "container 'api' depends_on 'cache', which is not one of ['api', 'db', 'web']",
        ),
        (
            {"generated_secrets": [{"name": "a"}, {"name": "b"}, {"name": "a"}]},
            "generated_secrets declares a name twice",
        ),
        (
            {
                "owner_settings": [
                    {"name": "domain", "help": "h"},
                    {"name": "port", "help": "h"},
                    {"name": "domain", "help": "h"},
                ]
            },
            "owner_settings declares a name twice",
        ),
        (
            {"owner_settings": [{"name": "admin", "help": "h"}]},
            "owner setting 'admin' has the name of a generated secret; the node keeps both as "
            "Podman secrets named after the app: rename one",
        ),
        (
            {
                "containers": members(
                    {"name": "api", "image": IMAGE, "env": {"X": "1", "D": {"setting": "dmn"}}}
                ),
                "owner_settings": [{"name": "domain", "help": "h"}],
            },
            "container 'api' env D: setting 'dmn' is not declared in owner_settings",
        ),
        ({"provides": ["web-ui", {"capability": "web-ui"}]}, "provides names a capability twice"),
        (
            {"provides": [{"capability": "postgres", "alias": "pg"}]},
            "provides 'postgres': alias and container go together (the member that answers to "
            "the alias)",
        ),
        (
            {"provides": [{"capability": "postgres", "container": "db"}]},
            "provides 'postgres': alias and container go together (the member that answers to "
            "the alias)",
        ),
        (
            {"provides": [{"capability": "postgres", "alias": "pg", "container": "pg"}]},
            "provides 'postgres': container 'pg' is not one of ['db', 'web']",
        ),
        (
            {"provides": [{"capability": "postgres", "secrets": ["admin", "root"]}]},
            "provides 'postgres' exports secret 'root', which is not declared in generated_secrets",
        ),
        (
            {
                "provides": [
                    {"capability": "postgres", "secrets": ["db-password"]},
                    {"capability": "admin-api", "secrets": ["admin", "db-password"]},
                ]
            },
            "secret 'db-password' is exported with both 'postgres' and 'admin-api'; export it "
            "with one",
        ),
    ],
)
def test_a_manifest_that_contradicts_itself_is_refused_with_its_reason(
    changes: dict[str, Any], message: str
) -> None:
    assert refusal(**changes) == message


def test_a_settings_reference_to_a_declared_setting_is_taken_among_other_values() -> None:
    manifest = Manifest.model_validate(
        document(
            containers=members(
                {
                    "name": "api",
                    "image": IMAGE,
                    "env": {"A": "x", "B": {"secret": "admin"}, "C": {"setting": "domain"}},
                }
            ),
            owner_settings=[{"name": "domain", "help": "h"}, {"name": "port", "help": "h"}],
        )
    )
    assert manifest.owner_setting("port") is not None
    assert manifest.owner_setting("port").name == "port"  # type: ignore[union-attr]
    assert manifest.owner_setting("domain").help == "h"  # type: ignore[union-attr]
    assert manifest.owner_setting("nothing") is None


@pytest.mark.parametrize(
    ("health", "valid"),
    [
        ({"http": {"port": 80}}, True),
        ({"tcp": {"port": 80}}, True),
        ({"cmd": ["true"]}, True),
        ({}, False),
        ({"http": {"port": 80}, "tcp": {"port": 80}}, False),
        ({"tcp": {"port": 80}, "cmd": ["true"]}, False),
        ({"http": {"port": 80}, "cmd": ["true"]}, False),
    ],
)
def test_health_is_exactly_one_check(health: dict[str, Any], valid: bool) -> None:
    changes = {"containers": [{"name": "web", "image": IMAGE, "health": health}]}
    if valid:
        Manifest.model_validate(document(**changes))
    else:
        assert refusal(**changes) == "health needs exactly one of http, tcp or cmd"


@pytest.mark.parametrize(
    ("step", "valid"),
    [
        ({"exec": {"container": "web", "command": ["true"]}}, True),
        ({"copy_from_host": {"source": "/a", "container": "web", "destination": "/b"}}, True),
        ({}, False),
        (
            {
                "exec": {"container": "web", "command": ["true"]},
                "copy_from_host": {"source": "/a", "container": "web", "destination": "/b"},
            },
            False,
        ),
    ],
)
def test_a_hook_step_is_exactly_one_kind(step: dict[str, Any], valid: bool) -> None:
    changes = {"hooks": {"post_install": [step]}}
    if valid:
        Manifest.model_validate(document(**changes))
    else:
        assert refusal(**changes) == "a hook step is exactly one of exec or copy_from_host"


def test_a_requirement_takes_a_version_range_and_refuses_anything_else() -> None:
    taken = Manifest.model_validate(
        document(requires=[{"app": "bitcoin", "version": ">=25.0,<27"}, {"app": "tor"}])
    )
    assert [r.version for r in taken.requires] == [">=25.0,<27", None]
    assert refusal(requires=[{"app": "bitcoin", "version": "25 or newer"}]) == (
        "'25 or newer' is not a version range like '>=25.0'"
    )


def test_an_image_is_a_reference_and_its_parts_are_read_from_it() -> None:
    assert refusal(containers=[{"name": "web", "image": "Nginx"}]) == (
        "'Nginx' is not an image reference; write repository:tag (optionally @sha256:<64 hex "
        "digits>)"
    )
    manifest = Manifest.model_validate(
        document(containers=[{"name": "web", "image": f"{IMAGE}@{DIGEST}"}])
    )
    member = manifest.member("web")
    assert (member.image_repository, member.image_tag, member.image_digest) == (
        "docker.io/library/nginx",
        "1.27",
        DIGEST,
    )


def test_a_member_is_found_by_name_or_not_at_all() -> None:
    manifest = Manifest.model_validate(document())
    assert manifest.member("db").name == "db"
    assert manifest.member("web").name == "web"
    with pytest.raises(KeyError) as caught:
        manifest.member("cache")
    assert caught.value.args == ("cache",)


def test_a_port_is_published_on_the_container_port_unless_a_host_port_is_given() -> None:
    manifest = Manifest.model_validate(
        document(
            containers=[
                {
                    "name": "web",
                    "image": IMAGE,
                    "ports": [{"container": 80}, {"container": 80, "host": 8080}],
                }
            ]
        )
    )
    assert [port.host_port for port in manifest.member("web").ports] == [80, 8080]


def test_the_exported_secret_is_found_with_its_capability() -> None:
    manifest = Manifest.model_validate(
        document(
            provides=[
                "web-ui",
                {"capability": "postgres", "secrets": ["db-password"]},
                {"capability": "admin-api", "secrets": ["admin"]},
            ]
        )
    )
    assert manifest.exported_secret("admin").capability == "admin-api"  # type: ignore[union-attr]
    assert manifest.exported_secret("db-password").capability == "postgres"  # type: ignore[union-attr]
    assert manifest.exported_secret("other") is None


def test_the_document_uses_the_yaml_field_names_with_defaults() -> None:
    manifest = Manifest.model_validate(
        document(
            containers=[
                {"name": "web", "image": IMAGE, "env": {"P": {"secret": "x", "from": "pg"}}}
            ],
            migration={"from": ["0.9"]},
        )
    )
    written = manifest.to_document()
    assert written["schema"] == 1
    assert "schema_version" not in written
    assert written["migration"] == {"adopt": [], "preserve": [], "from": ["0.9"]}
    assert written["containers"][0]["env"] == {"P": {"secret": "x", "from": "pg"}}
    assert written["icon"] == "icon.svg"
    assert Manifest.model_validate(written) == manifest


def test_the_json_schema_names_its_draft_and_the_yaml_field_names() -> None:
    schema = manifest_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Archipelago app manifest (schema 1)"
    assert "schema" in schema["properties"] and "schema_version" not in schema["properties"]
    assert "from" in schema["$defs"]["Migration"]["properties"]
    assert "id" in schema["required"]
