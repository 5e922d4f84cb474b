"""Benchmark: how long ``archy`` and ``archy-node`` take to start, against ``import click``.

A command line that answers ``--help`` slowly feels broken.  Both programs import a
command's module only when it runs (catalog/command_group.py), so ``--help`` should
cost little more than starting Python with click.  This measures whole processes, in
one run, interleaved so the machine's noise hits every command alike:

- baseline: ``python -c "import click"``;
- ``archy --help``, ``archy validate --help``, ``archy-node --help``,
  ``archy-node version`` (each as ``python -m <entry> ARGS`` from the checkout).

Prints each command's median and its ratio to the baseline's median (goal from the
first-hour issue: ``archy --help`` at most 1.5x ``import click``), or ``--json``.

Run: .venv/bin/python bench/cli_start.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
BASELINE = ("import click", [sys.executable, "-c", "import click"])
ARCHY = [sys.executable, "-c", "from pipeline.cli import main; main()"]
NODE = [sys.executable, "-m", "node_runtime"]
COMMANDS = (
    ("archy --help", [*ARCHY, "--help"]),
    ("archy validate --help", [*ARCHY, "validate", "--help"]),
    ("archy-node --help", [*NODE, "--help"]),
    ("archy-node version", [*NODE, "version"]),
)


def once(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPOSITORY, capture_output=True, check=True)
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, list[float]]:
    everything = (BASELINE, *COMMANDS)
    for _name, command in everything:  # warm the page cache and .pyc files once
        once(command)
    times: dict[str, list[float]] = {name: [] for name, _command in everything}
    for _ in range(runs):
        for name, command in everything:
            times[name].append(once(command))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    arguments = parser.parse_args()
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    times = measure(arguments.runs)
    baseline = statistics.median(times[BASELINE[0]])
    rows = {
        name: {
            "median_ms": round(statistics.median(values) * 1000, 1),
            "min_ms": round(min(values) * 1000, 1),
            "ratio": round(statistics.median(values) / baseline, 2),
        }
        for name, values in times.items()
    }
    if arguments.json:
        print(json.dumps({"runs": arguments.runs, "commands": rows}, indent=2))
        return 0
    print(f"{'command':26} {'median':>9} {'min':>9}  ratio to `import click`")
    for name, row in rows.items():
        print(f"{name:26} {row['median_ms']:7.1f}ms {row['min_ms']:7.1f}ms  {row['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
