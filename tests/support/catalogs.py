"""Catalogs for the apply tests, made from manifests the way ``archy build`` makes them.

Units come from the real renderer (``pipeline.render``); images are left
unlocked (the test images are local), so each member runs its manifest's
``repo:tag``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog.app_network import network_for_developer
from catalog.catalog_model import (
    CATALOG_SCHEMA_VERSION,
    AppCatalog,
    AppImage,
    CatalogApp,
    DeveloperSignature,
    SourceInfo,
    manifest_blake3,
)
from catalog.manifest import Manifest
from catalog.runtime_names import DEFAULT_DATA_ROOT
from pipeline.appset import load_app_folder
from pipeline.render import render_app

COMMIT = "0" * 40


# A did:key of the form the catalog model accepts; the tests that use it check the rules
# between registries, which read the did (its network), never the signature.
EXAMPLE_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def catalog_app(
    manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT, did: str | None = None
) -> CatalogApp:
    """The app's entry; with ``did``, a third-party entry rendered on that registry's
    network, its ``developer`` field of the right form but not a real signature."""
    developer = None if did is None else DeveloperSignature(did=did, signature="0" * 128)
    return CatalogApp(
        version=manifest.version,
        revision=manifest.revision,
        manifest=manifest,
        manifest_blake3=manifest_blake3(manifest),
        units=render_app(manifest, data_root, network_for_developer(did)),
        images=[
            AppImage(member=member.name, reference=member.image, digest=None)
            for member in manifest.containers
        ],
        icon=None,
        developer=developer,
    )


def catalog_of(manifests: Iterable[Manifest], data_root: str = DEFAULT_DATA_ROOT) -> AppCatalog:
    return AppCatalog(
        schema=CATALOG_SCHEMA_VERSION,
        source=SourceInfo(
            repository=None, commit=COMMIT, committed_at="2024-05-01T12:00:00Z", dirty=False
        ),
        dev_build=True,
        apps={m.id: catalog_app(m, data_root) for m in sorted(manifests, key=lambda m: m.id)},
        images={},
        node=None,
    )


def manifest_from_folder(folder: Path) -> Manifest:
    return load_app_folder(folder).source.manifest


def changed(manifest: Manifest, **updates: Any) -> Manifest:
    """The manifest with top-level fields replaced, validated again."""
    document: dict[str, Any] = manifest.to_document()
    document.update(updates)
    return Manifest.model_validate(document)


def with_member_changes(manifest: Manifest, member: str, **updates: Any) -> Manifest:
    document: dict[str, Any] = manifest.to_document()
    for each in document["containers"]:
        if each["name"] == member:
            each.update(updates)
    return Manifest.model_validate(document)


def simple_manifest(
    app_id: str,
    *,
    port: int = 18080,
    requires: list[dict[str, Any]] | None = None,
    provides: list[str] | None = None,
    architectures: list[str] | None = None,
    secrets: list[str] | None = None,
    revision: int = 1,
    version: str = "1.0.0",
    settings: dict[str, Any] | None = None,
) -> Manifest:
    document: dict[str, Any] = {
        "schema": 1,
        "id": app_id,
        "name": f"App {app_id}",
        "version": version,
        "revision": revision,
        "summary": "a test app",
        "description": "a test app",
        "category": "developer",
        "license": "MIT",
        "homepage": f"https://example.org/{app_id}",
        "source": f"https://example.org/{app_id}/src",
        "architectures": architectures or ["amd64", "arm64"],
        "settings": settings or {},
        "containers": [
            {
                "name": app_id,
                "image": "localhost/archy-test-busybox:1",
                "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                "ports": [{"container": 8080, "host": port}],
                "volumes": [{"name": "data", "path": "/data"}],
                "data_uid": 1000,
                "env": {name.upper().replace("-", "_"): {"secret": name} for name in secrets or []},
            }
        ],
        "requires": requires or [],
        "provides": provides or [],
        "generated_secrets": [{"name": name} for name in secrets or []],
    }
    return Manifest.model_validate(document)
