"""The app manifest, schema 1: the declarative contract of one app.

One pydantic model gives parsing, field-path errors, the JSON Schema that
editors use (``archy schema``) and the canonical form embedded in the
catalog.  Field names are snake_case and unknown fields are errors, so a
typo never passes silently.  This module checks *shape*; the security policy
and cross-app rules live in ``pipeline.policy``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from catalog.manifest_fields import (
    APP_ID_PATTERN,
    ENV_NAME_PATTERN,
    MEMORY_PATTERN,
    SETTING_NAME_PATTERN,
    SPDX_PATTERN,
    VERSION_PATTERN,
    AppId,
    Architecture,
    Argument,
    Category,
    ContainerName,
    Duration,
    Name,
    NonEmptyText,
    SettingValue,
    ShortText,
    StrictModel,
    Url,
    parse_image_reference,
)
from catalog.owner_setting import OwnerSetting

SCHEMA_VERSION = 1


class SecretRef(StrictModel):
    """An environment value taken from a generated secret.

    ``{secret: NAME}`` is one of the app's own ``generated_secrets``;
    ``{secret: NAME, from: CAPABILITY}`` is the secret NAME that the installed
    provider of CAPABILITY exports (``provides[].secrets``): the node hands over the
    provider's own Podman secret, never a copy.
    """

    model_config = ConfigDict(populate_by_name=True)

    secret: Name
    from_capability: AppId | None = Field(
        default=None,
        alias="from",
        description="a capability this app requires; the secret is the one its provider exports",
    )


class SettingRef(StrictModel):
    """An environment value the owner supplies: ``{setting: NAME}`` of ``owner_settings``.

    The node hands it over the way it hands over a secret (a Podman secret
    ``archy-<app>_<name>``), so the unit CI checked never changes per node.
    """

    setting: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


EnvValue = Annotated[str, StringConstraints(max_length=8000)] | SecretRef | SettingRef


class Port(StrictModel):
    container: int = Field(ge=1, le=65535, description="port inside the container")
    host: int | None = Field(
        default=None, ge=1, le=65535, description="host port; defaults to the container port"
    )
    protocol: Literal["tcp", "udp"] = "tcp"
    expose: Literal["lan", "tor", "local"] = Field(
        default="local",
        description="local: 127.0.0.1 only; lan: all interfaces; "
        "tor: 127.0.0.1 behind a hidden service",
    )

    @property
    def host_port(self) -> int:
        return self.host if self.host is not None else self.container


class Volume(StrictModel):
    name: Name = Field(description="sub-directory of the app's data dir that backs this volume")
    path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1000)] = Field(
        description="absolute mount point inside the container"
    )
    read_only: bool = False
    host_path: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None,
        description="explicit absolute host path; only under the app's data dir or a path listed "
        "in permissions.host_paths",
    )


class HttpCheck(StrictModel):
    port: int = Field(ge=1, le=65535)
    path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1000)] = "/"


class TcpCheck(StrictModel):
    port: int = Field(ge=1, le=65535)


class Health(StrictModel):
    http: HttpCheck | None = None
    tcp: TcpCheck | None = None
    cmd: list[Argument] | None = Field(default=None, min_length=1)
    interval: Duration = "30s"
    timeout: Duration = "10s"
    retries: int = Field(default=3, ge=1, le=100)
    start_period: Duration = "30s"

    @model_validator(mode="after")
    def exactly_one_check(self) -> Health:
        given = [kind for kind in ("http", "tcp", "cmd") if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError("health needs exactly one of http, tcp or cmd")
        return self


class Resources(StrictModel):
    memory: Annotated[str, StringConstraints(pattern=MEMORY_PATTERN)] | None = Field(
        default=None, description="memory limit, e.g. 512m or 2g"
    )
    cpus: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")] | None = Field(
        default=None, description="CPU quota in cores, e.g. '1.5'"
    )
    pids: int | None = Field(default=None, ge=16, le=1_000_000)


class Build(StrictModel):
    """A companion image built from a context folder inside the app's folder."""

    context: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")] = "build"
    containerfile: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")] = (
        "Containerfile"
    )


