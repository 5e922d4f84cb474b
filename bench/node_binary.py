"""Benchmark: the frozen archy-node against ``python -m node_runtime``, same run.

Builds the binaries with scripts/build-node-binary into a temporary directory
(timing each build), then measures:

1. size: the one-file binary, the one-dir bundle, and the Python sources it
   replaces are not comparable, so sizes are printed as they are;
2. start time of ``archy-node version`` (loads the compiled extensions) and
   ``archy-node tuf --help``: the first run after the build, and the median
   of RUNS runs, for the one-file binary, the one-dir bundle and
   ``python -m node_runtime`` — printed as ratios to ``python -m``.

Also measured, as references in the same run: python-tuf's client start (a
Python process importing ``tuf.ngclient``, what its conformance client does
before any work) and, with ``--compare OTHER``, another one-file binary (say
the one built from main) for size and start.

Run: .venv/bin/python bench/node_binary.py [--binary dist/archy-node] [--compare OTHER]
(skips the one-file build and the one-dir comparison when given a binary).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
RUNS = 15
COMMANDS = (("version",), ("tuf", "--help"))


def build(destination: Path, *options: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(REPOSITORY / "scripts" / "build-node-binary"), "--dist", str(destination), *options],
        cwd=REPOSITORY,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def start_times(command: list[str]) -> tuple[float, float]:
    """(first run, median of RUNS runs) in seconds."""
    samples = []
    for _ in range(RUNS + 1):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=REPOSITORY)
        samples.append(time.perf_counter() - started)
    return samples[0], statistics.median(samples[1:])


def directory_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--binary", type=Path, help="measure this one-file binary, build nothing")
    options.add_argument("--compare", type=Path, help="another one-file binary to measure too")
    arguments = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-node-binary-") as scratch:
        candidates: dict[str, list[str]] = {}
        if arguments.binary is None:
            onefile_seconds = build(Path(scratch))
            onedir_seconds = build(Path(scratch), "--onedir")
            onefile = Path(scratch) / "archy-node"
            onedir = Path(scratch) / "archy-node-onedir"
            print(f"build, one file: {onefile_seconds:6.1f} s   one dir: {onedir_seconds:6.1f} s")
            print(
                f"size,  one file: {onefile.stat().st_size / 1e6:6.1f} MB  "
                f"one dir: {directory_size(onedir) / 1e6:6.1f} MB"
            )
            candidates["one-file binary"] = [str(onefile)]
            candidates["one-dir bundle"] = [str(onedir / "archy-node")]
        else:
            print(f"size,  one file: {arguments.binary.stat().st_size / 1e6:6.1f} MB")
            candidates["one-file binary"] = [str(arguments.binary)]
        if arguments.compare is not None:
            print(f"size,  compared: {arguments.compare.stat().st_size / 1e6:6.1f} MB")
            candidates["compared binary"] = [str(arguments.compare)]
        baseline_name = "python -m node_runtime"
        candidates[baseline_name] = [sys.executable, "-m", "node_runtime"]
        python_tuf_start = [sys.executable, "-c", "import sys, tuf.ngclient; sys.argv"]
        for command in COMMANDS:
            print(f"\nstart of `archy-node {' '.join(command)}` (first run, median of {RUNS})")
            measured = {
                name: start_times([*prefix, *command]) for name, prefix in candidates.items()
            }
            measured["python-tuf client start"] = start_times(python_tuf_start)
            baseline = measured[baseline_name][1]
            for name, (first, median) in measured.items():
                print(
                    f"  {name:24} first {first:5.2f} s  median {median:5.2f} s  "
                    f"x{median / baseline:4.2f} of python -m"
                )


if __name__ == "__main__":
    main()
