"""Benchmark ``archy import``: a generated store of N apps converted into an apps/ dir.

    .venv/bin/python bench/import_store.py --apps 500 [--store umbrel|casaos]

Generates N app folders in the chosen store's format (single containers, stacks
with a database and fixed passwords, apps that need bitcoin or lightning, ports
that clash with each other, and a share that policy refuses: privileged, host
network, Docker socket), then measures in the same run:

* baseline: reading and merely parsing every app's YAML with the importer's
  bounded loader (no interpolation, mapping, checks or writes);
* import: the whole ``--all`` run into a copy of the fixture target catalog,
  including the in-memory policy checks, the writes, the read-back validation
  of each app and the final validation of the whole apps/ dir.

Reports apps per second for both and their ratio (import / baseline time).
Run on demand; not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from pipeline.importer.compose_yaml import load_yaml
from pipeline.importer.run import find_sources, run_import

TARGET = Path(__file__).resolve().parents[1] / "tests" / "unit" / "importer" / "fixtures" / "target"
DIGEST = "sha256:" + "ab" * 32


def umbrel_app(index: int) -> dict[str, str]:
    app_id = f"store-app-{index:04d}"
    kind = index % 10
    deps = "[bitcoin]" if kind in (1, 2) else "[lightning]" if kind == 3 else "[]"
    meta = f"""manifestVersion: 1
id: {app_id}
category: {["files", "bitcoin", "finance", "lightning", "media", "social"][index % 6]}
name: Store app {index}
version: "1.{index % 9}.0"
tagline: Generated app {index}
description: >-
  A generated app for the import benchmark, number {index}.
developer: Bench
website: https://example.org/{app_id}
dependencies: {deps}
repo: https://github.com/example/{app_id}
port: {3000 + index % 40}
"""
    extra = ""
    if kind == 7:
        extra = "    privileged: true\n"
    socket = "      - /var/run/docker.sock:/var/run/docker.sock\n" if kind == 8 else ""
    web_env = "      PORT: 8080\n"
    if kind in (1, 2):
        web_env += "      RPC_HOST: $APP_BITCOIN_NODE_IP\n      RPC_PASS: $APP_BITCOIN_RPC_PASS\n"
    if kind == 3:
        web_env += "      LND: $APP_LIGHTNING_NODE_IP:$APP_LIGHTNING_NODE_GRPC_PORT\n"
    db = ""
    if kind in (4, 5):
        web_env += "      DB_HOST: db\n      DB_PASSWORD: fixedpass\n"
        db = f"""  db:
    image: postgres:16.2@{DIGEST}
    environment:
      POSTGRES_PASSWORD: fixedpass
    volumes:
      - ${{APP_DATA_DIR}}/db:/var/lib/postgresql/data
"""
    compose = f"""version: "3.7"
x-common: &common
  restart: on-failure
  stop_grace_period: 1m
services:
  app_proxy:
    environment:
      APP_HOST: {app_id}_web_1
      APP_PORT: 8080
  web:
    <<: *common
    image: example/{app_id}:1.{index % 9}.0@{DIGEST}
    user: "1000:1000"
    ports:
      - "{9000 + index % 25}:9000"
    volumes:
      - ${{APP_DATA_DIR}}/data:/data
{socket}    environment:
{web_env}{extra}{db}"""
    return {"umbrel-app.yml": meta, "docker-compose.yml": compose}


def casaos_app(index: int) -> dict[str, str]:
    app_id = f"store-app-{index:04d}"
    kind = index % 10
    extra = "    network_mode: host\n" if kind == 7 else ""
    return {
        "docker-compose.yml": f"""name: {app_id}
services:
  {app_id}:
    image: example/{app_id}:2.{index % 7}.1@{DIGEST}
    environment:
      PUID: $PUID
      TZ: $TZ
    ports:
      - target: 80
        published: "{8000 + index % 30}"
        protocol: tcp
    volumes:
      - /DATA/AppData/$AppID/config:/config
{extra}x-casaos:
  architectures: [amd64, arm64]
  main: {app_id}
  category: Media
  title:
    en_us: Store app {index}
  tagline:
    en_us: Generated app {index}
  port_map: "{8000 + index % 30}"
  website: https://example.org/{app_id}
"""
    }


def generate(store: str, count: int, root: Path) -> None:
    make = umbrel_app if store == "umbrel" else casaos_app
    for index in range(count):
        folder = root / f"app-{index:04d}"
        folder.mkdir(parents=True)
        for name, text in make(index).items():
            (folder / name).write_text(text)


def parse_only(folders: list[Path]) -> None:
    for folder in folders:
        for path in sorted(folder.glob("*.yml")):
            load_yaml(path.read_bytes(), str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", type=int, default=500)
    parser.add_argument("--store", choices=["umbrel", "casaos"], default="umbrel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="import-bench-") as scratch:
        root = Path(scratch)
        generate(args.store, args.apps, root / "store")
        folders = find_sources(args.store, root / "store")
        started = time.perf_counter()
        parse_only(folders)
        baseline = time.perf_counter() - started
        apps = root / "apps"
        shutil.copytree(TARGET, apps)
        started = time.perf_counter()
        run = run_import(args.store, folders, apps, force=False, validate_all=True)
        elapsed = time.perf_counter() - started
        counts = run.as_json()["counts"]
        valid = run.final_validation is not None and run.final_validation.ok
    print(f"store: {args.store}, {len(folders)} apps generated")
    print(
        f"result: {counts['imported']} imported, {counts['warnings']} with warnings, "
        f"{counts['refused']} refused; apps/ valid afterwards: {valid}"
    )
    print(
        f"baseline (parse the YAML only): {baseline:.2f} s = {len(folders) / baseline:.0f} apps/s"
    )
    print(
        f"import (--all, checks, writes, validation): {elapsed:.2f} s = "
        f"{len(folders) / elapsed:.1f} apps/s"
    )
    print(f"ratio import/baseline: {elapsed / baseline:.1f}x")


if __name__ == "__main__":
    main()