class Container(StrictModel):
    name: ContainerName = Field(description="container name; existing containers are adopted by it")
    image: Annotated[str, StringConstraints(max_length=500)] = Field(
        description="repository:tag, with @sha256:digest once locked"
    )
    build: Build | None = None
    command: list[Argument] | None = None
    entrypoint: list[Argument] | None = None
    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN)], EnvValue] = Field(
        default_factory=dict
    )
    ports: list[Port] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    health: Health | None = None
    depends_on: list[ContainerName] = Field(default_factory=list)
    user: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,10}(:[0-9]{1,10})?$")] | None = None
    data_uid: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="uid inside the container that owns the data dir; the node chowns the "
        "data dir to the host uid it maps to (e.g. 999 -> 100998 with subuid base 100000)",
    )
    read_only_rootfs: bool = False
    privileged: bool = Field(default=False, description="never allowed (policy P001)")
    host_network: bool = Field(default=False, description="needs permissions.host_network")
    cap_add: list[Annotated[str, StringConstraints(pattern=r"^[A-Z_]{2,32}$")]] = Field(
        default_factory=list
    )
    devices: list[Annotated[str, StringConstraints(pattern=r"^/dev/[^\s:]+$")]] = Field(
        default_factory=list
    )
    resources: Resources | None = None

    @field_validator("image")
    @classmethod
    def image_is_a_reference(cls, value: str) -> str:
        parse_image_reference(value)
        return value

    @property
    def image_repository(self) -> str:
        return parse_image_reference(self.image)[0]

    @property
    def image_tag(self) -> str | None:
        return parse_image_reference(self.image)[1]

    @property
    def image_digest(self) -> str | None:
        return parse_image_reference(self.image)[2]


class Requirement(StrictModel):
    app: Annotated[str, StringConstraints(pattern=APP_ID_PATTERN)] = Field(
        description="an app id, or a capability another app provides"
    )
    version: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="PEP 440 version specifier, e.g. '>=25.0'"
    )
    settings: dict[
        Annotated[str, StringConstraints(pattern=SETTING_NAME_PATTERN)], SettingValue
    ] = Field(default_factory=dict, description="settings the providing app must run with")
    optional: bool = False

    @field_validator("version")
    @classmethod
    def version_is_a_specifier(cls, value: str | None) -> str | None:
        if value is not None:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                SpecifierSet(value)
            except InvalidSpecifier as error:
                raise ValueError(f"{value!r} is not a version range like '>=25.0'") from error
        return value


HOSTNAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"


class Capability(StrictModel):
    """What an app exports with a capability it provides (``provides: [{capability: …}]``).

    Every provider of a capability exports the same alias, secret names and settings
    (policy P025), so dependents work with whichever one the owner installed.
    """

    capability: AppId = Field(description="the capability's name, e.g. bitcoin")
    alias: Annotated[str, StringConstraints(pattern=HOSTNAME_PATTERN)] | None = Field(
        default=None,
        description="host name the provider's member answers to on archy-net, e.g. bitcoind",
    )
    container: ContainerName | None = Field(
        default=None, description="the member that answers to the alias (needed with alias)"
    )
    secrets: list[Name] = Field(
        default_factory=list,
        description="generated_secrets of this app that dependents may use with "
        "{secret: NAME, from: CAPABILITY}",
    )
    settings: dict[
        Annotated[str, StringConstraints(pattern=SETTING_NAME_PATTERN)], SettingValue
    ] = Field(default_factory=dict, description="facts dependents rely on (RPC port, network)")


