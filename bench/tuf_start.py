"""Benchmark: the start of one ``archy-node tuf`` step against python-tuf's client, same run.

The public TUF conformance suite starts one client process per step (init,
refresh, download), so a client's start is most of the suite's time.  Measured
here, alternating (ours, python-tuf's, ours, …) so that load from elsewhere on
the machine hits both alike, over ``--runs`` rounds, wall time and the process's
CPU time (user + system; steadier on a loaded machine):

- ``refresh``: a fresh metadata directory trusting the repository's first root,
  then one process that refreshes timestamp → snapshot → targets from a
  python-tuf repository (the test suite's ``SimulatedRepository``, ed25519
  keys) served on 127.0.0.1.  Ours: ``python -m node_runtime tuf … refresh``;
  python-tuf's: a process that imports ``tuf.ngclient`` and calls
  ``Updater(…).refresh()`` (what its conformance client does for the step).
- ``--help``: ``python -m node_runtime tuf --help`` against a process that only
  imports ``tuf.ngclient``.

python-tuf is measured twice: as installed in this environment and with boto3
and botocore made unimportable.  securesystemslib imports boto3 for its AWS
signer whenever boto3 is installed (our publisher needs it, so it is here);
a python-tuf client in an environment of its own does not pay for that, so the
second row is the fair reference and the one the goal (ratio ≤ 1.0) is
against.  Printed: the median and best of each, and the ratios of medians.

Run: .venv/bin/python bench/tuf_start.py [--runs 9] [--binary BINARY]
(BINARY: e.g. dist/archy-node-linux-amd64/archy-node, the bundle scripts/build-node-binary makes;
--binary also times the frozen binary's `tuf refresh` and `tuf --help`)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from tests.support.tuf_fixtures import SimulatedRepositoryServer  # noqa: E402
from tests.support.tuf_oracle import SimulatedRepository  # noqa: E402

WITHOUT_BOTO3 = "import sys; sys.modules['boto3'] = sys.modules['botocore'] = None; "
PYTHON_TUF_REFRESH = (
    "import sys; from tuf.ngclient import Updater; "
    "Updater(sys.argv[1], metadata_base_url=sys.argv[2], bootstrap=None).refresh()"
)
PYTHON_TUF_IMPORT = "import tuf.ngclient"
FROZEN = "archy-node tuf (frozen binary)"


def timed(command: list[str], metadata_dir: Path | None, root: bytes) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command``.

    A fresh metadata dir trusting ``root`` first, if given.  CPU time is the
    steadier figure on a shared, loaded machine (it does not count waiting
    for a core); wall time is what the suite feels.
    """
    if metadata_dir is not None:
        shutil.rmtree(metadata_dir, ignore_errors=True)
        metadata_dir.mkdir()
        (metadata_dir / "root.json").write_bytes(root)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}… failed:\n{finished.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="alternating rounds (default 9)")
    parser.add_argument(
        "--binary",
        type=Path,
        help="also time this frozen archy-node (e.g. dist/archy-node-linux-amd64/archy-node)",
    )
    options = parser.parse_args()

    repository = SimulatedRepository()
    server = SimulatedRepositoryServer(repository)
    root = repository.published["root"][0]
    python = sys.executable
    try:
        with tempfile.TemporaryDirectory() as scratch:
            metadata = Path(scratch) / "metadata"
            url = server.metadata_url
            ours_refresh = [python, "-m", "node_runtime", "tuf", "--metadata-dir", str(metadata)]
            ours_refresh += ["--metadata-url", url, "refresh"]
            steps: dict[str, dict[str, tuple[list[str], Path | None]]] = {
                "refresh": {
                    "archy-node tuf (python -m)": (ours_refresh, metadata),
                    "python-tuf, own environment": (
                        [python, "-c", WITHOUT_BOTO3 + PYTHON_TUF_REFRESH, str(metadata), url],
                        metadata,
                    ),
                    "python-tuf, as installed here": (
                        [python, "-c", PYTHON_TUF_REFRESH, str(metadata), url],
                        metadata,
                    ),
                },
                "--help / import": {
                    "archy-node tuf (python -m)": (
                        [python, "-m", "node_runtime", "tuf", "--help"],
                        None,
                    ),
                    "python-tuf, own environment": (
                        [python, "-c", WITHOUT_BOTO3 + PYTHON_TUF_IMPORT],
                        None,
                    ),
                    "python-tuf, as installed here": ([python, "-c", PYTHON_TUF_IMPORT], None),
                },
            }
            if options.binary is not None:
                frozen = [str(options.binary.resolve()), "tuf"]
                steps["refresh"][FROZEN] = (
                    [*frozen, "--metadata-dir", str(metadata), "--metadata-url", url, "refresh"],
                    metadata,
                )
                steps["--help / import"][FROZEN] = ([*frozen, "--help"], None)
            print(
                f"one process per step, {options.runs} alternating rounds; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )
            for step, candidates in steps.items():
                walls: dict[str, list[float]] = {name: [] for name in candidates}
                cpus: dict[str, list[float]] = {name: [] for name in candidates}
                for _ in range(options.runs):
                    for name, (command, directory) in candidates.items():
                        wall, cpu = timed(command, directory, root)
                        walls[name].append(wall)
                        cpus[name].append(cpu)
                print(f"\n{step}:")
                for name in candidates:
                    print(
                        f"  {name:30} wall median {statistics.median(walls[name]):5.2f} s, "
                        f"best {min(walls[name]):5.2f} s;  CPU median "
                        f"{statistics.median(cpus[name]):5.2f} s"
                    )
                fair = "python-tuf, own environment"
                for ours in ("archy-node tuf (python -m)", FROZEN):
                    if ours not in candidates:
                        continue
                    wall_ratio = statistics.median(walls[ours]) / statistics.median(walls[fair])
                    cpu_ratio = statistics.median(cpus[ours]) / statistics.median(cpus[fair])
                    print(
                        f"  ratio {ours} / python-tuf (own environment), medians: "
                        f"wall {wall_ratio:.2f}, CPU {cpu_ratio:.2f}"
                    )
    finally:
        server.close()


if __name__ == "__main__":
    main()
