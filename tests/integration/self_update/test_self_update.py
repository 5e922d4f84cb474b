"""Self-update against a signed repository on 127.0.0.1, with stand-in bundles as targets.

Each test installs an "old" archy-node bundle (``<prefix>/archy-node`` linked to
``archy-node-<16 hex>/archy-node``), publishes a catalog naming a new one, pulls, and
runs ``archy-node self-update`` (the click command, in process, without re-exec; one
test re-executes through a real ``python -m node_runtime``, one kills it mid-update).
"""

from __future__ import annotations

import io
import json
import lzma
import os
import signal
import subprocess
import sys
import tarfile
from pathlib import Path

from click.testing import CliRunner

from catalog.address import blake3_hex
from node_runtime.commands import main
from node_runtime.fetch.pull import pull
from node_runtime.fetch.tuf_client import Updater
from node_runtime.install_layout import bundle_directory_name
from node_runtime.self_update import (
    SelfUpdateError,
    node_target_name,
    previous_binary_path,
    rejected_marker_path,
    self_update,
)
from node_runtime.store.paths import NodePaths
from tests.integration.self_update.node_binary_repository import (
    NodeBinaryRepository,
    install_bundle,
    pulled_node,
    stand_in_binary,
    stand_in_bundle,
)
from tests.realparts.wait import poll_until
from tests.support.tuf_fixtures import RepositoryServer

OLD = stand_in_binary("archy-node 0.0.1-old")
NEW = stand_in_binary("archy-node 0.0.2-new")
CRASHES_AT_START = stand_in_binary("Segmentation fault", exit_code=139)
NEVER_ANSWERS = stand_in_binary(never_answers=True)


def bundle_id(script: bytes) -> str:
    """The directory the stand-in bundle of ``script`` is unpacked to."""
    return bundle_directory_name(blake3_hex(stand_in_bundle(script)))


def b3(script: bytes) -> str:
    return blake3_hex(stand_in_bundle(script))


def run_self_update(paths: NodePaths, binary: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        [
            "self-update",
            "--state-root",
            str(paths.root),
            "--binary",
            str(binary),
            "--no-reexec",
            "--probe-timeout",
            "5",
            *extra,
        ],
    )
    return result.exit_code, result.output


def offered_node(
    tmp_path: Path, repository: NodeBinaryRepository, server: RepositoryServer, offered: bytes
) -> tuple[NodePaths, Path]:
    repository.offer(stand_in_bundle(offered))
    paths = pulled_node(tmp_path / "state", repository, server.url)
    return paths, install_bundle(tmp_path / "bin", stand_in_bundle(OLD))


