"""``archy storefront build``: the static storefront of a signed repository, verified like a node.

The repository is read through the TUF chain from a trusted root (``--root``, or
its own ``metadata/1.root.json``); a repository that does not verify is refused
and nothing is written.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from catalog.refusal import Refused
from pipeline.commands.console import stdout
from pipeline.commands.options import json_option
from pipeline.publish.layout import root_path
from pipeline.publish.origin import OriginError, origin_for_url
from pipeline.storefront.build import build_storefront
from pipeline.storefront.verified_repository import StorefrontSourceError


@click.group()
def storefront() -> None:
    """The storefront: a static site of a signed, verified repository."""


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
@json_option("Print a machine-readable summary.")
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
                where = origin.describe(root_path(1))
                raise Refused(f"{where}: missing (is this a published repository?)")
            trusted_root, trusted_from = data, origin.describe(root_path(1))
        built = build_storefront(origin, trusted_root, out, datetime.now(UTC))
    except (OriginError, StorefrontSourceError) as error:
        raise Refused(str(error)) from None
    except OSError as error:
        raise Refused(f"{error.filename or out}: {error.strerror}") from None
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
