"""What the frozen archy-node unpacks and imports at start, and what it leaves for later.

The one-file binary unpacks its libraries at every start; iroh, nostr-sdk,
cryptography's Rust extension, pydantic-core and OpenSSL (47 of about 60 MB) stay packed
until their package is first imported (``node_runtime/deferred_libraries.py``).  These tests
hold that without timing anything: the archive's entry types, the modules a command
imports (the binary's hidden ``--write-imported-modules``), and each deferred library
doing its work when a command needs it.  The start times themselves are in ``bench/node_binary.py``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PyInstaller.archive.readers import CArchiveReader

from node_runtime.deferred_libraries import DEFERRED, DEFERRED_TYPECODE
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


def imported_by(binary: Path, tmp_path: Path, *arguments: str | Path) -> set[str]:
    """Run the binary; the top-level packages it imported (it must exit 0)."""
    listing = tmp_path / "imported-modules.txt"
    result = subprocess.run(
        [binary, "--write-imported-modules", listing, *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {line.split(".")[0] for line in listing.read_text().splitlines()}


def test_the_deferred_libraries_are_listed_in_the_archive_but_not_unpacked_at_start(
    archy_node_binary: Path,
) -> None:
    toc = CArchiveReader(str(archy_node_binary)).toc
    deferred = [name for names in DEFERRED.values() for name in names]

    # (offset, stored length, length, compressed, type): the bootloader unpacks b, x, Z, n
    assert {name: toc[name][4] for name in deferred} == dict.fromkeys(deferred, DEFERRED_TYPECODE)
    assert all(toc[name][3] for name in deferred)  # compressed like the rest
    unpacked_at_start = sum(entry[2] for entry in toc.values() if entry[4] in "bxZn")
    assert unpacked_at_start < 16_000_000  # was 60.7 MB with all of them unpacked


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


def test_the_archive_leaves_out_what_the_node_never_imports(archy_node_binary: Path) -> None:
    archive = CArchiveReader(str(archy_node_binary))
    modules = set(archive.open_embedded_archive("PYZ.pyz").toc)
    files = {name.rsplit("/", 1)[-1].split(".")[0] for name in archive.toc}

    never_imported = {"pydantic.v1", "_pydecimal", "rich", "pygments", "markdown_it"}
    assert modules & never_imported == set()
    assert {"pydantic", "pydantic_core", "decimal"} <= modules  # what they would replace
    assert files & {"_codecs_cn", "_codecs_jp", "_codecs_kr", "_multibytecodec"} == set()
