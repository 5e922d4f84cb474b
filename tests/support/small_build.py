"""A small build output directory (what `archy build` writes), made without git or podman.

``write_build(dist, apps)`` writes ``dist/app-catalog.json`` and each app's
icon under ``dist/targets/icons/``, exactly as the catalog names them; the
units are rendered by the build's own renderer, so the ceremony's re-render
finds them byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import (
    AppCatalog,
    AppImage,
    CatalogApp,
    ImagePin,
    SourceInfo,
    TargetFile,
    manifest_blake3,
)
from catalog.loader import parse_manifest_source
from pipeline.build_types import SilentProgress
from pipeline.catalog_build import default_renderer, render_all

DIGEST = "sha256:" + "ab" * 32


@dataclass(frozen=True)
class SmallApp:
    app_id: str
    version: str = "1.0.0"
    revision: int = 1
    image: str = "docker.io/library/nginx:1.27.3"
    host_port: int = 18080
    extra_yaml: str = ""
    permissions: dict[str, bool] = field(default_factory=dict)


def manifest_yaml(app: SmallApp) -> str:
    permissions = "".join(
        f"  {name}: {str(value).lower()}\n" for name, value in app.permissions.items()
    )
    return f"""\
schema: 1
id: {app.app_id}
name: {app.app_id.title()}
version: "{app.version}"
revision: {app.revision}
summary: A small app
description: Serves a page.
category: developer
license: MIT
homepage: https://example.org/{app.app_id}
source: https://example.org/{app.app_id}/src
architectures: [amd64]
containers:
  - name: {app.app_id}
    image: {app.image}
    ports:
      - container: 80
        host: {app.host_port}
        expose: lan
{app.extra_yaml}""" + (f"permissions:\n{permissions}" if permissions else "")


def write_build(
    dist: Path,
    apps: list[SmallApp],
    commit: str = "a" * 40,
    node: dict[str, bytes] | None = None,
    seeds: list[str] | None = None,
) -> AppCatalog:
    """``node`` maps a platform (linux-amd64) to the bytes of its ``archy-node`` binary."""
    catalog_apps = {}
    targets = dist / "targets"
    node_targets = {}
    for platform, data in sorted((node or {}).items()):
        digest = blake3_hex(data)
        target = TargetFile(
            target=f"node/{digest}.archy-node-{platform}", blake3=digest, length=len(data)
        )
        (targets / "node").mkdir(parents=True, exist_ok=True)
        (targets / target.target).write_bytes(data)
        node_targets[platform] = target
    for app in apps:
        source = parse_manifest_source(
            manifest_yaml(app).encode(), f"apps/{app.app_id}/manifest.yml", app.app_id
        )
        manifest = source.manifest
        icon_bytes = (
            f'<svg xmlns="http://www.w3.org/2000/svg"><title>{app.app_id}</title></svg>'.encode()
        )
        icon_hash = blake3_hex(icon_bytes)
        icon = TargetFile(
            target=f"icons/{icon_hash}.{app.app_id}.svg", blake3=icon_hash, length=len(icon_bytes)
        )
        (targets / "icons").mkdir(parents=True, exist_ok=True)
        (targets / icon.target).write_bytes(icon_bytes)
        images = [AppImage(member=app.app_id, reference=app.image, digest=DIGEST)]
        units = render_all(
            {app.app_id: (source, images, icon)}, default_renderer(), SilentProgress()
        )[app.app_id]
        catalog_apps[app.app_id] = CatalogApp(
            version=app.version,
            revision=app.revision,
            manifest=manifest,
            manifest_blake3=manifest_blake3(manifest),
            units=units,
            images=images,
            icon=icon,
        )
    catalog = AppCatalog(
        schema=1,
        source=SourceInfo(
            repository=None, commit=commit, committed_at="2025-01-01T00:00:00Z", dirty=False
        ),
        dev_build=False,
        apps=catalog_apps,
        images={app.image: ImagePin(digest=DIGEST) for app in apps},
        node=node_targets or None,
        seeds=seeds or [],
    )
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "app-catalog.json").write_bytes(catalog.to_canonical())
    return catalog
