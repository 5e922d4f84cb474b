"""``archy storefront build``: the static storefront of a signed repository."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from pipeline.publish.file_origin import OriginError, origin_for_url
from pipeline.publish.layout import root_path
from pipeline.storefront.build import build_storefront
from pipeline.storefront.verified_repository import StorefrontSourceError

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@click.group()
def storefront() -> None:
    """The storefront: a static site of a signed, verified repository."""


def _fail(message: str) -> None:
    stderr.print(f"error: {message}", style="red", markup=False)
    sys.exit(1)


@storefront.command("build")
@click.option(
    "--repo",
    "repository",
    default="dist/repo",
    show_default=True,
    help="The published repository: a directory, file://DIR or s3://BUCKET/PREFIX.",
)
@click.option("--endpoint-url", help="The S3-compatible endpoint, for s3:// repositories.")
@click.option(
    "--root",
    "root_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The root metadata to trust (default: the repository's own metadata/1.root.json, "
    "as a node initialised from it would).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("dist/storefront"),
    show_default=True,
    help="Where the site is written (replaced whole; refused if it holds other files).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def build_command(
    repository: str, endpoint_url: str | None, root_file: Path | None, out: Path, as_json: bool
) -> None:
    """Verify REPO like a node (TUF chain, catalog hashes) and write its storefront to OUT."""
    try:
        origin = origin_for_url(repository, endpoint_url)
        if root_file is not None:
            trusted_root = root_file.read_bytes()
            trusted_from = str(root_file)
        else:
            data = origin.read(root_path(1))
            if data is None:
                _fail(f"{origin.describe(root_path(1))}: missing (is this a published repository?)")
            assert data is not None
            trusted_root, trusted_from = data, origin.describe(root_path(1))
        built = build_storefront(origin, trusted_root, out, datetime.now(UTC))
    except (OriginError, StorefrontSourceError) as error:
        _fail(str(error))
        return
    except OSError as error:
        _fail(f"{error.filename or out}: {error.strerror}")
        return
    facts = built.repository
    summary = {
        "index": str(built.index),
        "apps": len(facts.catalog.apps),
        "pages": built.pages,
        "catalog_blake3": facts.catalog_blake3,
        "root_version": facts.root.version,
        "trusted_root": trusted_from,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    stdout.print(
        f"verified {origin.describe()} from {trusted_from} (root v{facts.root.version}, "
        f"catalog {facts.catalog_blake3[:16]}…)",
        markup=False,
    )
    stdout.print(
        f"storefront: {summary['apps']} apps, {built.pages} pages; open {built.index.resolve()}",
        markup=False,
    )
