"""Benchmark: requests and bytes on the wire for a node following an N-app catalog.

    .venv/bin/python bench/catalog_update.py --apps 1000 [--keep 8] [--json]

Publishes a signed N-app catalog (real manifests, rendered units, an icon per
app) through the real signing ceremony — ``archy ceremony open`` (the split
targets layout and the catalog deltas), two maintainers' ``sign``, ``archy
publish`` — to a directory served by Python's ``http.server`` on 127.0.0.1, which counts every
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
import shutil
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.address import blake3_hex
from catalog.canonical import encode_canonical_json
from catalog.catalog_delta import make_delta
from catalog.catalog_model import CATALOG_NAME, AppCatalog, CatalogApp, ImagePin
from node_runtime.fetch.pull import pull
from node_runtime.store.node_config import initialise_node
from node_runtime.store.paths import NodePaths
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.publish.file_origin import FileOrigin
from tests.support.ceremony_setup import make_ceremony
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
    """A growing repository published through the real ceremony, one signing event per catalog.

    Only changed apps are re-rendered (by the test repository factory); each
    catalog is written as build outputs, opened as a signing event
    (``open_catalog_event``: the split layout, deltas from the last ``keep``
    accepted catalogs), signed by two of three maintainers and published with
    ``publish_signing_event`` — every check the ceremony runs included.
    ``--direct`` signs with the test factory instead (no ceremony checks).
    """

    def __init__(self, directory: Path, apps: int, keep: int, split: bool, direct: bool) -> None:
        self.keep = keep
        self.split = split
        self.direct = direct
        self.work = directory
        self.origin = directory / "origin"
        self.published_at = time.time() - 3600
        self.count = 0
        self.versions = {app_id(i): 0 for i in range(apps)}
        first = {app_id(i): self._manifest(app_id(i)) for i in range(1, apps)}
        # images unpinned: the factory renders units without digests, as the ceremony's
        # re-render of an unpinned manifest does
        self.handle: RepositoryHandle = make_repository(
            directory / "factory", {app_id(0): self._manifest(app_id(0))}, pin_images=False
        )
        catalog, self.artifacts = self.handle._build_catalog(first, "0" * 40, {}, {}, {})
        assert self.handle.catalog is not None
        self.artifacts.update(self._factory_artifacts())
        self.entries: dict[str, CatalogApp] = {**self.handle.catalog.apps, **catalog.apps}
        self.ceremony = None if direct else make_ceremony(directory / "ceremony")
        if direct:
            self.origin = self.handle.directory
        self.catalog_bytes = b""
        self.publish([])

    def _factory_artifacts(self) -> dict[str, bytes]:
        assert self.handle.catalog is not None
        return {
            target.name: self.handle.path(f"targets/{target.target}").read_bytes()
            for target in self.handle.catalog.targets()
        }

    def _pins(self) -> dict[str, ImagePin]:
        """The catalog's image table as the build writes it: every app's registry image."""
        return {
            image.reference: ImagePin(digest=image.digest, platforms=image.platforms)
            for app in self.entries.values()
            for image in app.images
            if not image.companion
        }

    def _manifest(self, name: str) -> str:
        return manifest_yaml(name, version=f"1.{self.versions[name]}.0", host_port=None)

    def root_bytes(self) -> bytes:
        return (self.origin / "metadata" / "1.root.json").read_bytes()

    def publish(self, changed: list[str]) -> bytes:
        for name in changed:
            self.versions[name] += 1
        handle = self.handle
        self.count += 1
        commit = f"{self.count:040x}"
        if changed:
            catalog, artifacts = handle._build_catalog(
                {name: self._manifest(name) for name in changed}, commit, {}, {}, {}
            )
            self.entries.update(catalog.apps)
            self.artifacts.update(artifacts)
        assert handle.catalog is not None
        catalog = AppCatalog(
            schema=1,
            source=handle.catalog.source.model_copy(update={"commit": commit}),
            dev_build=False,
            apps=dict(sorted(self.entries.items())),
            images=dict(sorted(self._pins().items())),
            node=None,
        )
        if self.ceremony is None:
            handle.publish_catalog(
                catalog, dict(self.artifacts), deltas_keep=self.keep, split_app_files=self.split
            )
            self.catalog_bytes = handle.catalog_bytes
        else:
            self.catalog_bytes = self._through_the_ceremony(catalog)
        # Published in the past, two seconds after the previous publish: what a
        # node polling every few minutes sees (http.server's Last-Modified has
        # one-second resolution, so publishes must not share a second).
        self.published_at += 2
        timestamp = self.origin / "metadata" / "timestamp.json"
        os.utime(timestamp, (self.published_at, self.published_at))
        return self.catalog_bytes

    def _through_the_ceremony(self, catalog: AppCatalog) -> bytes:
        assert self.ceremony is not None
        dist = self.work / "dist"
        shutil.rmtree(dist, ignore_errors=True)
        catalog_bytes = catalog.to_canonical()
        (dist / "targets").mkdir(parents=True)
        (dist / CATALOG_NAME).write_bytes(catalog_bytes)
        for target in catalog.targets():
            path = dist / "targets" / target.target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.artifacts[target.name])
        state = self.ceremony.state
        now = datetime.now(UTC)
        event, _review = open_catalog_event(state, dist, now)
        for key in self.ceremony.maintainers[:2]:
            sign_event(state, event.event_id, key, now)
        origin = FileOrigin(self.origin)
        publish_signing_event(state, event.event_id, dist, origin, self.ceremony.online, now)
        return catalog_bytes


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


def new_node(directory: Path, publisher: Publisher, url: str) -> NodePaths:
    paths = NodePaths(directory)
    initialise_node(paths, publisher.root_bytes(), url, data_root=directory / "data")
    return paths


def measure(traffic: Traffic, action: Callable[[], object]) -> dict[str, int]:
    traffic.reset()
    action()
    return {"requests": traffic.requests, "bytes": traffic.bytes}


def run(
    apps: int, keep: int, split: bool, direct: bool, work: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    started = time.perf_counter()
    publisher = Publisher(work, apps, keep, split, direct)
    log(f"published {apps} apps in {time.perf_counter() - started:.1f} s")
    traffic = Traffic()
    server, url = serve(publisher.origin, traffic)
    try:
        results: dict[str, Any] = {}
        full = measure(
            traffic,
            lambda: pull(new_node(work / "baseline", publisher, url)),
        )
        current = new_node(work / "current", publisher, url)
        pull(current)
        behind = new_node(work / "behind", publisher, url)
        pull(behind)
        results["no_change"] = measure(traffic, lambda: pull(current))
        before = publisher.catalog_bytes
        publisher.publish([app_id(apps // 2)])
        log("published the one-app update")
        results["one_app_candidates"] = candidate_sizes(before, publisher.catalog_bytes)
        results["one_app"] = measure(traffic, lambda: pull(current))
        one_app_paths = list(traffic.paths)
        publisher.publish([app_id(i) for i in range(0, apps, max(1, apps // 10))][:10])
        results["ten_apps"] = measure(traffic, lambda: pull(current))
        for step in range(18):
            publisher.publish([app_id((step * 37) % apps)])
            log(f"published version {step + 3} of 20")
        log("published 20 more versions")
        results["behind_20"] = measure(traffic, lambda: pull(behind))
        results["fresh"] = measure(traffic, lambda: pull(new_node(work / "fresh", publisher, url)))
        results["baseline_full_download"] = full
        results["catalog_bytes"] = len(publisher.catalog_bytes)
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
        help="with --direct: one targets.json listing every file (the layout before app-files)",
    )
    parser.add_argument(
        "--direct",
        action="store_true",
        help="sign with the test repository factory instead of the real ceremony (faster)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    arguments = parser.parse_args()
    if arguments.apps < 20:
        parser.error("--apps must be at least 20")
    if arguments.flat and not arguments.direct:
        parser.error("--flat needs --direct (the ceremony always writes the split layout)")

    def log(text: str) -> None:
        if not arguments.json:
            print(text, flush=True)

    with tempfile.TemporaryDirectory(prefix="catalog-update-") as work:
        results = run(
            arguments.apps, arguments.keep, not arguments.flat, arguments.direct, Path(work), log
        )
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
