"""Benchmark: requests and bytes on the wire for a node following an N-app catalog.

    .venv/bin/python bench/catalog_update.py --apps 1000 [--keep 8] [--json]

Publishes a signed N-app catalog (real manifests, rendered units, an icon per
app; the catalog deltas of ``pipeline.publish.catalog_deltas``) to a
directory served by Python's ``http.server`` on 127.0.0.1, which counts every
request and every byte it sends (headers included).  Then, each a real
``pull`` of a node from that origin:

- ``no_change``: a node that is current polls again;
- ``one_app``: one app's version changed;
- ``ten_apps``: ten apps changed;
- ``behind_20``: a node last current 20 publishes ago;
- ``fresh``: a node with nothing but the root.

The baseline, measured in the same run, is the full catalog download (its
bytes on the wire); each row prints its ratio to it.  ``--json`` prints one
object: ``{"no_change": {"requests": N, "bytes": B}, …}``.  Run on demand;
not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_delta import make_delta
from catalog.catalog_model import AppCatalog, CatalogApp, ImagePin
from node_runtime.fetch.pull import pull
from node_runtime.store.node_config import initialise_node
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml


@dataclass
class Traffic:
    requests: int = 0
    bytes: int = 0
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.requests, self.bytes, self.paths = 0, 0, []


class _CountingWriter:
    def __init__(self, inner: Any, traffic: Traffic) -> None:
        self._inner = inner
        self._traffic = traffic

    def write(self, data: bytes) -> int:
        with self._traffic.lock:
            self._traffic.bytes += len(data)
        return int(self._inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def serve(directory: Path, traffic: Traffic) -> tuple[ThreadingHTTPServer, str]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def setup(self) -> None:
            super().setup()
            self.wfile = _CountingWriter(self.wfile, traffic)  # type: ignore[assignment]

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            with traffic.lock:
                traffic.requests += 1
                traffic.paths.append(f"{code} {self.path}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def app_id(index: int) -> str:
    return f"bench-app-{index:04d}"


class Publisher:
    """A growing repository: only changed apps are re-rendered; deltas from the last ``keep``."""

    def __init__(self, directory: Path, apps: int, keep: int, split: bool) -> None:
        self.keep = keep
        self.split = split
        self.published_at = time.time() - 3600
        self.versions = {app_id(i): 0 for i in range(apps)}
        first = {app_id(i): self._manifest(app_id(i)) for i in range(1, apps)}
        self.handle: RepositoryHandle = make_repository(
            directory, {app_id(0): self._manifest(app_id(0))}
        )
        catalog, self.artifacts = self.handle._build_catalog(first, "0" * 40, {})
        assert self.handle.catalog is not None
        self.entries: dict[str, CatalogApp] = {**self.handle.catalog.apps, **catalog.apps}
        self.pins: dict[str, ImagePin] = {**self.handle.catalog.images, **catalog.images}
        self.publish([])

    def _manifest(self, name: str) -> str:
        return manifest_yaml(name, version=f"1.{self.versions[name]}.0", host_port=None)

    def publish(self, changed: list[str]) -> bytes:
        for name in changed:
            self.versions[name] += 1
        handle = self.handle
        commit = f"{handle.targets_version + 1:040x}"
        if changed:
            catalog, artifacts = handle._build_catalog(
                {name: self._manifest(name) for name in changed}, commit, {}
            )
            self.entries.update(catalog.apps)
            self.pins.update(catalog.images)
            self.artifacts.update(artifacts)
        assert handle.catalog is not None
        catalog = AppCatalog(
            schema=1,
            source=handle.catalog.source.model_copy(update={"commit": commit}),
            dev_build=False,
            apps=dict(sorted(self.entries.items())),
            images=dict(sorted(self.pins.items())),
            node=None,
        )
        handle.publish_catalog(
            catalog, dict(self.artifacts), deltas_keep=self.keep, split_app_files=self.split
        )
        # Published in the past, two seconds after the previous publish: what a
        # node polling every few minutes sees (http.server's Last-Modified has
        # one-second resolution, so publishes must not share a second).
        self.published_at += 2
        os.utime(handle.path("metadata/timestamp.json"), (self.published_at, self.published_at))
        return handle.catalog_bytes


def candidate_sizes(old: bytes, new: bytes) -> dict[str, int]:
    """Bytes a one-app update costs under each candidate design (catalog part only).

    - ``zstd_like``: the whole new catalog compressed (xz -9 stands in for zstd -19,
      which compresses JSON about as well; zlib -9 for zstd's fast levels);
    - ``per_app_index``: a signed index naming every app document by BLAKE3 and
      length (it changes with every update) plus the changed document, zlib'd;
    - ``delta``: this project's delta (``catalog.catalog_delta``).
    """
    old_document, new_document = json.loads(old, strict=False), json.loads(new, strict=False)
    changed = [
        app
        for app in new_document["apps"]
        if old_document["apps"].get(app) != new_document["apps"][app]
    ]
    index = encode_canonical_json(
        {
            app: {
                "blake3": blake3_hex(encode_canonical_json(entry)),
                "length": len(encode_canonical_json(entry)),
            }
            for app, entry in new_document["apps"].items()
        }
    )
    documents = sum(
        len(zlib.compress(encode_canonical_json(new_document["apps"][app]), 9)) for app in changed
    )
    return {
        "full_raw": len(new),
        "zstd_like_xz9": len(lzma.compress(new, preset=9)),
        "zstd_like_zlib9": len(zlib.compress(new, 9)),
        "per_app_index": len(zlib.compress(index, 9)) + documents,
        "delta": len(make_delta(old, new)),
    }


def new_node(directory: Path, handle: RepositoryHandle, url: str) -> NodePaths:
    paths = NodePaths(directory)
    initialise_node(paths, handle.root_path.read_bytes(), url, data_root=directory / "data")
    return paths


def measure(traffic: Traffic, action: Callable[[], object]) -> dict[str, int]:
    traffic.reset()
    action()
    return {"requests": traffic.requests, "bytes": traffic.bytes}


def run(
    apps: int, keep: int, split: bool, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    started = time.perf_counter()
    publisher = Publisher(work / "origin", apps, keep, split)
    log(f"published {apps} apps in {time.perf_counter() - started:.1f} s")
    traffic = Traffic()
    server, url = serve(publisher.handle.directory, traffic)
    try:
        results: dict[str, Any] = {}
        full = measure(
            traffic,
            lambda: pull(new_node(work / "baseline", publisher.handle, url)),
        )
        current = new_node(work / "current", publisher.handle, url)
        pull(current)
        behind = new_node(work / "behind", publisher.handle, url)
        pull(behind)
        results["no_change"] = measure(traffic, lambda: pull(current))
        before = publisher.handle.catalog_bytes
        publisher.publish([app_id(apps // 2)])
        results["one_app_candidates"] = candidate_sizes(before, publisher.handle.catalog_bytes)
        results["one_app"] = measure(traffic, lambda: pull(current))
        one_app_paths = list(traffic.paths)
        publisher.publish([app_id(i) for i in range(0, apps, max(1, apps // 10))][:10])
        results["ten_apps"] = measure(traffic, lambda: pull(current))
        for step in range(18):
            publisher.publish([app_id((step * 37) % apps)])
        log("published 20 more versions")
        results["behind_20"] = measure(traffic, lambda: pull(behind))
        results["fresh"] = measure(
            traffic, lambda: pull(new_node(work / "fresh", publisher.handle, url))
        )
        results["baseline_full_download"] = full
        results["catalog_bytes"] = len(publisher.handle.catalog_bytes)
        results["one_app_requests"] = one_app_paths
        return results
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=1000, help="apps in the catalog (1000)")
    parser.add_argument("--keep", type=int, default=8, help="deltas from the last K catalogs")
    parser.add_argument(
        "--flat",
        action="store_true",
        help="one targets.json listing every file (the layout before app-files), to compare",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args()
    if arguments.apps < 20:
        parser.error("--apps must be at least 20")

    def log(text: str) -> None:
        if not arguments.json:
            print(text, flush=True)

    with tempfile.TemporaryDirectory(prefix="catalog-update-") as work:
        results = run(arguments.apps, arguments.keep, not arguments.flat, Path(work), log)
    if arguments.json:
        print(json.dumps(results, sort_keys=True))
        return 0
    baseline = results["baseline_full_download"]["bytes"]
    print(
        f"catalog: {results['catalog_bytes']:,} bytes; a fresh node's first pull (baseline) "
        f"{baseline:,} bytes on the wire"
    )
    print(f"{'case':<10} {'requests':>8} {'bytes':>12} {'vs baseline':>12}")
    for case in ("no_change", "one_app", "ten_apps", "behind_20", "fresh"):
        row = results[case]
        ratio = row["bytes"] / baseline
        print(f"{case:<10} {row['requests']:>8} {row['bytes']:>12,} {ratio:>11.4f}x")
    print("one_app requests: " + ", ".join(results["one_app_requests"]))
    print("one-app update, catalog part only, per candidate design (bytes):")
    for name, size in results["one_app_candidates"].items():
        print(f"  {name:<16} {size:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
