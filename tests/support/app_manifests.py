"""Manifests built in code for the renderer and backend tests."""

from __future__ import annotations

import copy
from typing import Any

from catalog.manifest import Manifest

IMAGE = "localhost/archy-test-busybox:1"


def manifest_document(**members: dict[str, Any]) -> dict[str, Any]:
    """A valid manifest document with the given members (name -> fields)."""
    containers = [{"name": name, "image": IMAGE, **fields} for name, fields in members.items()]
    return {
        "schema": 1,
        "id": "demo",
        "name": "Demo",
        "version": "1.0.0",
        "revision": 1,
        "summary": "A demo app",
        "description": "A demo app for tests.",
        "category": "developer",
        "license": "MIT",
        "homepage": "https://example.org/demo",
        "source": "https://example.org/demo/src",
        "architectures": ["amd64"],
        "containers": containers or [{"name": "web", "image": IMAGE}],
        "generated_secrets": [{"name": "db-password"}],
    }


def manifest(**members: dict[str, Any]) -> Manifest:
    return Manifest.model_validate(manifest_document(**members))


def with_changes(document: dict[str, Any], **top_level: Any) -> Manifest:
    changed = copy.deepcopy(document)
    changed.update(top_level)
    return Manifest.model_validate(changed)
