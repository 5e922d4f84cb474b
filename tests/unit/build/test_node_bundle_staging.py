"""``archy build --node-binary``: the node bundle archive is staged as the catalog's node
target, and a bundle a node would refuse, or a file not named as one, is refused here."""

from __future__ import annotations

import io
import lzma
import tarfile
from pathlib import Path

from catalog.address import blake3_hex
from pipeline.build_staging import stage_node_binaries
from tests.integration.self_update.node_binary_repository import stand_in_bundle

SCRIPT = b'#!/bin/sh\necho "archy-node 0.0.1"\n'


def test_a_bundle_is_staged_under_its_blake3(tmp_path: Path) -> None:
    bundle = tmp_path / "archy-node-linux-amd64.tar.xz"
    bundle.write_bytes(stand_in_bundle(SCRIPT))
    digest = blake3_hex(bundle.read_bytes())

    targets, problems = stage_node_binaries([bundle], tmp_path / "staging")

    assert problems == []
    assert targets is not None
    target = targets["linux-amd64"]
    assert target.target == f"node/{digest}.archy-node-linux-amd64.tar.xz"
    assert target.name == "node/archy-node-linux-amd64.tar.xz"
    assert (tmp_path / "staging" / target.target).read_bytes() == bundle.read_bytes()


def test_a_one_file_binary_or_a_hostile_bundle_is_refused_and_nothing_staged(
    tmp_path: Path,
) -> None:
    one_file = tmp_path / "archy-node-linux-amd64"
    one_file.write_bytes(SCRIPT)
    hostile_tar = io.BytesIO()
    with tarfile.open(fileobj=hostile_tar, mode="w") as tar:
        entry = tarfile.TarInfo("/usr/local/bin/archy-node")
        entry.size = len(SCRIPT)
        tar.addfile(entry, io.BytesIO(SCRIPT))
    hostile = tmp_path / "archy-node-linux-arm64.tar.xz"
    hostile.write_bytes(lzma.compress(hostile_tar.getvalue()))

    targets, problems = stage_node_binaries([one_file, hostile], tmp_path / "staging")

    assert targets == {}
    assert problems == [
        f"{one_file}: node bundles are named archy-node-linux-amd64.tar.xz or "
        "archy-node-linux-arm64.tar.xz (scripts/build-node-binary writes them)",
        f"{hostile}: a node would refuse this bundle: /usr/local/bin/archy-node: an absolute path",
    ]
    assert not (tmp_path / "staging" / "node").exists()