class Ui(StrictModel):
    container: ContainerName
    port: int = Field(ge=1, le=65535, description="container port that serves the web UI")
    path: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$")] = "/"
    route: Annotated[str, StringConstraints(pattern=r"^/[a-z0-9][a-z0-9/_-]*/$")] | None = Field(
        default=None, description="proxy route on the node's web server, e.g. /apps/mempool/"
    )


class GeneratedSecret(StrictModel):
    name: Name
    length: int = Field(default=32, ge=16, le=256)
    charset: Literal["alphanumeric", "hex", "base64url"] = "alphanumeric"
    show_to_owner: bool = Field(
        default=False,
        description="the owner may read it (an admin password): shown by "
        "`archy-node credentials APP`, and nowhere else",
    )


class ExecStep(StrictModel):
    container: ContainerName
    command: list[Argument] = Field(min_length=1)


class CopyFromHost(StrictModel):
    source: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1000)]
    container: ContainerName
    destination: Annotated[str, StringConstraints(pattern=r"^/[^\s]*$", max_length=1000)]


class HookStep(StrictModel):
    exec: ExecStep | None = None
    copy_from_host: CopyFromHost | None = None

    @model_validator(mode="after")
    def exactly_one_kind(self) -> HookStep:
        if (self.exec is None) == (self.copy_from_host is None):
            raise ValueError("a hook step is exactly one of exec or copy_from_host")
        return self


class Hooks(StrictModel):
    post_install: list[HookStep] = Field(default_factory=list)
    pre_start: list[HookStep] = Field(default_factory=list)


class Migration(StrictModel):
    adopt: list[ContainerName] = Field(
        default_factory=list, description="existing container names adopted without recreating"
    )
    preserve: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.][^\s]*$")]] = Field(
        default_factory=list, description="paths under the data dir that must survive"
    )
    from_versions: list[Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]] = Field(
        default_factory=list, alias="from", description="versions this migration applies from"
    )

    model_config = ConfigDict(populate_by_name=True)


class Permissions(StrictModel):
    tor: bool = False
    bitcoin_rpc: bool = False
    lightning_rpc: bool = False
    host_network: bool = False
    net_admin: bool = Field(
        default=False, description="NET_ADMIN and NET_RAW capabilities (VPN apps)"
    )
    devices: list[Annotated[str, StringConstraints(pattern=r"^/dev/[^\s:]+$")]] = Field(
        default_factory=list
    )
    host_paths: list[Annotated[str, StringConstraints(pattern=r"^/[^\s]*$")]] = Field(
        default_factory=list
    )


