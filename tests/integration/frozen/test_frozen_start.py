"""What the frozen archy-node writes and imports at start, and what it leaves for later.

The node runs the one-dir bundle: its libraries lie on disk in ``_internal/``, so a start
unpacks nothing (the one-file binary wrote 13.5 MB to a temporary directory at every
start), and ``node_runtime/deferred_libraries.py`` finds every library it would unpack
already there.  What a start costs is then the modules it imports.  These tests hold that
without timing anything: nothing written at start, the modules a command imports (the
binary's hidden ``--write-imported-modules``), and the libraries a command does need
loading when it needs them.  The start times themselves are in ``bench/node_binary.py``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from node_runtime.deferred_libraries import DEFERRED, missing_entries
from tests.integration.self_update.node_binary_repository import (
    NodeBinaryRepository,
    stand_in_binary,
    stand_in_bundle,
)
from tests.realparts.required import require_tool
from tests.support.tuf_fixtures import RepositoryServer
from tests.support.tuf_oracle import PythonTufRepository

pytestmark = pytest.mark.integration

# Packages `version` and `tuf --help` must not import: the libraries unpacked on first
# use, and the HTTP, YAML, model and terminal libraries of the commands that do work.
NOT_AT_START = {
    "iroh",
    "nostr_sdk",
    "cryptography",
    "httpx",
    "httpcore",
    "anyio",
    "rich",
    "pygments",
    "pydantic",
    "ruamel",
    "yaml",
    "ssl",
    "asyncio",
}


def modules_imported_by(
    binary: Path, tmp_path: Path, *arguments: str | Path, environment: dict[str, str] | None = None
) -> set[str]:
    """Run the binary; the modules it imported (it must exit 0)."""
    listing = tmp_path / "imported-modules.txt"
    result = subprocess.run(
        [binary, "--write-imported-modules", listing, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=None if environment is None else {**os.environ, **environment},
    )
    assert result.returncode == 0, result.stderr
    return set(listing.read_text().splitlines())


def imported_by(binary: Path, tmp_path: Path, *arguments: str | Path) -> set[str]:
    """Run the binary; the top-level packages it imported (it must exit 0)."""
    return {name.split(".")[0] for name in modules_imported_by(binary, tmp_path, *arguments)}


def test_the_bundle_has_every_library_on_disk_and_a_start_writes_nothing(
    archy_node_binary: Path, tmp_path: Path
) -> None:
    internal = archy_node_binary.parent / "_internal"
    deferred = {name for names in DEFERRED.values() for name in names}

    assert {name for name in deferred if (internal / name).is_file()} == deferred
    assert missing_entries(archy_node_binary, internal) == []  # the finder has nothing to do
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    for arguments in (("version",), ("tuf", "--help"), ("status", "--help")):
        result = subprocess.run(
            [archy_node_binary, *arguments],
            capture_output=True,
            env={**os.environ, "TMPDIR": str(scratch)},
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert list(scratch.iterdir()) == []  # a one-file binary unpacks into TMPDIR here


def test_version_and_tuf_help_import_none_of_the_libraries_they_do_not_need(
    archy_node_binary: Path, tmp_path: Path
) -> None:
    for arguments in (("version",), ("tuf", "--help")):
        imported = imported_by(archy_node_binary, tmp_path, *arguments)

        assert {"click", "catalog", "node_runtime"} <= imported  # the listing is real
        assert imported & NOT_AT_START == set(), arguments
    # the conformance client, started once per step, needs no models
    assert "pydantic_core" not in imported_by(archy_node_binary, tmp_path, "tuf", "--help")
    # the local commands fetch nothing: no HTTP client (a seed or a pull imports it)
    local = imported_by(archy_node_binary, tmp_path, "status", "--help")
    assert local & {"httpx", "httpcore", "anyio", "iroh", "nostr_sdk", "cryptography"} == set()
    assert "_hashlib" not in imported_by(archy_node_binary, tmp_path, "version")  # no OpenSSL
    assert {"blake3", "nacl", "pydantic_core"} <= imported_by(
        archy_node_binary, tmp_path, "version"
    )


def test_a_repository_signed_with_ecdsa_keys_unpacks_cryptography_when_first_checked(
    archy_node_binary: Path, tmp_path: Path
) -> None:
    repository = PythonTufRepository(tmp_path / "repository", key_type="ecdsa")
    (tmp_path / "root.json").write_bytes(repository.root_bytes(1))
    server = RepositoryServer(repository.directory)
    try:
        metadata = ("tuf", "--metadata-dir", tmp_path / "metadata")
        assert imported_by(archy_node_binary, tmp_path, *metadata, "init", tmp_path / "root.json")
        refreshed = imported_by(
            archy_node_binary,
            tmp_path,
            *metadata,
            "--metadata-url",
            f"{server.url}/metadata/",
            "refresh",
        )
    finally:
        server.close()

    assert "cryptography" in refreshed  # loaded from the library unpacked on demand
    assert {"pydantic_core", "httpx", "iroh"} & refreshed == set()  # still packed
    assert (tmp_path / "metadata" / "timestamp.json").exists()  # every ECDSA signature held


def test_an_iroh_seed_unpacks_iroh_and_binds_its_endpoint(
    archy_node_binary: Path, tmp_path: Path
) -> None:
    """Inside a loopback-only network namespace (iroh probes the host network otherwise)."""
    require_tool("unshare")
    (tmp_path / "blobs").mkdir()
    command = (
        f"ip link set lo up && exec {archy_node_binary} seed serve --store {tmp_path}"
        " --http 127.0.0.1:0 --iroh 127.0.0.1:0"
    )
    with subprocess.Popen(
        ["unshare", "-n", "sh", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as seed:
        try:
            assert seed.stdout is not None
            first_lines = [seed.stdout.readline(), seed.stdout.readline()]
        finally:
            seed.terminate()
            _, errors = seed.communicate(timeout=60)

    assert any(line.startswith("iroh seed: iroh://") for line in first_lines), errors
    assert "Traceback" not in errors


def test_the_bundle_leaves_out_what_the_node_never_imports(archy_node_binary: Path) -> None:
    archive = CArchiveReader(str(archy_node_binary))
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    internal = archy_node_binary.parent / "_internal"
    files = {name.split(".")[0] for _root, _dirs, names in os.walk(internal) for name in names}

    never_imported = {"pydantic.v1", "_pydecimal", "rich", "pygments", "markdown_it"}
    assert modules & never_imported == set()
    assert {"pydantic", "pydantic_core", "decimal"} <= modules  # what they would replace
    assert files & {"_codecs_cn", "_codecs_jp", "_codecs_kr", "_multibytecodec"} == set()


def test_status_and_list_import_no_engine_the_node_does_not_use(
    archy_node_binary: Path,
    tmp_path: Path,
    node_repository: NodeBinaryRepository,
    repository_server: RepositoryServer,
) -> None:
    """``--help`` loads no engine; on a podman node with nothing installed, ``status`` and
    ``list`` load none either (each command imports the engine it drives, on first use)."""
    node_repository.offer(stand_in_bundle(stand_in_binary("archy-node 0.0.2")))
    (tmp_path / "root.json").write_bytes(node_repository.root_bytes)
    state = ("--state-root", tmp_path / "state")
    origin = ("--origin", repository_server.url, "--engine", "podman")
    modules_imported_by(archy_node_binary, tmp_path, "init", *state, "--root",
                        tmp_path / "root.json", *origin)  # fmt: skip
    modules_imported_by(archy_node_binary, tmp_path, "pull", *state)
    engines = {f"node_runtime.engines.{name}" for name in
               ("podman_engine", "podman_args", "quadlet_engine", "stage_engine")}  # fmt: skip

    for arguments in (("status", "--help"), ("list", "--help"), ("status", *state),
                      ("list", *state)):  # fmt: skip
        imported = modules_imported_by(archy_node_binary, tmp_path, *arguments)
        assert "node_runtime.engines" in imported  # the listing is real
        assert imported & engines == set(), arguments
