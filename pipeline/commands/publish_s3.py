"""``archy publish-s3 REPOSITORY_DIR --to s3://BUCKET/PREFIX``: upload a built repository.

Thin: reads the tree (:func:`pipeline.publish.upload_planner.read_repository_dir`),
plans against the S3 origin, prints the plan (``--dry-run``) or executes it with a
progress bar.  A refusal (:class:`pipeline.publish.origin.PublishError`, a
``Refused``) propagates to the ``archy`` group, which prints ``error: …`` and exits 1.
Credentials come from the standard AWS chain and are never printed.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from pipeline.publish.s3_origin import S3Origin
from pipeline.publish.upload_executor import execute_plan
from pipeline.publish.upload_planner import PublishPlan, plan_publish, read_repository_dir

_stdout = Console(highlight=False, soft_wrap=True)
_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_plan(plan: PublishPlan) -> None:
    for upload in plan.uploads:
        _stdout.print(
            f"would upload  {upload.path}  ({upload.size} bytes, {upload.reason})", markup=False
        )
    current = plan.origin_timestamp_version
    _stdout.print(
        f"{plan.destination}: {len(plan.uploads)} to upload ({plan.upload_bytes} bytes), "
        f"{len(plan.skipped)} already there; timestamp version "
        f"{'none' if current is None else current} → {plan.new_timestamp_version}",
        markup=False,
    )


@click.command("publish-s3")
@click.argument("repository_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--to", "destination", required=True, help="s3://BUCKET/PREFIX")
@click.option("--endpoint-url", help="Endpoint of an S3-compatible store (path-style URLs).")
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; write nothing.")
def publish_s3_command(
    repository_dir: Path, destination: str, endpoint_url: str | None, dry_run: bool
) -> None:
    """Publish the built repository in REPOSITORY_DIR to s3://BUCKET/PREFIX."""
    files = read_repository_dir(repository_dir)
    origin = S3Origin.from_url(destination, endpoint_url)
    plan = plan_publish(origin, files)
    if dry_run:
        _print_plan(plan)
        return
    columns = (TextColumn("uploading"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=_stderr, transient=True) as progress:
        task = progress.add_task("upload", total=plan.upload_bytes)
        result = execute_plan(origin, plan, lambda sent: progress.advance(task, sent))
    _stdout.print(
        f"published {result.destination}: {len(result.uploaded)} uploaded "
        f"({result.bytes_uploaded} bytes), {len(result.skipped)} already there, "
        f"timestamp version {result.timestamp_version}",
        markup=False,
    )
