"""``archy dev-flow``: the README's main job on one machine — build, sign, publish, pull, apply.

The flow itself is :func:`pipeline.main_flow.run_dev_flow`; this module reads the
throwaway keys' passphrase from ``$ARCHY_DEV_PASSPHRASE``, runs it, and prints what
the node received and what its agent did.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.table import Table

from catalog.address import blake3_hex
from catalog.catalog_model import CATALOG_NAME
from catalog.refusal import Refused
from pipeline.ceremony.passphrase import new_passphrase_problem
from pipeline.commands.console import stdout
from pipeline.commands.options import dist_option, repo_option
from pipeline.main_flow import PASSPHRASE_ENV, DevFlowResult, run_dev_flow
from pipeline.publish.layout import STOREFRONT_INDEX
from pipeline.tables import print_table
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp


def _load(repo: Path, name: str, role_type: type) -> Metadata:  # type: ignore[type-arg]
    return Metadata.from_bytes((repo / "metadata" / name).read_bytes(), role_type)


def summary_tables(result: DevFlowResult) -> list[Table]:
    apps = Table(title="Apps the node received", title_justify="left")
    for column in ("app", "version", "containers", "units"):
        apps.add_column(column)
    for app_id, app in sorted(result.catalog.apps.items()):
        apps.add_row(
            app_id,
            f"{app.version}-r{app.revision}",
            str(len(app.manifest.containers)),
            str(len(app.units)),
        )
    timestamp = _load(result.repo, "timestamp.json", Timestamp)
    snapshot = _load(
        result.repo, f"{timestamp.signed.snapshot_meta.version}.snapshot.json", Snapshot
    )
    targets_version = snapshot.signed.meta["targets.json"].version
    targets = _load(result.repo, f"{targets_version}.targets.json", Targets)
    roots = sorted((result.repo / "metadata").glob("*.root.json"))
    root = _load(result.repo, roots[-1].name, Root)
    repo_files = [p for p in result.repo.rglob("*") if p.is_file()]
    trust = Table(title="Signed repository (dist/repo)", title_justify="left")
    for column in ("what", "version", "signatures", "size"):
        trust.add_column(column)
    trust.add_row(
        CATALOG_NAME, "-", "(a target of targets)", f"{len(result.catalog_bytes):,} bytes"
    )
    for label, metadata, role in (
        ("root", root, "root"),
        ("targets", targets, "targets"),
        ("snapshot", snapshot, "snapshot"),
        ("timestamp", timestamp, "timestamp"),
    ):
        required = root.signed.roles[role]
        signed_by = {s.keyid for s in metadata.signatures} & set(required.keyids)
        trust.add_row(
            label,
            f"v{metadata.signed.version}",
            f"{len(signed_by)} of {len(required.keyids)} (needs {required.threshold})",
            f"{len(metadata.to_bytes()):,} bytes",
        )
    trust.add_row(
        "whole repository",
        "-",
        "-",
        f"{len(repo_files)} files, {sum(p.stat().st_size for p in repo_files):,} bytes",
    )
    tables = [apps, trust]
    if result.node_run is not None:
        run = result.node_run
        did = Table(
            title=f"What the node agent did (engine {run.engine}: {run.why})",
            title_justify="left",
        )
        for column in ("app", "result", "reason"):
            did.add_column(column)
        for entry in run.results:
            did.add_row(str(entry["app"]), str(entry["status"]), str(entry.get("reason") or ""))
        tables.append(did)
    return tables


def _say(line: str) -> None:
    stdout.print(line, markup=False)


@click.command("dev-flow")
@repo_option("The git clone whose apps/ is built.")
@dist_option("Where everything is written (dev-ceremony/, dev-build/, repo/, dev-node/).")
def dev_flow(repo: Path, dist: Path) -> None:
    """Build, sign (a throwaway 2-of-3 dev ceremony), publish to DIST/repo and pull it as a node.

    The throwaway dev keys' passphrase comes from $ARCHY_DEV_PASSPHRASE.
    """
    passphrase = os.environ.get(PASSPHRASE_ENV, "")
    if not passphrase:
        raise Refused(f"set {PASSPHRASE_ENV} (the passphrase for the throwaway dev keys)")
    problem = new_passphrase_problem(passphrase.encode())
    if problem is not None:
        raise Refused(f"{PASSPHRASE_ENV}: {problem}")
    result = run_dev_flow(repo, dist, passphrase.encode(), _say)  # DevFlowError is a Refused
    for table in summary_tables(result):
        print_table(stdout, table)
    skipped = (
        f" ({len(result.skipped_apps)} apps left out, their companion images not built: "
        f"{', '.join(result.skipped_apps)})"
        if result.skipped_apps
        else ""
    )
    stdout.print(f"{CATALOG_NAME} blake3 {blake3_hex(result.catalog_bytes)}", markup=False)
    received = f"{CATALOG_NAME} ({len(result.catalog.apps)} apps)"
    stdout.print(
        f"the node verified and downloaded {received}{skipped}",
        style="green",
        markup=False,
    )
    run = result.node_run
    if run is not None:
        counts: dict[str, int] = {}
        for entry in run.results:
            counts[str(entry["status"])] = counts.get(str(entry["status"]), 0) + 1
        done = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        where = (
            f"units written to {run.unit_dir}, nothing started"
            if run.engine == "stage"
            else "containers started by podman"
        )
        stdout.print(f"the node agent applied: {done} ({where})", markup=False)
    stdout.print(f"storefront: open {(result.repo / STOREFRONT_INDEX).resolve()}", markup=False)
    if run is not None and any(entry["status"] == "failed" for entry in run.results):
        raise Refused("the node agent failed an app (see the table)")
