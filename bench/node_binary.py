"""Benchmark: the frozen archy-node, one dir against one file, against ``python -m``.

Builds with scripts/build-node-binary into a temporary directory (timing each build):
the one-dir bundle nodes run, with its archive (the catalog's node target, tar.xz), and
the one-file binary nodes ran before (same sources, ``--onefile``).  Then measures:

1. size: the bundle on disk, its archive (what a node downloads), the one-file binary
   and the bytes it unpacks at every start; and the time to check and unpack the archive
   (what self-update does before its probe);
2. start time of ``archy-node version`` (the self-update probe: loads the compiled
   extensions) and ``archy-node tuf --help``: the first run after the build, and the
   medians of RUNS runs of wall time and of CPU time (user + system, which waiting
   for a core does not inflate), for the one-dir bundle, the one-file binary and
   ``python -m node_runtime`` — printed as ratios to ``python -m``.  The candidates
   take turns round by round, so the machine's load hits them alike.

Also measured, as references in the same run: python-tuf's client start (a
Python process importing ``tuf.ngclient``, what its conformance client does
before any work), in an environment of its own (boto3 and botocore made
unimportable: securesystemslib imports them whenever they are installed, and the
publisher needs them here; see bench/tuf_start.py), and, with ``--compare OTHER``,
another one-file binary (say one built from an older commit) for size and start.

Run: .venv/bin/python bench/node_binary.py [--compare OTHER]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
RUNS = 15
COMMANDS = (("version",), ("tuf", "--help"))
# python-tuf in an environment of its own (see bench/tuf_start.py)
WITHOUT_BOTO3 = "import sys; sys.modules['boto3'] = sys.modules['botocore'] = None; "


def build(destination: Path, *options: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(REPOSITORY / "scripts" / "build-node-binary"), "--dist", str(destination), *options],
        cwd=REPOSITORY,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def run_once(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPOSITORY)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def start_times(commands: dict[str, list[str]]) -> dict[str, tuple[float, float, float]]:
    """name -> (first run's wall, median wall, median CPU) over RUNS rounds, taking turns."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(RUNS + 1):
        for name, command in commands.items():
            samples[name].append(run_once(command))
    return {
        name: (
            runs[0][0],
            statistics.median(wall for wall, _ in runs[1:]),
            statistics.median(cpu for _, cpu in runs[1:]),
        )
        for name, runs in samples.items()
    }


def unpacked_at_start(binary: Path) -> int:
    """Bytes the one-file bootloader writes to its temporary directory at every start."""
    from PyInstaller.archive.readers import CArchiveReader

    return sum(entry[2] for entry in CArchiveReader(str(binary)).toc.values() if entry[4] in "bxZn")


def directory_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def unpack_seconds(archive: Path, scratch: Path) -> float:
    """Check and unpack the archive, as self-update does (catalog/node_bundle.py)."""
    from catalog.node_bundle import unpack_bundle

    started = time.perf_counter()
    unpack_bundle(archive, scratch / "unpacked")
    return time.perf_counter() - started


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--compare", type=Path, help="another one-file binary to measure too")
    arguments = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-node-binary-") as scratch:
        onedir_seconds = build(Path(scratch))
        onefile_seconds = build(Path(scratch), "--onefile")
        bundle = Path(scratch) / "archy-node-linux-amd64"
        archive = Path(scratch) / "archy-node-linux-amd64.tar.xz"
        onefile = Path(scratch) / "archy-node"
        print(f"build, one dir (and its archive): {onedir_seconds:6.1f} s   "
              f"one file: {onefile_seconds:6.1f} s")  # fmt: skip
        print(
            f"size, one dir on disk: {directory_size(bundle) / 1e6:6.1f} MB  "
            f"its archive: {archive.stat().st_size / 1e6:6.1f} MB  "
            f"one file: {onefile.stat().st_size / 1e6:6.1f} MB"
        )
        print(f"check and unpack the archive: {unpack_seconds(archive, Path(scratch)):5.2f} s")
        candidates: dict[str, list[str]] = {
            "one-dir bundle": [str(bundle / "archy-node")],
            "one-file binary": [str(onefile)],
        }
        if arguments.compare is not None:
            print(f"size, compared: {arguments.compare.stat().st_size / 1e6:6.1f} MB")
            candidates["compared binary"] = [str(arguments.compare)]
        baseline_name = "python -m node_runtime"
        candidates[baseline_name] = [sys.executable, "-m", "node_runtime"]
        for name in ("one-file binary", "compared binary"):
            if name in candidates:
                unpacked = unpacked_at_start(Path(candidates[name][0])) / 1e6
                print(f"unpacked at every start, {name}: {unpacked:5.1f} MB")
        python_tuf_start = [sys.executable, "-c", f"{WITHOUT_BOTO3}import tuf.ngclient"]
        print(f"load average at start: {os.getloadavg()[0]:.1f}")
        for command in COMMANDS:
            print(
                f"\nstart of `archy-node {' '.join(command)}` "
                f"(first run; medians of {RUNS}, candidates taking turns)"
            )
            runs = {name: [*prefix, *command] for name, prefix in candidates.items()}
            runs["python-tuf client start"] = python_tuf_start
            measured = start_times(runs)
            _, baseline_wall, baseline_cpu = measured[baseline_name]
            for name, (first, wall, cpu) in measured.items():
                print(
                    f"  {name:24} first {first:5.2f} s  wall {wall:5.2f} s "
                    f"(x{wall / baseline_wall:4.2f})  CPU {cpu:5.2f} s (x{cpu / baseline_cpu:4.2f})"
                    " of python -m"
                )
        print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
