"""self-update's two failure branches, driven by a real fault: an immutable install directory.

``chattr +i`` on the directory makes every create, rename and unlink in it fail with EPERM,
even for root (these tests run as root, where a read-only mode would not stop anything).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from node_runtime.self_update import previous_binary_path, rejected_marker_path
from tests.integration.self_update.node_binary_repository import NodeBinaryRepository
from tests.integration.self_update.test_self_update import (
    NEW,
    OLD,
    bundle_id,
    offered_node,
    run_self_update,
)
from tests.realparts.required import require_or_skip, require_tool
from tests.support.tuf_fixtures import RepositoryServer

# a new bundle that starts where it lies, but run through the link (after the swap) makes
# the install directory immutable and crashes: putting the link back then fails for real
FREEZES_ITS_DIRECTORY_THEN_CRASHES = (
    b'#!/bin/sh\nif [ "$1" != version ]; then exit 64; fi\n'
    b'case "$0" in */archy-node-*/archy-node) echo "archy-node 0.0.5"; exit 0;; esac\n'
    b'chattr +i "$(dirname "$0")"; echo "Segmentation fault"; exit 139\n'
)


@contextlib.contextmanager
def thawed_afterwards(directory: Path) -> Iterator[None]:
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(directory)], check=False)


@pytest.fixture(autouse=True)
def _chattr_works(tmp_path: Path) -> None:
    require_tool("chattr")
    require_or_skip(os.geteuid() == 0, "chattr +i needs root")


def test_an_immutable_install_directory_cannot_be_swapped_and_nothing_changes(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)
    entries_before = sorted(p.name for p in binary.parent.iterdir())
    with thawed_afterwards(binary.parent):
        subprocess.run(["chattr", "+i", str(binary.parent)], check=True)
        exit_code, output = run_self_update(paths, binary)
    assert exit_code == 1
    assert f"cannot swap {binary}: " in output and "; nothing was swapped" in output
    assert "Traceback" not in output
    assert binary.read_bytes() == OLD
    assert sorted(p.name for p in binary.parent.iterdir()) == entries_before


def test_a_failed_restore_after_a_failed_probe_says_to_point_the_link_back_by_hand(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(
        tmp_path, node_repository, repository_server, FREEZES_ITS_DIRECTORY_THEN_CRASHES
    )
    with thawed_afterwards(binary.parent):
        exit_code, output = run_self_update(paths, binary)
    old = bundle_id(OLD)
    assert exit_code == 1
    assert "failed its start probe (exit 139)" in output
    assert f"; and restoring {binary} -> {old}/archy-node failed: " in output
    assert f"point it back by hand (ln -sfn {old}/archy-node {binary})" in output
    assert "Traceback" not in output
    # what the message tells the owner to use is really there, and the bad bundle is linked
    assert (binary.parent / old / "archy-node").read_bytes() == OLD
    assert binary.readlink() == Path(bundle_id(FREEZES_ITS_DIRECTORY_THEN_CRASHES), "archy-node")
    assert not rejected_marker_path(binary).exists()
    assert not previous_binary_path(binary).exists()
