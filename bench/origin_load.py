"""Load on an origin: N simulated nodes pull the catalog at the same moment.

Each simulated node is what a real one is: its own trust directory (a root
it trusts), its own :class:`node_runtime.fetch.http.OriginFetcher` (its own
connection pool), a full TUF refresh and the catalog download, verified.

    .venv/bin/python bench/origin_load.py                 # SeaweedFS on loopback, 200 nodes
    .venv/bin/python bench/origin_load.py --nodes 500 --catalog-kib 1024
    .venv/bin/python bench/origin_load.py --origin s3://BUCKET/PREFIX \\
        --s3-endpoint http://127.0.0.1:8333 --root root.json   # an existing origin

Prints p50/p99 latency of one pull, the errors, the bytes and requests the
origin served, and the p50 as a ratio against a baseline measured in the same
run (one node pulling alone).  Not a test: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
if str(REPOSITORY_ROOT) not in sys.path:
    sys.path.insert(0, str(REPOSITORY_ROOT))

from node_runtime.fetch.http import OriginFetcher, repository_urls  # noqa: E402
from node_runtime.fetch.retry import RetryPolicy  # noqa: E402
from node_runtime.fetch.tuf_client import Updater  # noqa: E402

CATALOG_TARGET = "app-catalog.json"


@dataclass(frozen=True)
class PullResult:
    seconds: float
    bytes_received: int
    requests: int
    error: str | None
    catalog: bytes | None
    retries: int = 0  # transient failures the fetcher retried (hidden from errors)


@dataclass
class LoadReport:
    pulls: list[PullResult] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [pull.error for pull in self.pulls if pull.error is not None]

    def percentile_seconds(self, fraction: float) -> float:
        ordered = sorted(pull.seconds for pull in self.pulls)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index]

    @property
    def origin_bytes(self) -> int:
        return sum(pull.bytes_received for pull in self.pulls)

    @property
    def origin_requests(self) -> int:
        return sum(pull.requests for pull in self.pulls)

    @property
    def retries(self) -> int:
        return sum(pull.retries for pull in self.pulls)


class SimulatedNode:
    def __init__(self, directory: Path, root: bytes, origin: str, s3_endpoint: str | None) -> None:
        self.metadata_dir = directory / "metadata"
        self.target_dir = directory / "targets"
        self.metadata_dir.mkdir(parents=True)
        self.target_dir.mkdir()
        (self.metadata_dir / "root.json").write_bytes(root)
        self.metadata_url, self.targets_url = repository_urls(origin, s3_endpoint)
        self.fetcher = OriginFetcher(retry=RetryPolicy(attempts=3))

    def pull(self) -> PullResult:
        """Refresh trust and download the catalog; the time and bytes it took."""
        started = time.perf_counter()
        try:
            updater = Updater(
                self.metadata_dir,
                self.metadata_url,
                self.target_dir,
                self.targets_url,
                fetcher=self.fetcher,
            )
            updater.refresh()
            info = updater.get_targetinfo(CATALOG_TARGET)
            if info is None:
                raise LookupError(f"the repository has no {CATALOG_TARGET}")
            catalog = updater.download_target(info).read_bytes()
            error = None
        except Exception as problem:  # a bench reports every failure, whatever it is
            catalog, error = None, f"{type(problem).__name__}: {problem}"
        return PullResult(
            time.perf_counter() - started,
            self.fetcher.stats.bytes_received,
            self.fetcher.stats.requests,
            error,
            catalog,
            self.fetcher.stats.retries,
        )

    def close(self) -> None:
        self.fetcher.close()


def pull_concurrently(
    node_count: int, work_dir: Path, root: bytes, origin: str, s3_endpoint: str | None
) -> LoadReport:
    """``node_count`` fresh nodes, released at once, each pulling once."""
    nodes = [
        SimulatedNode(work_dir / f"node-{index}", root, origin, s3_endpoint)
        for index in range(node_count)
    ]
    release = threading.Barrier(node_count)
    results: list[PullResult | None] = [None] * node_count

    def run(index: int) -> None:
        release.wait()
        results[index] = nodes[index].pull()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(node_count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for node in nodes:
            node.close()
    return LoadReport([result for result in results if result is not None])


def print_report(report: LoadReport, baseline_seconds: float, out: object = sys.stdout) -> None:
    p50, p99 = report.percentile_seconds(0.50), report.percentile_seconds(0.99)
    lines = [
        f"nodes:            {len(report.pulls)}",
        f"errors:           {len(report.errors)}",
        f"retries:          {report.retries}  (transient failures retried)",
        f"p50 latency:      {p50 * 1000:.1f} ms  ({p50 / baseline_seconds:.1f}x one node alone)",
        f"p99 latency:      {p99 * 1000:.1f} ms  ({p99 / baseline_seconds:.1f}x one node alone)",
        f"mean latency:     {statistics.fmean(p.seconds for p in report.pulls) * 1000:.1f} ms",
        f"baseline:         {baseline_seconds * 1000:.1f} ms  (one node pulling alone)",
        f"origin bytes:     {report.origin_bytes}",
        f"origin requests:  {report.origin_requests}",
    ]
    for error in sorted(set(report.errors))[:5]:
        lines.append(f"error:            {error}")
    print("\n".join(lines), file=out)  # type: ignore[call-overload]


def run_bench(
    node_count: int, work_dir: Path, root: bytes, origin: str, s3_endpoint: str | None
) -> LoadReport:
    baseline = pull_concurrently(1, work_dir / "baseline", root, origin, s3_endpoint)
    if baseline.errors:
        raise SystemExit(f"error: one node alone cannot pull: {baseline.errors[0]}")
    report = pull_concurrently(node_count, work_dir / "load", root, origin, s3_endpoint)
    print_report(report, baseline.percentile_seconds(0.5))
    return report


@contextmanager
def seaweedfs_origin(work_dir: Path, catalog_kib: int) -> Iterator[tuple[str, str, bytes]]:
    """A SeaweedFS on loopback holding a freshly signed repository: (origin, endpoint, root)."""
    from pipeline.publish.s3_origin import publish_to_s3
    from tests.integration.s3.seaweedfs import running_seaweedfs
    from tests.support.repository_builder import RepositoryBuilder

    with running_seaweedfs(work_dir / "seaweedfs") as server:
        bucket = server.new_bucket("bench")
        builder = RepositoryBuilder(work_dir / "repository")
        builder.add_catalog(size=catalog_kib * 1024)
        origin = f"s3://{bucket}/repo"
        publish_to_s3(builder.files(), origin, server.endpoint_url, server.session())
        yield origin, server.endpoint_url, builder.root_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--catalog-kib", type=int, default=256, help="size of the test catalog")
    parser.add_argument("--origin", help="an existing origin (file://, http(s)://, s3://)")
    parser.add_argument("--s3-endpoint", help="endpoint of an s3:// origin (path-style)")
    parser.add_argument("--root", type=Path, help="the trusted root.json of --origin")
    arguments = parser.parse_args()
    if arguments.nodes < 1:
        parser.error("--nodes must be at least 1")
    with tempfile.TemporaryDirectory(prefix="origin-load-") as temporary:
        work_dir = Path(temporary)
        if arguments.origin:
            if arguments.root is None:
                parser.error("--root is required with --origin")
            root = arguments.root.read_bytes()
            report = run_bench(
                arguments.nodes, work_dir, root, arguments.origin, arguments.s3_endpoint
            )
        else:
            with seaweedfs_origin(work_dir, arguments.catalog_kib) as (origin, endpoint, root):
                report = run_bench(arguments.nodes, work_dir, root, origin, endpoint)
    sys.exit(1 if report.errors else 0)


if __name__ == "__main__":
    main()
