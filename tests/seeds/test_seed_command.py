"""``archy seed serve``: a real process serving a store over HTTP on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from catalog.address import blake3_hex


def test_archy_seed_serve_serves_a_store_over_http(tmp_path: Path) -> None:
    (tmp_path / "blobs").mkdir()
    blob = b"a blob served by the seed command"
    (tmp_path / "blobs" / blake3_hex(blob)).write_bytes(blob)
    command = [sys.executable, "-m", "pipeline.cli", "seed", "serve", "--store", str(tmp_path)]
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
