"""Self-update against a signed repository on 127.0.0.1, with stand-in binaries as targets.

Each test installs an "old" archy-node, publishes a catalog naming a new one,
pulls, and runs ``archy-node self-update`` (the click command, in process,
without re-exec; one test re-executes through a real ``python -m node_runtime``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from catalog.address import blake3_hex
from node_runtime.commands import main
from node_runtime.fetch.pull import pull
from node_runtime.fetch.tuf_client import Updater
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
    install_binary,
    pulled_node,
    stand_in_binary,
)
from tests.support.tuf_fixtures import RepositoryServer

OLD = stand_in_binary("archy-node 0.0.1-old")
NEW = stand_in_binary("archy-node 0.0.2-new")
CRASHES_AT_START = stand_in_binary("Segmentation fault", exit_code=139)
NEVER_ANSWERS = stand_in_binary(never_answers=True)


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
    repository.offer(offered)
    paths = pulled_node(tmp_path / "state", repository, server.url)
    return paths, install_binary(tmp_path / "bin", OLD)


def test_a_working_new_binary_is_swapped_in_and_the_previous_one_kept(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, NEW)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 0, output
    assert f"updated to blake3 {blake3_hex(NEW)} (archy-node 0.0.2-new)" in output
    assert binary.read_bytes() == NEW
    assert binary.stat().st_mode & 0o777 == 0o755
    assert previous_binary_path(binary).read_bytes() == OLD
    assert sorted(p.name for p in binary.parent.iterdir()) == [
        "archy-node",
        "archy-node.previous",
    ]
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
    assert report["installed_blake3"] == blake3_hex(OLD)
    assert report["offered_blake3"] == blake3_hex(NEW)
    assert binary.read_bytes() == OLD
    assert not previous_binary_path(binary).exists()


def test_a_new_binary_that_fails_to_start_is_rolled_back_and_not_tried_again(
    tmp_path: Path, node_repository: NodeBinaryRepository, repository_server: RepositoryServer
) -> None:
    paths, binary = offered_node(tmp_path, node_repository, repository_server, CRASHES_AT_START)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1
    assert "failed its start probe (exit 139)" in output
    assert "the previous binary is back in place" in output
    assert binary.read_bytes() == OLD
    assert previous_binary_path(binary).read_bytes() == OLD
    assert rejected_marker_path(binary).read_text().strip() == blake3_hex(CRASHES_AT_START)

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
    served = node_repository.published_binary_path(NEW)
    served.write_bytes(NEW.replace(b"new", b"bad"))  # same length, other bytes

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 1
    assert "refused the download of node/archy-node-linux-amd64" in output
    assert "hash does not match" in output
    assert binary.read_bytes() == OLD
    assert sorted(p.name for p in binary.parent.iterdir()) == ["archy-node"]


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
        self_update(updater, binary, node_target_name("linux-amd64"), blake3_hex(OLD))
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
    node_repository.offer(newer)
    pull(paths)

    exit_code, output = run_self_update(paths, binary)

    assert exit_code == 0, output
    assert binary.read_bytes() == newer
    assert previous_binary_path(binary).read_bytes() == NEW


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
