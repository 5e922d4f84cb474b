"""A signed repository whose catalog names a node bundle, served on 127.0.0.1.

Built with our own repository side (``signing.repository`` through
``tests.support.repos``): an ``app-catalog.json`` with no apps
and a ``node`` entry for linux-amd64, and the bundle itself as the TUF
target ``node/archy-node-linux-amd64.tar.xz``.  ``offer(bundle)`` publishes the
next version naming another bundle.

Small bundles stand in for real builds: ``stand_in_binary(...)`` is a shell script
that answers ``version`` like archy-node does, fails, or never answers, and
``stand_in_bundle(script)`` packs it as a one-dir bundle (``catalog/node_bundle.py``);
``install_bundle(prefix, bundle)`` installs one as a node keeps it
(``node_runtime/install_layout.py``).
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import CATALOG_NAME, AppCatalog
from catalog.node_bundle import bundle_file_name
from node_runtime.bundle_unpack import unpack_bundle
from node_runtime.fetch.pull import pull
from node_runtime.install_layout import InstallLayout, bundle_directory_name
from node_runtime.store.node_config import initialise_node
from node_runtime.store.paths import NodePaths
from pipeline.node_bundle_pack import write_bundle
from tests.support.repos import LiveRepository

PLATFORM = "linux-amd64"
BUNDLE_FILE = bundle_file_name(PLATFORM)
NODE_TARGET = f"node/{BUNDLE_FILE}"


def stand_in_binary(answer: str = "", *, exit_code: int = 0, never_answers: bool = False) -> bytes:
    """A shell script acting as archy-node: ``version`` prints ``answer`` and exits."""
    if never_answers:
        body = "exec sleep 3600\n"  # the probe's deadline must end it
    else:
        body = f'if [ "$1" = version ]; then echo "{answer}"; exit {exit_code}; fi\nexit 64\n'
    return f"#!/bin/sh\n{body}".encode()


def stand_in_bundle(script: bytes) -> bytes:
    """A one-dir bundle archive: ``script`` as ``archy-node`` beside ``_internal/``."""
    with tempfile.TemporaryDirectory(prefix="stand-in-bundle-") as scratch:
        root = Path(scratch)
        (root / "_internal").mkdir()
        (root / "_internal" / "base_library.zip").write_bytes(b"stand-in library")
        (root / "archy-node").write_bytes(script)
        (root / "archy-node").chmod(0o755)
        output = io.BytesIO()
        write_bundle(root, output)
    return output.getvalue()


def catalog_naming(binary: bytes) -> bytes:
    digest = blake3_hex(binary)
    document = {
        "schema": 1,
        "source": {
            "repository": None,
            "commit": "0" * 40,
            "committed_at": "2026-01-01T00:00:00Z",
            "dirty": False,
        },
        "dev_build": True,
        "apps": {},
        "images": {},
        "node": {
            PLATFORM: {
                "target": f"node/{digest}.{BUNDLE_FILE}",
                "blake3": digest,
                "length": len(binary),
            }
        },
    }
    return AppCatalog.model_validate(document).to_canonical()


class NodeBinaryRepository:
    def __init__(self, directory: Path) -> None:
        self.live = LiveRepository(directory)
        self.directory = directory

    @property
    def root_bytes(self) -> bytes:
        return self.live.root_bytes(1)

    def offer(self, binary: bytes) -> None:
        """Publish the next version: a catalog naming the bundle ``binary``, and the bundle."""
        self.live.add_artifact(NODE_TARGET, binary)
        self.live.add_artifact(CATALOG_NAME, catalog_naming(binary))
        self.live.publish()

    def published_binary_path(self, binary: bytes) -> Path:
        return self.directory / "targets" / "node" / f"{blake3_hex(binary)}.{BUNDLE_FILE}"


def pulled_node(state_root: Path, repository: NodeBinaryRepository, origin: str) -> NodePaths:
    """A node initialised to trust ``repository`` at ``origin``, with its catalog pulled."""
    paths = NodePaths(state_root)
    initialise_node(paths, repository.root_bytes, origin)
    pull(paths)
    return paths


def install_bundle(prefix: Path, bundle: bytes) -> Path:
    """Install ``bundle`` under ``prefix`` as a node keeps it; the link ``prefix/archy-node``."""
    prefix.mkdir(parents=True, exist_ok=True)
    name = bundle_directory_name(blake3_hex(bundle))
    archive = prefix / ".install.tar.xz"
    archive.write_bytes(bundle)
    unpack_bundle(archive, prefix / name)
    archive.unlink()
    link = prefix / "archy-node"
    InstallLayout(link).point(link, name)
    return link
