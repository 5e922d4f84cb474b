"""The iroh seed (archy/blobs/1 over QUIC) in a loopback-only network namespace.

Every iroh endpoint of this module is bound inside ``unshare -n`` with only
``lo`` up and relays disabled (iroh probes UPnP on the host network
otherwise), so nothing leaves the machine.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from catalog.address import blake3_hex
from node_runtime.fetch.iroh_send_buffer import install_fast_send_buffer
from tests.realparts.required import require_tool

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]


def in_loopback_namespace(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = " ".join(["ip link set lo up && exec", sys.executable, *arguments])
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", command],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_send_buffer_writer_copies_the_same_bytes_as_the_bindings_own() -> None:
    from iroh import iroh_ffi

    data = random.Random(1).randbytes(70_000)
    assert install_fast_send_buffer()
    patched = iroh_ffi._UniffiRustBufferBuilder()
    patched.write(b"header")
    patched.write(data)
    patched.write(bytearray(b"tail"))
    buffer = patched.finalize()
    try:
        assert buffer.data[0 : buffer.len] == b"header" + data + b"tail"
    finally:
        buffer.free()
    assert install_fast_send_buffer()  # idempotent


def test_iroh_and_http_seeds_give_byte_identical_blobs(tmp_path: Path) -> None:
    require_tool("unshare")
    archive = random.Random(3).randbytes(6 * 1024 * 1024 + 12_345)
    blake3 = blake3_hex(archive)
    (tmp_path / blake3).write_bytes(archive)
    (tmp_path / blake3_hex(b"")).write_bytes(b"")
    finished = in_loopback_namespace(
        "-m", "tests.integration.seeds.iroh_scenario", str(tmp_path), blake3, str(len(archive))
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    results = json.loads(finished.stdout.strip().splitlines()[-1])
    assert results["send_buffer_patched"]
    assert results["iroh"]["blake3"] == results["http"]["blake3"] == blake3
    assert results["both"]["blake3"] == blake3
    assert results["iroh"]["dropped"] == {} and results["both"]["dropped"] == {}
    assert sum(results["both"]["bytes_by_source"].values()) == len(archive)
    assert results["empty"]["blake3"] == blake3_hex(b"")
    assert "does not have it" in results["unknown_blob"]
    assert results["seed_url"].startswith("iroh://")


def test_an_iroh_seed_that_sends_fewer_or_more_bytes_than_it_announced_is_refused() -> None:
    require_tool("unshare")
    finished = in_loopback_namespace("-m", "tests.integration.seeds.iroh_hostile_scenario")
    assert finished.returncode == 0, finished.stderr[-3000:]
    results = json.loads(finished.stdout.strip().splitlines()[-1])
    length = 3 * (1 << 20) + 17
    short, long, honest = results["short"], results["long"], results["honest"]
    assert short["outcome"].startswith("SeedFaultError: seed iroh://")
    assert f"ended the stream before the {length} bytes announced" in short["outcome"]
    assert short["sink_bytes"] < length - 1000  # no byte past what the seed really sent
    assert long["outcome"].endswith(f"sent more than the {length} bytes announced")
    assert long["sink_bytes"] == length  # the extra bytes never reach the sink
    assert honest == {"outcome": "accepted", "sink_bytes": length}
