"""The node agent inside the system container, as the node user, with the Quadlet engine.

State lives where a real node keeps it (``/var/lib/archy-node``, data under
``/var/lib/archipelago``, the catalog's data root, so the units' ``Volume=``
lines point at the data the agent creates).  A catalog is "pulled" the way
``tests/integration/lifecycle/node_agent.py`` does it: its bytes in the blob store and
the current-catalog pointer, written on the host into a temporary state dir
and unpacked into the container as the node user.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.catalog_model import AppCatalog
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import CatalogPointer
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, utc_now_text
from tests.integration.lifecycle.gate_apps import GATE_APPS, WELCOME, gate_manifest
from tests.realparts.systemd_container import NODE_BINARY, SystemContainer
from tests.support.catalogs import catalog_of

STATE_ROOT = "/var/lib/archy-node"
DATA_ROOT = "/var/lib/archipelago"
HOOK_SOURCES = "/home/node/hook-sources"
UNIT_DIR = "/home/node/.config/containers/systemd"
GENERATOR_DIR = "/run/user/1000/systemd/generator"


def gate_catalog_for_container(app_ids: tuple[str, ...] = GATE_APPS) -> AppCatalog:
    """The lifecycle gate's apps with the hook source inside the container."""
    return catalog_of(gate_manifest(app_id, Path(HOOK_SOURCES)) for app_id in app_ids)


def _tar_of_dir(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(root)))
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                with path.open("rb") as stream:
                    tar.addfile(info, stream)
    return buffer.getvalue()


@dataclass
class ContainerNode:
    box: SystemContainer

    def setup(self) -> None:
        """A fresh node: empty state and data, the hook source file, no units."""
        self.box.exec_root(["rm", "-rf", STATE_ROOT, DATA_ROOT, HOOK_SOURCES], check=False)
        for path in (STATE_ROOT, DATA_ROOT, HOOK_SOURCES):
            self.box.exec_root(["install", "-d", "-o", "node", "-g", "node", path])
        config = {"schema": 1, "origin": "file:///nonexistent", "data_root": DATA_ROOT}
        self.put_file(f"{STATE_ROOT}/config.json", json.dumps(config).encode())
        self.put_file(f"{HOOK_SOURCES}/welcome.txt", WELCOME)

    def reset(self) -> None:
        """No archy units, containers, secrets or network left from an earlier test."""
        box = self.box
        box.systemctl_user("stop", "archy-*", check=False)
        box.run_as_node(["sh", "-c", f"rm -rf {UNIT_DIR}/*"])
        box.systemctl_user("daemon-reload")
        box.systemctl_user("reset-failed", check=False)
        box.run_as_node(["podman", "rm", "--all", "--force", "--time=0"], check=False)
        box.run_as_node(["podman", "secret", "rm", "--all"], check=False)
        box.run_as_node(["podman", "network", "rm", "--force", "archy-net"], check=False)

    def put_file(self, path: str, data: bytes) -> None:
        self.box.run_as_node(["sh", "-c", 'cat > "$1"', "put", path], input=data)

    def publish(self, catalog: AppCatalog) -> str:
        """Make ``catalog`` the node's current catalog, as a pull would."""
        data = catalog.to_canonical()
        with tempfile.TemporaryDirectory() as tmp:
            paths = NodePaths(Path(tmp))
            blake3 = BlobStore(paths.blobs_dir).add_bytes(data)
            state = NodeState(paths)
            pointer = CatalogPointer(
                blake3=blake3, length=len(data), commit=catalog.source.commit,
                targets_version=1, pulled_at=utc_now_text(),
            )  # fmt: skip
            state.switch_catalog(pointer)
            tree = _tar_of_dir(Path(tmp))
        self.box.run_as_node(["tar", "-x", "--no-same-owner", "-C", STATE_ROOT], input=tree)
        return blake3

    # -- the agent ---------------------------------------------------------------------------
    def agent(self, *args: str, timeout: float = 600.0) -> tuple[int, dict[str, Any], str]:
        """``archy-node ARGS --json`` as the node user: exit code, JSON document, stderr."""
        proc = self.box.run_as_node(
            [NODE_BINARY, *args, "--json"],
            check=False,
            timeout=timeout,
            env={"ARCHY_NODE_HOOK_SOURCES": HOOK_SOURCES, "ARCHY_NODE_ENGINE": "auto"},
        )
        out = proc.stdout.decode()
        try:
            document = json.loads(out) if out.strip() else {}
        except json.JSONDecodeError:
            document = {"unparsed": out}
        return proc.returncode, document, proc.stderr.decode(errors="replace")

    # -- what systemd sees -------------------------------------------------------------------
    def unit_files(self) -> dict[str, bytes]:
        listing = self.box.run_as_node(["ls", "-1", UNIT_DIR], check=False).stdout.decode()
        return {
            name: self.box.read_file(f"{UNIT_DIR}/{name}")
            for name in listing.split()
            if not name.endswith(".d")
        }

    def active_state(self, service: str) -> str:
        return self.box.user_unit_property(service, "ActiveState")

    def generator_stamp(self) -> str:
        """Inode and mtime of the generator's output dir: a daemon-reload makes it anew."""
        proc = self.box.exec_root(["stat", "-c", "%i %Y.%y", GENERATOR_DIR])
        return proc.stdout.decode().strip()