class Manifest(StrictModel):
    """``apps/<id>/manifest.yml``, schema 1."""

    model_config = ConfigDict(title="Archipelago app manifest (schema 1)", populate_by_name=True)

    schema_version: Literal[1] = Field(alias="schema")
    id: AppId
    name: ShortText
    version: Annotated[str, StringConstraints(pattern=VERSION_PATTERN)]
    revision: int = Field(
        ge=0, le=100_000, description="packaging revision; resets on a new version"
    )
    summary: ShortText
    description: NonEmptyText
    category: Category
    icon: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+\.svg$")] = "icon.svg"
    license: Annotated[str, StringConstraints(pattern=SPDX_PATTERN, max_length=200)]
    homepage: Url
    source: Url
    release_notes: Annotated[str, StringConstraints(max_length=8000)] = ""
    architectures: list[Architecture] = Field(min_length=1)
    settings: dict[
        Annotated[str, StringConstraints(pattern=SETTING_NAME_PATTERN)], SettingValue
    ] = Field(default_factory=dict, description="settings this app runs with, for requires checks")
    containers: list[Container] = Field(min_length=1, max_length=32)
    requires: list[Requirement] = Field(default_factory=list)
    provides: list[AppId | Capability] = Field(
        default_factory=list,
        description="capabilities this app provides: a name, or what it exports with it",
    )
    ui: Ui | None = None
    generated_secrets: list[GeneratedSecret] = Field(default_factory=list)
    owner_settings: list[OwnerSetting] = Field(
        default_factory=list,
        description="values the node's owner supplies with `archy-node configure`; "
        "used in env as {setting: NAME}",
    )
    hooks: Hooks = Field(default_factory=Hooks)
    migration: Migration = Field(default_factory=Migration)
    permissions: Permissions = Field(default_factory=Permissions)

    @model_validator(mode="after")
    def members_are_consistent(self) -> Manifest:
        names = [member.name for member in self.containers]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise ValueError(f"container name {name!r} is used twice in this app")
            seen.add(name)
        if self.ui is not None and self.ui.container not in seen:
            raise ValueError(f"ui.container {self.ui.container!r} is not one of {sorted(seen)}")
        for member in self.containers:
            for dependency in member.depends_on:
                if dependency not in seen:
                    raise ValueError(
                        f"container {member.name!r} depends_on {dependency!r}, "
                        f"which is not one of {sorted(seen)}"
                    )
        secret_names = [secret.name for secret in self.generated_secrets]
        if len(secret_names) != len(set(secret_names)):
            raise ValueError("generated_secrets declares a name twice")
        setting_names = [setting.name for setting in self.owner_settings]
        if len(setting_names) != len(set(setting_names)):
            raise ValueError("owner_settings declares a name twice")
        for name in setting_names:
            if name in secret_names:
                raise ValueError(
                    f"owner setting {name!r} has the name of a generated secret; the node "
                    "keeps both as Podman secrets named after the app: rename one"
                )
        for member in self.containers:
            for key, value in member.env.items():
                if isinstance(value, SettingRef) and value.setting not in setting_names:
                    raise ValueError(
                        f"container {member.name!r} env {key}: setting {value.setting!r} is "
                        "not declared in owner_settings"
                    )
        capabilities = self.capabilities
        if len(capabilities) != len(set(capabilities)):
            raise ValueError("provides names a capability twice")
        exported: dict[str, str] = {}
        for entry in self.exports:
            if (entry.alias is None) != (entry.container is None):
                raise ValueError(
                    f"provides {entry.capability!r}: alias and container go together "
                    "(the member that answers to the alias)"
                )
            if entry.container is not None and entry.container not in seen:
                raise ValueError(
                    f"provides {entry.capability!r}: container {entry.container!r} is not "
                    f"one of {sorted(seen)}"
                )
            for name in entry.secrets:
                if name not in secret_names:
                    raise ValueError(
                        f"provides {entry.capability!r} exports secret {name!r}, which is "
                        "not declared in generated_secrets"
                    )
                if name in exported:
                    raise ValueError(
                        f"secret {name!r} is exported with both {exported[name]!r} and "
                        f"{entry.capability!r}; export it with one"
                    )
                exported[name] = entry.capability
        return self

    @property
    def capabilities(self) -> list[str]:
        """The names of the capabilities this app provides."""
        return [p if isinstance(p, str) else p.capability for p in self.provides]

    @property
    def exports(self) -> list[Capability]:
        """The provided capabilities that export something (the object form)."""
        return [p for p in self.provides if isinstance(p, Capability)]

    def exported_secret(self, secret_name: str) -> Capability | None:
        """The capability that exports this app's generated secret, or None."""
        for entry in self.exports:
            if secret_name in entry.secrets:
                return entry
        return None

    def owner_setting(self, name: str) -> OwnerSetting | None:
        for setting in self.owner_settings:
            if setting.name == name:
                return setting
        return None

    def member(self, name: str) -> Container:
        for member in self.containers:
            if member.name == name:
                return member
        raise KeyError(name)

    def to_document(self) -> dict[str, Any]:
        """The manifest as plain data with the YAML field names, defaults included."""
        return self.model_dump(mode="json", by_alias=True)


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema that ``archy schema`` prints."""
    schema = Manifest.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