def test_a_working_new_binary_is_swapped_in_and_the_previous_one_kept(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 0, output
    assert f"updated to blake3 {b3(NEW)} (archy-node 0.0.2-new)" in output
    assert binary.read_bytes() == NEW
    assert binary.stat().st_mode & 0o777 == 0o755
    assert binary.readlink() == Path(bundle_id(NEW), "archy-node")
    assert previous_binary_path(binary).read_bytes() == OLD
    assert previous_binary_path(binary).readlink() == Path(bundle_id(OLD), "archy-node")
    assert sorted(p.name for p in binary.parent.iterdir()) == sorted(
        ["archy-node", "archy-node.previous", bundle_id(OLD), bundle_id(NEW)]
    )
    again_code, again = run_self_update(paths, binary)
    assert again_code == 0 and "is up to date" in again


def test_check_only_says_an_update_is_offered_and_changes_nothing(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)

    exit_code, output = run_self_update(paths, binary, "--check", "--json")

    assert exit_code == 0, output
    report = json.loads(output)
    assert report["update_offered"] is True
    assert report["installed_bundle"] == bundle_id(OLD)
    assert report["offered_blake3"] == b3(NEW)
    assert binary.read_bytes() == OLD
    assert not previous_binary_path(binary).exists()


def test_a_new_binary_that_fails_to_start_is_rolled_back_and_not_tried_again(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, CRASHES_AT_START)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1
    assert "failed its start probe (exit 139)" in output
    assert f"{binary} still names {bundle_id(OLD)}" in output
    assert binary.read_bytes() == OLD
    assert not previous_binary_path(binary).exists()  # nothing was swapped
    assert rejected_marker_path(binary).read_text().strip() == b3(CRASHES_AT_START)
    assert sorted(p.name for p in binary.parent.iterdir()) == sorted(
        ["archy-node", "archy-node.rejected", bundle_id(OLD)]
    )

    again_code, again = run_self_update(paths, binary)
    assert again_code == 1
    assert "failed to start before" in again
    assert binary.read_bytes() == OLD


def test_a_new_binary_that_never_answers_is_stopped_at_the_deadline_and_rolled_back(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEVER_ANSWERS)

    exit_code, output = run_self_update(paths, binary, "--probe-timeout", "1")

    assert exit_code == 1
    assert "did not answer `version` within 1 s" in output
    assert binary.read_bytes() == OLD


def test_a_tampered_download_is_refused_before_anything_is_swapped(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)
    served = node_repository.published_binary_path(stand_in_bundle(NEW))
    served.write_bytes(stand_in_bundle(NEW.replace(b"new", b"bad")))  # another bundle

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1
    assert "refused the download of node/archy-node-linux-amd64.tar.xz" in output
    assert "does not match" in output
    assert binary.read_bytes() == OLD
    assert sorted(p.name for p in binary.parent.iterdir()) == ["archy-node", bundle_id(OLD)]


def test_the_catalog_and_the_signed_target_must_name_the_same_binary(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)
    updater = Updater(
        paths.trust_dir,
        f"{repository_server.url}/metadata/",
        target_dir=tmp_path / "downloads",
        target_base_url=f"{repository_server.url}/targets/",
    )

    try:
        self_update(updater, binary, node_target_name("linux-amd64"), b3(OLD))
    except SelfUpdateError as error:
        assert "pull again and retry" in str(error)
    else:
        raise AssertionError("a catalog disagreeing with the signed targets was accepted")
    assert binary.read_bytes() == OLD


def test_a_later_catalog_naming_another_binary_updates_again(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)
    assert run_self_update(paths, binary)[0] == 0
    newer = stand_in_binary("archy-node 0.0.3-newer")
    node_repository.offer(stand_in_bundle(newer))
    pull(paths)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 0, output
    assert binary.read_bytes() == newer
    assert previous_binary_path(binary).read_bytes() == NEW
    # the bundle before the previous one is gone
    assert sorted(p.name for p in binary.parent.iterdir()) == sorted(
        ["archy-node", "archy-node.previous", bundle_id(NEW), bundle_id(newer)]
    )


def test_after_an_update_the_command_re_executes_the_new_binary(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "node_runtime",
            "self-update",
            "--state-root",
            str(paths.root),
            "--binary",
            str(binary),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    # The last line comes from the new binary itself: the process became it.
    assert completed.stdout.strip().splitlines()[-1] == "archy-node 0.0.2-new"


# a bundle that starts where it lies but fails through the link (the path systemd runs)
FAILS_THROUGH_THE_LINK = (
    b'#!/bin/sh\nif [ "$1" != version ]; then exit 64; fi\n'
    b'case "$0" in */archy-node-*/archy-node) echo "archy-node 0.0.4";; '
    b'*) echo "cannot find _internal" >&2; exit 3;; esac\n'
)


def test_a_bundle_that_fails_through_the_link_is_swapped_back(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(
        tmp_path, node_repository, repository_server, FAILS_THROUGH_THE_LINK
    )

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1, output
    assert "failed its start probe (exit 3): cannot find _internal" in output
    assert f"{binary} names {bundle_id(OLD)} again" in output
    assert binary.readlink() == Path(bundle_id(OLD), "archy-node")
    assert rejected_marker_path(binary).read_text().strip() == b3(FAILS_THROUGH_THE_LINK)
    assert sorted(p.name for p in binary.parent.iterdir()) == sorted(
        ["archy-node", "archy-node.rejected", bundle_id(OLD)]
    )


def test_a_hostile_bundle_signed_by_the_repository_is_refused_before_anything_is_swapped(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    """The targets keys vouch for the bytes, not for the archive being safe to unpack."""
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        entry = tarfile.TarInfo("archy-node")
        entry.size, entry.mode = len(NEW), 0o755
        tar.addfile(entry, io.BytesIO(NEW))
        escape = tarfile.TarInfo("_internal/libc.so.6")
        escape.type, escape.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
        tar.addfile(escape)
    bundle = lzma.compress(hostile.getvalue())
    node_repository.offer(bundle)
    paths = pulled_node(tmp_path / "state", node_repository, repository_server.url)
    binary = install_bundle(tmp_path / "bin", stand_in_bundle(OLD))

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1
    assert output.strip() == (
        "error: refused the bundle node/archy-node-linux-amd64.tar.xz: _internal/libc.so.6: "
        "a symlink that leaves the bundle (../../../../etc/passwd); nothing was swapped"
    )
    assert sorted(p.name for p in binary.parent.iterdir()) == ["archy-node", bundle_id(OLD)]


def test_a_binary_that_is_not_the_link_of_a_one_dir_install_is_refused(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    node_repository.offer(stand_in_bundle(NEW))
    paths = pulled_node(tmp_path / "state", node_repository, repository_server.url)
    one_file = tmp_path / "bin" / "archy-node"
    one_file.parent.mkdir()
    one_file.write_bytes(OLD)
    one_file.chmod(0o755)

    exit_code, output = run_self_update(paths, one_file)

    assert exit_code == 1
    assert output.strip() == (
        f"error: {one_file} is not a symlink to archy-node-<blake3>/archy-node beside it "
        "(the one-dir install; see docs/self-update.md)"
    )
    assert one_file.read_bytes() == OLD
    assert sorted(p.name for p in one_file.parent.iterdir()) == ["archy-node"]


def test_an_update_killed_mid_way_leaves_the_old_bundle_running_and_the_next_one_cleans_up(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    """SIGKILL while the new bundle answers its probe (unpacked, renamed into place, the
    link not swapped); then the next update, to another bundle, removes what was left."""
    started = tmp_path / "probe-started"
    hangs = (
        f'#!/bin/sh\nif [ "$1" = version ]; then echo $$ > {started}.tmp; '
        f"mv {started}.tmp {started}; exec sleep 3600; fi\nexit 64\n"
    ).encode()
    paths, binary = offered_node(tmp_path, node_repository, repository_server, hangs)
    command = [sys.executable, "-m", "node_runtime", "self-update", "--state-root",
               str(paths.root), "--binary", str(binary), "--no-reexec"]  # fmt: skip
    updating = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        poll_until(started.exists, timeout=120, what="the new bundle's probe to start")
    finally:
        updating.kill()
        updating.communicate()
        if started.exists():
            os.kill(int(started.read_text()), signal.SIGKILL)
    # what a kill inside the unpack would leave as well (made by hand: no kill lands there
    # reliably): a partial directory beside the bundles
    partial = binary.parent / f".{bundle_id(NEW)}.incoming-999999"
    (partial / "_internal").mkdir(parents=True)
    assert binary.read_bytes() == OLD  # the link never moved
    assert (binary.parent / bundle_id(hangs)).is_dir()

    node_repository.offer(stand_in_bundle(NEW))
    pull(paths)
    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 0, output
    assert binary.read_bytes() == NEW
    assert sorted(p.name for p in binary.parent.iterdir()) == sorted(
        ["archy-node", "archy-node.previous", bundle_id(OLD), bundle_id(NEW)]
    )
