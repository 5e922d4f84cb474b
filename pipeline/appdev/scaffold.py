"""``archy app new``: a new app folder from a template, valid as generated.

``scaffold_files(app_id, template, host_port)`` is pure: it returns the files of
``apps/<id>/`` as text — ``manifest.yml`` with a comment on every field a
beginner needs, an ``icon.svg`` placeholder (the app's initials), and, with
``companion=True``, a ``build/`` context for a companion image.
``create_app`` picks a host port no app in ``apps/`` uses (policy P006),
refuses an id that is malformed or taken, and writes the folder.

Templates:

- ``web``: one container serving a web UI;
- ``web+db``: the web app and a PostgreSQL member it waits for, with a
  generated database password;
- ``bitcoin``: an app that needs the ``bitcoin`` capability (any app that
  provides it, bitcoin-core or bitcoin-knots) and its RPC permission.

Public API: ``TEMPLATES``, ``scaffold_files(...)``, ``create_app(...) -> ScaffoldResult``,
``ScaffoldRefused``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from catalog.manifest_fields import APP_ID_PATTERN
from catalog.problems import ManifestError
from pipeline.appset import find_app_folders, load_app_folder

TEMPLATES = ("web", "web+db", "bitcoin")
FIRST_HOST_PORT = 18000
_PALETTE = ("#0b5cad", "#7c3aed", "#15803d", "#b91c1c", "#c2410c", "#0e7490", "#6d28d9")


class ScaffoldRefused(Exception):
    """The app cannot be created; one line says why and nothing was written."""


@dataclass(frozen=True)
class ScaffoldResult:
    folder: Path
    files: list[Path]
    host_port: int


def _title(app_id: str) -> str:
    return " ".join(part.capitalize() for part in app_id.split("-"))


def icon_svg(app_id: str) -> str:
    """A 64x64 placeholder: the app's initials on a colour picked from its id."""
    parts = [part for part in app_id.split("-") if part]
    initials = (parts[0][0] + (parts[1][0] if len(parts) > 1 else parts[0][1:2])).upper()
    colour = _PALETTE[sum(app_id.encode()) % len(_PALETTE)]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f"<title>{_title(app_id)}</title>"
        f'<rect width="64" height="64" rx="14" fill="{colour}"/>'
        '<text x="32" y="41" font-family="sans-serif" font-size="24" font-weight="700" '
        f'text-anchor="middle" fill="#ffffff">{initials}</text></svg>\n'
    )


_HEADER = """\
# {title}: created by `archy app new {app_id} --template {template}`.
# Check it with `{validate}`; run it on a throwaway local node with
# `archy app run {app_id}`; put it through the lifecycle gate with `archy app test {app_id}`.
# Every field is described in the JSON Schema (`archy schema`); the rules are in docs/policy.md.
schema: 1
# The id equals the folder name: 2-40 lowercase letters, digits and '-'.
id: {app_id}
# What people see in the store.
name: {title}
# The upstream version you package (quoted: YAML would read 1.0 as a number), and your
# packaging revision (back to 1 whenever the version changes).
version: "1.0.0"
revision: 1
summary: {summary}
description: >-
  Say here what the app does for its owner, in two or three sentences.
  The store shows this on the app's page.
# One of: bitcoin lightning ecash nostr networking security media files productivity home
# developer ai monitoring communication system.
category: {category}
# The upstream license (an SPDX expression), its homepage and source (https only), and
# release notes for this version (a URL or a short text).
license: MIT
homepage: https://example.org/{app_id}
source: https://example.org/{app_id}/src
release_notes: ""
# The CPU architectures the image is built for.
architectures: [amd64, arm64]
"""

_WEB_MEMBER = """\
  - name: {app_id}        # the container's name; unique across the whole catalog
    # repository:tag; `archy images lock` adds the @sha256 digest that publishing requires.
    # Never :latest (policy P005).
    image: {image}
    {build}env:
      TZ: UTC              # plain values are strings; {{secret: NAME}} takes a generated secret
{extra_env}    ports:
      # container: the port inside; host: the node's port (unique in the catalog, P006);
      # expose: local (127.0.0.1 only), lan (all interfaces) or tor (a hidden service).
      - {{container: 80, host: {host_port}, expose: lan}}
    volumes:
      # Each volume is a folder under the app's data dir on the node, kept on uninstall.
      - {{name: data, path: /data}}
    data_uid: 0            # the uid inside the container that owns /data
    health:                # the node waits on this before it calls the app started
      http: {{port: 80, path: /}}
      interval: 30s
      retries: 3
      start_period: 30s
    resources:
      memory: 256m
"""

_DB_MEMBER = """\
  - name: {app_id}-db
    image: docker.io/library/postgres:16.4
    env:
      POSTGRES_USER: {db_user}
      POSTGRES_DB: {db_user}
      POSTGRES_PASSWORD: {{secret: db-password}}   # generated on the node, never in git
    volumes:
      - {{name: db, path: /var/lib/postgresql/data}}
    data_uid: 999
    health:
      cmd: [pg_isready, -U, {db_user}]
      interval: 10s
      retries: 5
      start_period: 30s
    resources:
      memory: 512m
"""

