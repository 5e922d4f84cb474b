"""Benchmark: ``apply`` with 40 installed apps when nothing changed.

The goal is zero writes: a noop apply should only observe (``podman ps``,
``secret ls``, ``network exists``) and write no file.  The engine is a
counting, simulating podman runner (it remembers the containers, secrets and
network that ``podman run`` / ``secret create`` / ``network create`` made), so
this measures the agent itself, not podman.  Reported against the first,
full install of the same 40 apps in the same run, as a ratio.

    .venv/bin/python bench/apply_noop.py [--apps 40] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from node_runtime.apply.run import apply
from node_runtime.engines.container_engine import CommandResult
from node_runtime.engines.podman_engine import PodmanEngine
from tests.support.catalogs import catalog_of, simple_manifest


class CountingPodmanSimulator:
    """Counts podman calls by verb and keeps just enough state to answer them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.containers: dict[str, dict[str, object]] = {}
        self.secrets: set[str] = set()
        self.network = False

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        verb = (
            " ".join(args[:2])
            if args[0] in ("secret", "network", "image", "container")
            else args[0]
        )
        self.calls[verb] += 1
        if args[0] == "run":
            name = next(a.split("=", 1)[1] for a in args if a.startswith("--name="))
            labels = dict(
                a.split("=", 1)[1].split("=", 1) for a in args if a.startswith("--label=")
            )
            self.containers[name] = {"Names": [name], "Id": f"id-{name}", "State": "running",
                                     "Pid": 0, "Labels": labels}  # fmt: skip
        elif args[0] == "ps":
            return CommandResult(0, json.dumps(list(self.containers.values())).encode(), b"")
        elif args[:2] == ["secret", "create"]:
            self.secrets.add(args[2])
        elif args[:2] == ["secret", "ls"]:
            return CommandResult(0, "".join(f"{s}\n" for s in self.secrets).encode(), b"")
        elif args[:2] == ["network", "exists"]:
            return CommandResult(0 if self.network else 1, b"", b"")
        elif args[:2] == ["network", "create"]:
            self.network = True
        elif args[0] == "inspect":
            return CommandResult(0, b"running|healthy\n", b"")
        return CommandResult(0, b"", b"")


def files_and_times(root: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    manifests = [
        simple_manifest(f"bench{i:02d}", port=20000 + i, secrets=["token"])
        for i in range(options.apps)
    ]
    catalog = catalog_of(manifests)
    installed = set(catalog.apps)
    with tempfile.TemporaryDirectory() as scratch:
        state_root, data_root = Path(scratch, "state"), Path(scratch, "data")
        runner = CountingPodmanSimulator()
        engine = PodmanEngine(runner)
        started = time.perf_counter()
        first = apply(catalog, installed, state_root=state_root, data_root=str(data_root),
                      engine=engine, architecture="amd64")  # fmt: skip
        install_seconds = time.perf_counter() - started
        assert first.ok, first.to_document()
        install_calls = sum(runner.calls.values())

        before = files_and_times(Path(scratch))
        timings = []
        for _ in range(options.repeat):
            runner.calls.clear()
            started = time.perf_counter()
            report = apply(catalog, installed, state_root=state_root, data_root=str(data_root),
                           engine=engine, architecture="amd64")  # fmt: skip
            timings.append(time.perf_counter() - started)
            assert report.ok and not report.steps
        writes = sum(1 for k, v in files_and_times(Path(scratch)).items() if before.get(k) != v)
        noop = min(timings)
        print(f"apps: {options.apps}")
        print(
            f"full install (baseline): {install_seconds * 1000:.0f} ms, "
            f"{install_calls} engine calls"
        )
        print(f"noop apply (best of {options.repeat}): {noop * 1000:.0f} ms, "
              f"{sum(runner.calls.values())} engine calls {dict(runner.calls)}")  # fmt: skip
        print(f"noop / install time: {noop / install_seconds:.3f}")
        print(f"files written by the noop applies: {writes}")
    return 0 if writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
