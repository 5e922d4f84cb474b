"""The frozen archy-node: what is inside it, and the node's commands run through it.

The one-dir bundle is built once per session by scripts/build-node-binary (cached by
source hash, see tests/support/frozen_build.py) and talks only to servers on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from catalog.address import blake3_hex
from node_runtime.install_layout import bundle_directory_name
from node_runtime.self_update import previous_binary_path
from tests.integration.self_update.node_binary_repository import (
    NodeBinaryRepository,
    install_bundle,
    stand_in_binary,
    stand_in_bundle,
)
from tests.support.frozen_build import frozen_bundle_archive
from tests.support.repos import LiveRepository
from tests.support.tuf_fixtures import RepositoryServer

pytestmark = pytest.mark.integration

PUBLISHER_ONLY = ("boto3", "botocore", "s3transfer", "git", "gitdb", "jinja2", "pipeline")
COMPILED_EXTENSIONS = (
    "_cffi_backend.cpython-311-x86_64-linux-gnu.so",
    "nacl/_sodium.abi3.so",
    "blake3/blake3.cpython-311-x86_64-linux-gnu.so",
    "pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so",
    "iroh/libiroh_ffi.so",  # loaded with ctypes: collected by the spec, not by imports
    "nostr_sdk/libnostr_sdk_ffi.so",  # the same, for `archy-node discover`
)


def run(binary: Path, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def archive_contents(binary: Path) -> tuple[set[str], set[str]]:
    """(files of the bundle, under ``_internal/``; Python modules in the executable's PYZ)."""
    modules = set(CArchiveReader(str(binary)).open_embedded_archive("PYZ.pyz").toc)
    internal = binary.parent / "_internal"
    files = {
        os.path.relpath(os.path.join(root, name), internal)
        for root, _dirs, names in os.walk(internal)
        for name in names
    }
    return files, modules


def test_the_binary_holds_the_compiled_extensions_and_none_of_the_publisher(
    archy_node_binary: Path,
) -> None:
    files, modules = archive_contents(archy_node_binary)

    assert set(COMPILED_EXTENSIONS) <= files
    assert {"node_runtime.commands", "node_runtime.self_update", "catalog.catalog_model"} <= modules
    assert {"signing.trusted_set", "nacl.signing", "httpx"} <= modules
    top_level = {name.split(".")[0] for name in modules} | {
        name.split("/")[0].split("-")[0] for name in files
    }
    assert not top_level & set(PUBLISHER_ONLY)


def test_version_answers_after_loading_the_compiled_extensions(archy_node_binary: Path) -> None:
    result = run(archy_node_binary, "version")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "archy-node 0.1.0"


def test_the_tuf_conformance_commands_run_through_the_binary(
    tmp_path: Path, archy_node_binary: Path
) -> None:
    repository = LiveRepository(tmp_path / "repository")
    repository.add_artifact("files/hello.txt", b"hello from the repository\n")
    repository.publish()
    server = RepositoryServer(repository.directory)
    try:
        (tmp_path / "root.json").write_bytes(repository.root_bytes(1))
        common = ("tuf", "--metadata-dir", tmp_path / "metadata")
        remote = ("--metadata-url", f"{server.url}/metadata/")

        initialised = run(archy_node_binary, *common, "init", tmp_path / "root.json")
        refreshed = run(archy_node_binary, *common, *remote, "refresh")
        downloaded = run(
            archy_node_binary,
            *common,
            *remote,
            "--target-name",
            "files/hello.txt",
            "--target-base-url",
            f"{server.url}/targets/",
            "--target-dir",
            tmp_path / "targets",
            "download",
        )
    finally:
        server.close()

    for result in (initialised, refreshed, downloaded):
        assert result.returncode == 0, result.stderr
    downloaded_file = tmp_path / "targets" / "files%2Fhello.txt"
    assert downloaded_file.read_bytes() == b"hello from the repository\n"
    assert (tmp_path / "metadata" / "timestamp.json").exists()


def test_discover_loads_nostr_sdk_inside_the_binary(archy_node_binary: Path) -> None:
    """The Nostr client is a Rust library loaded with ctypes: without it in the archive,
    discover would crash with an import error instead of reaching the relay."""
    result = run(archy_node_binary, "discover", "--relay", "ws://127.0.0.1:9")

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("error: no relay answered (ws://127.0.0.1:9: ")
    assert "Traceback" not in result.stderr


def test_init_pull_and_apply_run_through_the_binary(
    tmp_path: Path,
    archy_node_binary: Path,
    node_repository: NodeBinaryRepository,
    repository_server: RepositoryServer,
) -> None:
    node_repository.offer(stand_in_bundle(stand_in_binary("archy-node 0.0.2-new")))
    (tmp_path / "root.json").write_bytes(node_repository.root_bytes)
    state = ("--state-root", tmp_path / "state")

    initialised = run(
        archy_node_binary, "init", *state, "--root", tmp_path / "root.json",
        "--origin", repository_server.url,
    )  # fmt: skip
    pulled = run(archy_node_binary, "pull", *state)
    # No app is installed: apply has nothing to change, through the podman engine.
    applied = run(
        archy_node_binary, "apply", *state, "--engine", "podman", "--data-root", tmp_path / "data"
    )

    assert initialised.returncode == 0, initialised.stderr
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "state" / "state" / "catalog.json").exists()
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "nothing to do"


def test_the_binary_updates_itself_and_becomes_the_new_binary(
    tmp_path: Path,
    archy_node_binary: Path,
    node_repository: NodeBinaryRepository,
    repository_server: RepositoryServer,
) -> None:
    frozen_archive = frozen_bundle_archive().read_bytes()
    installed = install_bundle(tmp_path / "bin", frozen_archive)  # the link, as a node has it
    new_script = stand_in_binary("archy-node 0.0.2-new")
    new = stand_in_bundle(new_script)
    node_repository.offer(new)
    (tmp_path / "root.json").write_bytes(node_repository.root_bytes)
    state = ("--state-root", tmp_path / "state")
    for command in (
        ("init", *state, "--root", tmp_path / "root.json", "--origin", repository_server.url),
        ("pull", *state),
    ):
        assert run(installed, *command).returncode == 0

    updated = run(installed, "self-update", *state)  # no --binary: it updates itself

    assert updated.returncode == 0, updated.stderr
    assert f"updated to blake3 {blake3_hex(new)}" in updated.stdout
    assert updated.stdout.strip().splitlines()[-1] == "archy-node 0.0.2-new"  # re-executed
    assert installed.read_bytes() == new_script
    assert installed.readlink() == Path(bundle_directory_name(blake3_hex(new)), "archy-node")
    assert blake3_hex(previous_binary_path(installed).read_bytes()) == blake3_hex(
        archy_node_binary.read_bytes()
    )
    assert previous_binary_path(installed).readlink() == Path(
        bundle_directory_name(blake3_hex(frozen_archive)), "archy-node"
    )