_UI = """\
ui:                        # which member serves the web UI, and its proxy route on the node
  container: {app_id}
  port: 80
  route: /apps/{app_id}/
"""

_MIGRATION = """\
migration:
  adopt: [{members}]       # existing containers with these names are adopted, not recreated
  preserve: [{volumes}]    # data folders that must survive every update
"""


def scaffold_files(
    app_id: str, template: str, host_port: int, companion: bool = False
) -> dict[str, str]:
    """The files of ``apps/<app_id>/`` (relative path -> text) for ``template``."""
    if template not in TEMPLATES:
        raise ScaffoldRefused(f"--template {template!r}: choose one of {', '.join(TEMPLATES)}")
    title = _title(app_id)
    db_user = app_id.replace("-", "_")
    summaries = {
        "web": "A web app for your node.",
        "web+db": "A web app with its own PostgreSQL database.",
        "bitcoin": "An app that talks to your node's Bitcoin full node.",
    }
    validate = f"archy validate apps/{app_id}" if template != "bitcoin" else "archy validate apps/"
    text = _HEADER.format(
        title=title,
        app_id=app_id,
        template=template,
        summary=summaries[template],
        category="bitcoin" if template == "bitcoin" else "productivity",
        validate=validate,
    )
    if template == "bitcoin":
        text += """\
requires:                  # other apps, or a capability such as bitcoin that several provide
  - app: bitcoin
    version: ">=25.0"
    settings: {txindex: true}   # what the provider must run with (checked by archy validate)
"""
    image = f"localhost/{app_id}:1.0.0" if companion else "docker.io/library/nginx:1.27.3"
    build = (
        "build: {context: build}   # the companion image is built from ./build\n    "
        if (companion)
        else ""
    )
    extra_env = ""
    if template == "web+db":
        extra_env = (
            f'      DATABASE_URL: "postgres://{db_user}@{app_id}-db:5432/{db_user}"\n'
            "      DATABASE_PASSWORD: {secret: db-password}\n"
        )
    if template == "bitcoin":
        extra_env = (
            "      BITCOIN_RPC_HOST: bitcoind:8332\n"
            "      BITCOIN_RPC_PASSWORD: {secret: bitcoin-rpc-password}\n"
        )
    text += "containers:               # one member, or several for a stack\n"
    text += _WEB_MEMBER.format(
        app_id=app_id, image=image, build=build, extra_env=extra_env, host_port=host_port
    )
    if template == "web+db":
        text = text.replace(
            "    resources:\n      memory: 256m\n",
            f"    depends_on: [{app_id}-db]   # start after the database is healthy\n"
            "    resources:\n      memory: 256m\n",
            1,
        )
        text += _DB_MEMBER.format(app_id=app_id, db_user=db_user)
    text += _UI.format(app_id=app_id)
    secrets = {"web+db": "db-password", "bitcoin": "bitcoin-rpc-password"}
    if template in secrets:
        text += (
            "generated_secrets:        # created once on the node, 0600, never regenerated\n"
            f"  - {{name: {secrets[template]}, length: 32, charset: alphanumeric}}\n"
        )
    if template == "bitcoin":
        text += "permissions:\n  bitcoin_rpc: true   # reviewed: this app reads the Bitcoin RPC\n"
    members = [app_id] + ([f"{app_id}-db"] if template == "web+db" else [])
    volumes = ["data"] + (["db"] if template == "web+db" else [])
    text += _MIGRATION.format(members=", ".join(members), volumes=", ".join(volumes))
    files = {"manifest.yml": text, "icon.svg": icon_svg(app_id)}
    if companion:
        files["build/Containerfile"] = (
            "# The companion image: built by CI from this folder, shipped as a signed target.\n"
            "FROM docker.io/library/nginx:1.27.3\n"
            "COPY index.html /usr/share/nginx/html/index.html\n"
        )
        files["build/index.html"] = f"<!doctype html><title>{title}</title><h1>{title}</h1>\n"
    return files


def used_host_ports(apps_dir: Path) -> set[int]:
    """Host ports the apps under ``apps_dir`` publish (apps that do not load are skipped)."""
    ports: set[int] = set()
    for folder in find_app_folders([apps_dir]) if apps_dir.is_dir() else []:
        try:
            manifest = load_app_folder(folder).source.manifest
        except ManifestError:
            continue
        ports |= {port.host_port for member in manifest.containers for port in member.ports}
    return ports


def create_app(
    apps_dir: Path, app_id: str, template: str, companion: bool = False
) -> ScaffoldResult:
    if re.fullmatch(APP_ID_PATTERN, app_id) is None:
        raise ScaffoldRefused(
            f"{app_id!r}: an app id is 2-40 characters, lowercase letters, digits and '-', "
            "starting with a letter"
        )
    folder = apps_dir / app_id
    if folder.exists() or folder.is_symlink():
        raise ScaffoldRefused(f"{folder}: already exists; choose another id or remove it")
    used = used_host_ports(apps_dir)
    host_port = next(port for port in range(FIRST_HOST_PORT, 65536) if port not in used)
    files = scaffold_files(app_id, template, host_port, companion)
    written: list[Path] = []
    folder.mkdir(parents=True)
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return ScaffoldResult(folder, written, host_port)
