"""``archy-node seed serve``: a real process serving a store over HTTP on 127.0.0.1, and refusing
every bad argument with one line and exit 1 (no traceback, nothing served or written)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from catalog.address import blake3_hex


def test_archy_seed_serve_serves_a_store_over_http(tmp_path: Path) -> None:
    (tmp_path / "blobs").mkdir()
    blob = b"a blob served by the seed command"
    (tmp_path / "blobs" / blake3_hex(blob)).write_bytes(blob)
    command = [sys.executable, "-m", "node_runtime", "seed", "serve", "--store", str(tmp_path)]
    with subprocess.Popen(
        [*command, "--no-iroh", "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            assert line.startswith("http seed: http://127.0.0.1:")
            base = line.split(": ", 1)[1].strip().removesuffix("/blobs/<blake3>")
            answer = httpx.get(f"{base}/blobs/{blake3_hex(blob)}", headers={"Range": "bytes=2-5"})
            assert answer.status_code == 206
            assert answer.content == blob[2:6]
        finally:
            server.terminate()


# --- every bad argument: one line on stderr, exit 1, nothing served ---


# the `seed` command group on its own starts in a fraction of the time the whole program takes
SEED_GROUP = (
    "import sys; from node_runtime.commands.seed import seed; seed(['serve', *sys.argv[1:]])"
)


def refusal_of(
    arguments: list[str], prefix: list[str] | None = None, whole_cli: bool = False
) -> str:
    """Run ``archy-node seed serve`` that must refuse; its one stderr line (stdout stays empty)."""
    entry = ["-m", "node_runtime", "seed", "serve"] if whole_cli else ["-c", SEED_GROUP]
    command = [sys.executable, *entry, *arguments]
    done = subprocess.run(
        [*(prefix or []), *command], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    (tmp_path / "store" / "blobs").mkdir(parents=True)
    return tmp_path / "store"


@pytest.mark.parametrize(
    ("http", "refusal"),
    [
        ("127.0.0.1:99999", "--http '127.0.0.1:99999': use HOST:PORT with a port 0-65535"),
        ("bad host:1", "--http 'bad host:1': 'bad host' is not a host name or address"),
        ("127.0.0.1", "--http '127.0.0.1': use HOST:PORT with a port 0-65535"),
        ("127.0.0.1:-1", "--http '127.0.0.1:-1': use HOST:PORT with a port 0-65535"),
    ],
)
def test_a_bad_http_address_is_one_line_and_exit_1(store: Path, http: str, refusal: str) -> None:
    line = refusal_of(["--store", str(store), "--no-iroh", "--http", http])
    assert line.startswith(f"error: {refusal}")


def test_a_bad_iroh_address_is_one_line_and_exit_1(store: Path) -> None:
    line = refusal_of(["--store", str(store), "--http", "127.0.0.1:0", "--iroh", "0.0.0.0:70000"])
    assert line.startswith("error: --iroh '0.0.0.0:70000': use HOST:PORT")


def test_a_port_in_use_is_one_line_and_exit_1(store: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        arguments = ["--store", str(store), "--no-iroh", "--http", f"127.0.0.1:{port}"]
        line = refusal_of(arguments, whole_cli=True)
    assert line == f"error: --http 127.0.0.1:{port}: cannot listen there (Address already in use)"


def test_a_missing_store_or_a_file_as_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    line = refusal_of(["--store", str(missing), "--no-iroh", "--http", "127.0.0.1:0"])
    assert line == f"error: --store {missing}: no such directory"
    (tmp_path / "a-file").write_text("not a store")
    line = refusal_of(["--store", str(tmp_path / "a-file"), "--no-iroh", "--http", "127.0.0.1:0"])
    assert line == f"error: --store {tmp_path / 'a-file'}: not a directory"


def test_an_unreadable_store_is_one_line_and_exit_1(store: Path) -> None:
    (store / "blobs").chmod(0)
    # root reads anything: run the command without the capabilities that bypass permissions
    unprivileged = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    try:
        line = refusal_of(
            ["--store", str(store), "--no-iroh", "--http", "127.0.0.1:0"],
            prefix=unprivileged if os.geteuid() == 0 else None,
        )
    finally:
        (store / "blobs").chmod(0o755)
    assert line == f"error: --store {store}: cannot read it (Permission denied)"


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        (None, "cannot read it (No such file or directory)"),
        (b"short", "a token is one word of at least 16 characters"),
        (b"two words of more than sixteen", "a token is one word of at least 16 characters"),
        (b"\xff\xfe-not-utf-8-at-all-xxxxxxxx", "not UTF-8 text"),
        ("a directory", "cannot read it (Is a directory)"),
    ],
    ids=["missing", "too short", "two words", "not UTF-8", "a directory"],
)
def test_a_bad_token_file_is_one_line_and_exit_1(
    store: Path, tmp_path: Path, content: bytes | str | None, refusal: str
) -> None:
    token_file = tmp_path / "token"
    if isinstance(content, bytes):
        token_file.write_bytes(content)
    elif content is not None:
        token_file.mkdir()
    arguments = ["--store", str(store), "--no-iroh", "--http", "127.0.0.1:0"]
    line = refusal_of([*arguments, "--accept-uploads-token-file", str(token_file)])
    assert line == f"error: --accept-uploads-token-file {token_file}: {refusal}"
    assert not (store / "metadata").exists()  # nothing written


@pytest.mark.parametrize("value", ["-1", "lots", "9" * 5000])
def test_a_bad_upload_limit_is_one_line_and_exit_1(store: Path, value: str) -> None:
    arguments = ["--store", str(store), "--no-iroh", "--http", "127.0.0.1:0"]
    line = refusal_of([*arguments, "--max-upload-bytes", value])
    assert line.startswith("error: --max-upload-bytes ")
    assert line.endswith(": a whole number of bytes (0 or more)")
