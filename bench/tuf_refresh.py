"""Benchmark: our TUF client against python-tuf's on the same repository, same run.

Repository: 1,000 targets spread over 50 delegated roles (written by
signing.repository, served by http.server on 127.0.0.1).  Measured:

1. in-process cold refresh + lookup of a target in the last delegated role;
2. the conformance command line's cold start: ``archy-node tuf … refresh``
   as a fresh process, against an equivalent python-tuf one-liner.

Prints medians and the ratio ours / python-tuf.  Run: .venv/bin/python bench/tuf_refresh.py
"""

from __future__ import annotations

import functools
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tuf.ngclient import Updater as PythonTufUpdater

from node_runtime.fetch.tuf_client import Updater
from signing import repository as repo
from signing.keys import SigningKey
from signing.metadata import Metadata, Targets
from signing.metadata_fields import TOP_LEVEL_ROLES

ROLES, TARGETS, RUNS = 50, 1000, 15
EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build(directory: Path) -> tuple[bytes, str]:
    keys = {role: SigningKey.generate() for role in TOP_LEVEL_ROLES}
    root = repo.sign(
        repo.new_root(EXPIRES, {r: [k.public_key] for r, k in keys.items()}), [keys["root"]]
    )
    top = Targets(1, EXPIRES)
    delegated: dict[str, Metadata[Targets]] = {}
    artifacts = []
    per_role = TARGETS // ROLES
    for index in range(ROLES):
        name = f"role-{index:02d}"
        key = SigningKey.generate()
        top = repo.delegate(top, name, [key.public_key], paths=(f"{name}/*",))
        role_targets = Targets(1, EXPIRES)
        for number in range(per_role):
            data = f"{name} artifact {number}".encode()
            target = repo.target_file(f"{name}/file-{number}", data, ("sha256",))
            role_targets = repo.add_target(role_targets, target)
            artifacts.append((target, data))
        delegated[name] = repo.sign(role_targets, [key])
    targets_roles = {"targets": repo.sign(top, [keys["targets"]]), **delegated}
    snapshot = repo.sign(repo.snapshot_for(1, EXPIRES, targets_roles), [keys["snapshot"]])
    timestamp = repo.sign(repo.timestamp_for(1, EXPIRES, snapshot), [keys["timestamp"]])
    files = repo.consistent_snapshot_files([root], targets_roles, snapshot, timestamp, artifacts)
    for relative, data in files.items():
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        (directory / relative).write_bytes(data)
    return root.to_bytes(), f"role-{ROLES - 1:02d}/file-{per_role - 1}"


def median_seconds(action: Callable[[Path], object]) -> float:
    samples = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            action(Path(scratch))
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        served = Path(work) / "repository"
        root_bytes, deepest = build(served)
        handler = functools.partial(QuietHandler, directory=str(served))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/metadata"

        def ours(scratch: Path) -> None:
            (scratch / "root.json").write_bytes(root_bytes)
            assert Updater(scratch, url).get_targetinfo(deepest) is not None

        def theirs(scratch: Path) -> None:
            (scratch / "root.json").write_bytes(root_bytes)
            updater = PythonTufUpdater(str(scratch), url + "/", bootstrap=None)
            assert updater.get_targetinfo(deepest) is not None

        def our_cli(scratch: Path) -> None:
            (scratch / "root.json").write_bytes(root_bytes)
            command = [str(Path(sys.executable).parent / "archy-node")]
            subprocess.run(
                [*command, "tuf", "--metadata-dir", scratch, "--metadata-url", url, "refresh"],
                check=True, capture_output=True,
            )  # fmt: skip

        def their_cli(scratch: Path) -> None:
            (scratch / "root.json").write_bytes(root_bytes)
            script = (
                "import sys; from tuf.ngclient import Updater; "
                "Updater(sys.argv[1], sys.argv[2], bootstrap=None).refresh()"
            )
            subprocess.run(
                [sys.executable, "-c", script, scratch, url + "/"], check=True, capture_output=True
            )

        print(f"repository: {TARGETS} targets in {ROLES} delegated roles; median of {RUNS} runs")
        for label, mine, reference in [
            ("refresh + deepest lookup (in process)", ours, theirs),
            ("conformance CLI cold start (refresh)", our_cli, their_cli),
        ]:
            ours_s, theirs_s = median_seconds(mine), median_seconds(reference)
            print(
                f"{label:40s} ours {ours_s * 1000:8.1f} ms   python-tuf {theirs_s * 1000:8.1f} ms"
                f"   ratio {ours_s / theirs_s:5.2f}"
            )
        httpd.shutdown()


if __name__ == "__main__":
    main()
