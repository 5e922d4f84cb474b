"""The lifecycle gate's test apps (tests/integration/lifecycle/apps/), ready for one node.

Every host port is replaced by one that is free here, and the hook's
``copy_from_host`` source is moved into the node's allowlisted hook source
dir, where ``welcome.txt`` is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from pipeline.appset import load_app_folder
from tests.realparts.net import free_port
from tests.support.catalogs import catalog_of

APPS_DIR = Path(__file__).resolve().parent / "apps"
GATE_APPS = ("gate-web", "gate-stack", "gate-vault")
# Run by the podman gate only: its images come from Debian packages (stateful_gate.py).
STATEFUL_APPS = ("gate-db",)
HOOK_PLACEHOLDER = "/archy-hook-sources/"
WELCOME = b"welcome from the host\n"


def gate_manifest(app_id: str, hook_sources: Path, apps_dir: Path = APPS_DIR) -> Manifest:
    manifest = load_app_folder(apps_dir / app_id).source.manifest
    document: dict[str, Any] = manifest.to_document()
    for member in document["containers"]:
        for port in member["ports"]:
            port["host"] = free_port()
    for step in document["hooks"]["post_install"]:
        copy = step.get("copy_from_host")
        if copy and copy["source"].startswith(HOOK_PLACEHOLDER):
            copy["source"] = str(hook_sources / copy["source"][len(HOOK_PLACEHOLDER) :])
    return Manifest.model_validate(document)


def gate_catalog(
    hook_sources: Path, app_ids: tuple[str, ...] = GATE_APPS, apps_dir: Path = APPS_DIR
) -> AppCatalog:
    """The catalog of ``app_ids`` (folders under ``apps_dir``; default: the gate's own apps)."""
    (hook_sources / "welcome.txt").write_bytes(WELCOME)
    return catalog_of(gate_manifest(app_id, hook_sources, apps_dir) for app_id in app_ids)


def ui_url(manifest: Manifest) -> str:
    assert manifest.ui is not None
    member = manifest.member(manifest.ui.container)
    [port] = [p for p in member.ports if p.container == manifest.ui.port]
    return f"http://127.0.0.1:{port.host_port}{manifest.ui.path}"
