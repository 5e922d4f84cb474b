"""The app-level fields of an imported manifest: metadata, UI port, requires, permissions.

Metadata comes from the store's listing (name, category, links, version from the main
image's tag); ``requires`` from the store's dependencies on known providers;
permissions from the platform variables the app uses, each with a note for the owner.
Literal credentials in ``env`` become generated secrets where that is safe, so an
imported app does not ship a shared default password.  Functions over one
:class:`~pipeline.importer.mapping.Mapper`.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.manifest_fields import (
    URL_PATTERN,
    VERSION_PATTERN,
)
from pipeline.importer.compose import Service
from pipeline.importer.mapper_base import MapperBase, safe_name
from pipeline.importer.reasons import refuse

CREDENTIAL_KEY = re.compile(r"(PASSWORD|PASSWD|_PASS$|^PASS$|SECRET|_TOKEN$|_KEY$)", re.IGNORECASE)
NOT_CREDENTIAL = re.compile(
    r"(_FILE|_PATH|_LENGTH|_URL|_ENABLED|_TYPE|_NAME|_USER)$", re.IGNORECASE
)


CATEGORIES: dict[str, str] = {
    "bitcoin": "bitcoin",
    "crypto": "bitcoin",
    "explorers": "bitcoin",
    "wallets": "bitcoin",
    "wallet": "bitcoin",
    "lightning": "lightning",
    "lightning node management": "lightning",
    "ecash": "ecash",
    "nostr": "nostr",
    "networking": "networking",
    "network": "networking",
    "security": "security",
    "media": "media",
    "gallery": "media",
    "downloader": "media",
    "gaming": "media",
    "files": "files",
    "cloud": "files",
    "backup": "files",
    "productivity": "productivity",
    "finance": "productivity",
    "automation": "home",
    "home": "home",
    "home automation": "home",
    "smart home": "home",
    "developer": "developer",
    "developer tools": "developer",
    "ai": "ai",
    "monitoring": "monitoring",
    "analytics": "monitoring",
    "social": "communication",
    "chat": "communication",
    "communication": "communication",
    "utilities": "system",
    "system": "system",
}


def shortened(text: str, limit: int) -> str:
    text = " ".join(text.split()) if limit <= 160 else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def choose_ui_port(
    mapper: MapperBase, services: list[Service], ui_service: str | None
) -> tuple[str, int, int | None] | None:
    ui = mapper.source.ui
    if ui is None or ui_service is None:
        if ui is not None:
            mapper.say(
                "I004",
                "the UI's service could not be found; no ui: block",
                "warning",
                ui.line,
                ui.file,
            )
        return None
    service = next(s for s in services if s.name == ui_service)
    if ui.container_port is not None:
        return ui_service, ui.container_port, ui.host_port
    for port in service.ports:
        if ui.host_port is not None and port.host == ui.host_port:
            return ui_service, port.container, port.host
    if len(service.ports) == 1 and ui.host_port is None:
        port = service.ports[0]
        return ui_service, port.container, port.host
    if ui.host_port is not None:
        mapper.say(
            "I008",
            f"no port of {ui_service!r} is published on {ui.host_port}; the UI is "
            f"assumed on container port {ui.host_port}",
            "warning",
            ui.line,
            ui.file,
        )
        return ui_service, ui.host_port, ui.host_port
    mapper.say(
        "I004", f"{ui_service}: the UI port is not known; no ui: block", "warning", ui.line, ui.file
    )
    return None


def app_metadata(mapper: MapperBase) -> dict[str, Any]:
    meta = mapper.source.meta
    file = meta.file

    def warn(code: str, message: str, key: str) -> None:
        mapper.say(code, message, "warning", meta.line(key), file)

    name = meta.name or mapper.app_id
    version = meta.version
    if version is None:
        tag = main_image_tag(mapper)
        version = tag or "0"
        warn(
            "I008",
            f"no version in the source; {version!r} taken from the image tag"
            if tag
            else "no version in the source; '0' written",
            "version",
        )
    cleaned = re.sub(r"[^0-9A-Za-z.+_~-]+", "-", version.strip()).strip("-")[:64] or "0"
    if not cleaned[0].isalnum():
        cleaned = "0" + cleaned[:63]
    if cleaned != version:
        warn("I008", f"version {version!r} written as {cleaned!r}", "version")
    assert re.fullmatch(VERSION_PATTERN, cleaned)
    summary = meta.summary or (meta.description or name).split("\n")[0]
    description = meta.description or meta.summary or name
    document: dict[str, Any] = {
        "schema": 1,
        "id": mapper.app_id,
        "name": shortened(name, 160),
        "version": cleaned,
        "revision": 1,
        "summary": shortened(summary, 160),
        "description": shortened(description, 4000),
    }
    if len(description) > 4000:
        warn("I004", "description cut to 4000 characters", "description")
    raw_category = (meta.category or "").strip().lower()
    category = CATEGORIES.get(raw_category)
    if category is None:
        category = next(
            (value for key, value in CATEGORIES.items() if key in raw_category), "system"
        )
        warn("I008", f"category {meta.category!r} has no match; {category!r} guessed", "category")
    document["category"] = category
    document["license"] = "NOASSERTION"
    warn("I008", "the source does not state a license; NOASSERTION written: set the SPDX id", "id")
    urls = [
        u for u in (meta.website, meta.repo, meta.support) if u and re.fullmatch(URL_PATTERN, u)
    ]
    sources = [
        u for u in (meta.repo, meta.website, meta.support) if u and re.fullmatch(URL_PATTERN, u)
    ]
    if not urls:
        raise refuse(
            "I008",
            "no https website, repo or support link; the manifest needs a homepage and a source",
            file,
            meta.line("website"),
        )
    document["homepage"] = urls[0]
    document["source"] = sources[0]
    if meta.repo is None or not re.fullmatch(URL_PATTERN, meta.repo):
        warn("I008", f"no https repository link; source is {sources[0]}", "repo")
    if meta.release_notes:
        document["release_notes"] = meta.release_notes[:8000]
    architectures = meta.architectures or []
    kept = [arch for arch in ("amd64", "arm64") if arch in architectures]
    if not kept:
        raise refuse(
            "I008",
            f"architectures {architectures} include neither amd64 nor arm64",
            file,
            meta.line("architectures"),
        )
    if mapper.source.store == "umbrel":
        mapper.say(
            "I008",
            "architectures amd64 and arm64 assumed (Umbrel builds for both)",
            "note",
            None,
            file,
        )
    document["architectures"] = kept
    if mapper.source.icon is None:
        mapper.say(
            "I008",
            "no local SVG icon in the source; add icon.svg before building",
            "warning",
            None,
            file,
        )
    return document


def main_image_tag(mapper: MapperBase) -> str | None:
    ui = mapper.source.ui
    services = mapper.project.services
    service = mapper.project.service(ui.service) if ui and ui.service else services[0]
    if service is None or service.image is None:
        return None
    tag = (
        service.image.split("@")[0].rpartition(":")[2]
        if ":" in service.image.split("@")[0].rsplit("/", 1)[-1]
        else None
    )
    return None if tag in (None, "latest") else tag


PROVIDERS = {
    "bitcoin": "bitcoin",
    "lightning": "lnd",
    "lnd": "lnd",
    "electrs": "electrs",
    "tor": "tor",
}


def app_requires(mapper: MapperBase) -> list[dict[str, Any]]:
    meta = mapper.source.meta
    wanted: dict[str, tuple[str, int | None]] = {}
    for dependency in meta.dependencies:
        app = PROVIDERS.get(dependency, dependency)
        wanted.setdefault(app, (meta.file, meta.line("dependencies")))
    for name in mapper.source.variables.used:
        variable = mapper.source.variables.platform[name]
        if variable.requires and variable.requires not in wanted:
            wanted[variable.requires] = (mapper.file, None)
            if meta.dependencies is not None and mapper.source.store == "umbrel":
                mapper.say(
                    "I009",
                    f"uses ${name} but dependencies do not list it; requires "
                    f"{variable.requires} added",
                    "warning",
                    None,
                )
    requires = []
    for index, (app, origin) in enumerate(sorted(wanted.items())):
        requires.append({"app": app})
        mapper.mapped.origins[f"requires[{index}]"] = origin
    if "lnd" in wanted and "lightning" in meta.dependencies:
        mapper.say(
            "I009",
            "Umbrel's 'lightning' dependency is LND here (requires: lnd); an app "
            "that works with Core Lightning needs the owner to say so",
            "note",
            None,
            meta.file,
        )
    return requires


def app_permissions(mapper: MapperBase) -> dict[str, Any]:
    permissions = dict(mapper.permissions)
    attention: list[str] = []
    for name in mapper.source.variables.used:
        variable = mapper.source.variables.platform[name]
        if variable.permission:
            permissions[variable.permission] = True
        if (
            variable.attention
            and not variable.provider_path
            and variable.attention not in attention
        ):
            attention.append(variable.attention)
    for text in attention:
        mapper.say("I009", text, "warning", None)
    ordered: dict[str, Any] = {}
    for key in ("tor", "bitcoin_rpc", "lightning_rpc", "host_paths"):
        if key in permissions:
            ordered[key] = permissions[key]
    return ordered


def fixed_credentials(mapper: MapperBase, document: dict[str, Any]) -> None:
    """Literal passwords in env -> one generated secret per distinct value (when safe)."""
    members = document["containers"]
    found: dict[str, list[tuple[dict[str, Any], str]]] = {}
    for member in members:
        for key, value in member.get("env", {}).items():
            if (
                isinstance(value, str)
                and value
                and CREDENTIAL_KEY.search(key)
                and not NOT_CREDENTIAL.search(key)
                and "$" not in value
                and value.lower() not in ("true", "false", "yes", "no", "none", "null")
                and not value.startswith("/")
            ):
                found.setdefault(value, []).append((member, key))
    default_password = mapper.source.meta.default_password
    for value, uses in found.items():
        inside = re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(value)}(?![A-Za-z0-9_.-])")
        embedded = [
            f"{m['name']}.{k}"
            for m in members
            for k, v in m.get("env", {}).items()
            if isinstance(v, str) and v != value and inside.search(v)
        ] + [
            f"{m['name']}.command"
            for m in members
            for arg in (m.get("command") or []) + (m.get("entrypoint") or [])
            if inside.search(arg)
        ]
        first_member, first_key = uses[0]
        line = mapper.mapped.origins.get(
            f"{first_member_path(members, first_member)}.env.{first_key}", (None, None)
        )[1]
        if embedded:
            mapper.say(
                "I011",
                f"{first_member['name']}: {first_key} is a fixed password that is "
                f"also written inside {', '.join(sorted(set(embedded)))}; kept as it is: "
                "change it after install",
                "warning",
                line,
            )
            continue
        name = safe_name(first_key.replace("_", "-"))
        while name in mapper.secrets:
            name = f"{name}-2"
        mapper.secrets[name] = {"name": name, "length": 32, "charset": "alphanumeric"}
        for member, key in uses:
            member["env"][key] = {"secret": name}
        places = ", ".join(f"{m['name']}.{k}" for m, k in uses)
        mapper.say(
            "I011",
            f"{places}: the fixed password in the source became the generated secret {name}",
            "warning",
            line,
        )
        if default_password is not None and default_password == value:
            mapper.say(
                "I011",
                f"the UI's default password is now the generated secret {name} "
                "(not the store's published one)",
                "note",
                None,
                mapper.source.meta.file,
            )
    if default_password and default_password not in found:
        mapper.say(
            "I011",
            "the store publishes a default password that is built into the "
            "image; change it after install",
            "warning",
            mapper.source.meta.line("defaultPassword"),
            mapper.source.meta.file,
        )


def first_member_path(members: list[dict[str, Any]], member: dict[str, Any]) -> str:
    return f"containers[{members.index(member)}]"
