"""The storefront's pages, from a verified repository: pure, bytes in, files out.

``render_site`` returns every file of the static site as ``{path: bytes}``:

    index.html                      every app, live search, category links
    store/category/<category>.html  the apps of one category (works without JS)
    store/apps/<id>.html            one app: what it needs, its security facts,
                                    the exact ``archy-node install`` command
    store/trust.html                the repository's trust facts
    store/assets/store.css|.js|icon.svg  the only stylesheet, script and site icon
    store/icons/<id>.svg            the icons, as verified against the catalog

Every page carries a strict Content-Security-Policy (only its own files, no
inline script or style, nothing external) and loads no font, script or image
from anywhere else.  Reading needs no JavaScript; the script only adds the
live search.  jinja2 escapes every value that comes from a manifest.

Public API: ``render_site(repository) -> dict[str, bytes]``, ``STOREFRONT_INDEX``,
``CONTENT_SECURITY_POLICY``, ``install_command(app_id)``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2

from catalog.catalog_model import CatalogApp
from catalog.manifest_fields import URL_PATTERN
from pipeline.publish.layout import STOREFRONT_INDEX
from pipeline.storefront.verified_repository import VerifiedRepository
from signing.metadata_fields import format_expires

STORE_NAME = "Archipelago app store"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
DATA_ROOT = "/var/lib/archipelago"
_URL = re.compile(URL_PATTERN)


def install_command(app_id: str) -> str:
    return f"archy-node install {app_id}"


@dataclass(frozen=True)
class AppView:
    """What the pages show of one app, as plain strings."""

    id: str
    name: str
    summary: str
    description: str
    category: str
    version: str
    license: str
    homepage: str
    source: str
    release_notes: str
    release_notes_url: str | None
    icon: bool
    install_command: str
    requires: list[str]
    provides: list[str]
    required_settings: list[str]
    ports: list[str]
    volumes: list[str]
    memory: str
    architectures: list[str]
    containers: list[str]
    permissions: list[str]
    capabilities: list[str]
    secrets: list[str]
    images: list[str]
    manifest_blake3: str

    @property
    def search_text(self) -> str:
        return " ".join((self.id, self.name, self.summary, self.category)).lower()


def _setting(name: str, value: bool | int | str) -> str:
    shown = str(value).lower() if isinstance(value, bool) else str(value)
    return f"{name}={shown}"


def _permissions(app: CatalogApp) -> list[str]:
    permissions = app.manifest.permissions
    named = {
        "tor": "Tor hidden services",
        "bitcoin_rpc": "Bitcoin RPC",
        "lightning_rpc": "Lightning RPC",
        "host_network": "the host's network",
        "net_admin": "network administration (NET_ADMIN, NET_RAW)",
    }
    found = [label for field, label in named.items() if getattr(permissions, field)]
    found += [f"device {device}" for device in permissions.devices]
    found += [f"host path {path}" for path in permissions.host_paths]
    return found


def app_view(app: CatalogApp, has_icon: bool) -> AppView:
    manifest = app.manifest
    requires = []
    settings = []
    for requirement in manifest.requires:
        text = requirement.app + (f" {requirement.version}" if requirement.version else "")
        requires.append(text + (" (optional)" if requirement.optional else ""))
        settings += [
            f"{requirement.app}: {_setting(name, value)}"
            for name, value in sorted(requirement.settings.items())
        ]
    ports = [
        f"{port.host_port}/{port.protocol} ({port.expose}) → {member.name}:{port.container}"
        for member in manifest.containers
        for port in member.ports
    ]
    volumes = [
        volume.host_path or f"{DATA_ROOT}/{manifest.id}/{volume.name}"
        for member in manifest.containers
        for volume in member.volumes
    ]
    memory = [
        f"{member.name}: {member.resources.memory}"
        for member in manifest.containers
        if member.resources is not None and member.resources.memory is not None
    ]
    notes = manifest.release_notes.strip()
    return AppView(
        id=manifest.id,
        name=manifest.name,
        summary=manifest.summary,
        description=manifest.description,
        category=manifest.category,
        version=f"{app.version}-r{app.revision}",
        license=manifest.license,
        homepage=manifest.homepage,
        source=manifest.source,
        release_notes=notes,
        release_notes_url=notes if _URL.fullmatch(notes) else None,
        icon=has_icon,
        install_command=install_command(manifest.id),
        requires=requires,
        provides=list(manifest.capabilities),
        required_settings=settings,
        ports=ports,
        volumes=list(dict.fromkeys(volumes)),
        memory=", ".join(memory) or "none set",
        architectures=list(manifest.architectures),
        containers=[member.name for member in manifest.containers],
        permissions=_permissions(app),
        capabilities=sorted({cap for member in manifest.containers for cap in member.cap_add}),
        secrets=[secret.name for secret in manifest.generated_secrets],
        images=[image.pinned_reference for image in app.images],
        manifest_blake3=app.manifest_blake3,
    )


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.storefront", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> bytes:
    return resources.files("pipeline.storefront").joinpath("assets", name).read_bytes()


def _trust_context(repository: VerifiedRepository) -> dict[str, Any]:
    root = repository.root
    versions = {
        "root": (root.version, root.expires),
        "targets": (repository.targets.version, repository.targets.expires),
        "snapshot": (repository.snapshot.version, repository.snapshot.expires),
        "timestamp": (repository.timestamp.version, repository.timestamp.expires),
    }
    roles = [
        {
            "name": name,
            "version": version,
            "threshold": root.roles[name].threshold,
            "key_count": len(root.roles[name].keyids),
            "expires": format_expires(expires),
        }
        for name, (version, expires) in versions.items()
    ]
    signed = set(repository.targets_signers)
    signers = [
        {"keyid": keyid, "signed": keyid in signed}
        for keyid in sorted(root.roles["targets"].keyids)
    ]
    return {
        "roles": roles,
        "signers": signers,
        "targets_version": repository.targets.version,
        "timestamp_expires": format_expires(repository.timestamp.expires),
        "committed_at": repository.catalog.source.committed_at,
        "repository": repository.catalog.source.repository,
    }


def render_site(repository: VerifiedRepository) -> dict[str, bytes]:
    """Every file of the storefront for ``repository``."""
    catalog = repository.catalog
    views = sorted(
        (app_view(app, app_id in repository.icons) for app_id, app in catalog.apps.items()),
        key=lambda view: (view.name.lower(), view.id),
    )
    categories = sorted(Counter(view.category for view in views).items())
    environment = _environment()
    common: dict[str, Any] = {
        "csp": CONTENT_SECURITY_POLICY,
        "store_name": STORE_NAME,
        "catalog_blake3": repository.catalog_blake3,
        "commit": catalog.source.commit,
        "root_version": repository.root.version,
        "dev_build": catalog.dev_build,
        "total": len(views),
        "categories": categories,
    }

    def page(template: str, root: str, **values: Any) -> bytes:
        text = environment.get_template(template).render(**common, root=root, **values)
        return text.encode("utf-8")

    files: dict[str, bytes] = {
        "store/assets/store.css": _asset("store.css"),
        "store/assets/store.js": _asset("store.js"),
        "store/assets/icon.svg": _asset("icon.svg"),
    }
    for app_id, icon in sorted(repository.icons.items()):
        files[f"store/icons/{app_id}.svg"] = icon
    for view in views:
        files[f"store/apps/{view.id}.html"] = page("app.html.j2", "../../", page="app", app=view)
    for name, _count in categories:
        files[f"store/category/{name}.html"] = page(
            "index.html.j2",
            "../../",
            page="category",
            category=name,
            apps=[view for view in views if view.category == name],
        )
    files["store/trust.html"] = page(
        "trust.html.j2", "../", page="trust", **_trust_context(repository)
    )
    files[STOREFRONT_INDEX] = page("index.html.j2", "", page="index", category=None, apps=views)
    return files
