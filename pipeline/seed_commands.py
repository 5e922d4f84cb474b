"""``archy seed serve`` and ``archy seed sync``: run a swarm seed and fill its store.

The seed itself is :mod:`node_runtime.seed_server` and the mirroring
:mod:`node_runtime.seed_sync` (nodes serve seeds too); these commands only
parse options, call them and print the result.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from node_runtime.seed_server import DEFAULT_MAX_UPLOAD_BYTES, HttpSeedServer, IrohSeed, SeedStore
from node_runtime.seed_sync import SeedSyncError, sync_seed_store


def read_token_file(path: Path) -> str:
    """The upload token in ``path`` (one line); a usage error names what is wrong."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"{path}: cannot read the token ({error})") from None
    if len(token) < 16 or any(character.isspace() for character in token):
        raise click.UsageError(f"{path}: a token is one word of at least 16 characters")
    return token


@click.group("seed")
def seed() -> None:
    """Swarm seeds: serve blobs by BLAKE3 to nodes."""


async def _serve_iroh(store: SeedStore, bind: str, relays: bool) -> None:
    iroh_seed = await IrohSeed(store, bind_addr=bind, relays=relays).start()
    click.echo(f"iroh seed: {iroh_seed.seed_url}")
    try:
        await iroh_seed.serve()
    finally:
        await iroh_seed.close()


@seed.command("serve")
@click.option(
    "--store",
    "store_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory of blobs named by BLAKE3 (a node's blobs/ works); metadata/ beside them.",
)
@click.option("--http", "http_bind", default="127.0.0.1:8470", show_default=True)
@click.option("--iroh", "iroh_bind", default="0.0.0.0:0", show_default=True)
@click.option("--no-iroh", is_flag=True, help="Serve plain HTTP only.")
@click.option("--relays/--no-relays", default=False, show_default=True)
@click.option(
    "--metadata",
    "metadata_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Metadata copy served at /metadata/ (default: STORE/metadata if it exists).",
)
@click.option(
    "--accept-uploads-token-file",
    "token_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Accept PUT uploads that carry the token in this file (Authorization: Bearer).",
)
@click.option(
    "--max-upload-bytes",
    type=click.IntRange(0),
    default=DEFAULT_MAX_UPLOAD_BYTES,
    show_default=True,
    help="Refuse uploads longer than this.",
)
def serve_command(
    store_dir: Path,
    http_bind: str,
    iroh_bind: str,
    no_iroh: bool,
    relays: bool,
    metadata_dir: Path | None,
    token_file: Path | None,
    max_upload_bytes: int,
) -> None:
    """Serve the blobs in STORE over HTTP (GET /blobs/<blake3>) and iroh until interrupted.

    With --accept-uploads-token-file the HTTP seed also stores authenticated
    PUT /blobs/<blake3> uploads that hash to their name (what `archy publish
    --seed` sends).
    """
    token = read_token_file(token_file) if token_file is not None else None
    blobs = store_dir / "blobs" if (store_dir / "blobs").is_dir() else store_dir
    metadata = metadata_dir or (store_dir / "metadata")
    if token is not None:
        metadata.mkdir(exist_ok=True)
    store = SeedStore(blobs, metadata if metadata.is_dir() else None)
    host, _, port = http_bind.rpartition(":")
    if not port.isdigit():
        raise click.UsageError(f"--http {http_bind!r}: use HOST:PORT")
    http_seed = HttpSeedServer(
        store,
        host.strip("[]") or "127.0.0.1",
        int(port),
        upload_token=token,
        max_upload_bytes=max_upload_bytes,
    ).start()
    click.echo(f"http seed: {http_seed.url}/blobs/<blake3>")
    try:
        if no_iroh:
            http_seed.wait()
        else:
            asyncio.run(_serve_iroh(store, iroh_bind, relays))
    except KeyboardInterrupt:
        pass
    finally:
        http_seed.close()


@seed.command("sync")
@click.option("--origin", required=True, help="The registry: file://DIR, http(s)://… or s3://B/P.")
@click.option(
    "--store",
    "store_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The seed store to fill (blobs/, metadata/, trust/); created if missing.",
)
@click.option(
    "--root",
    "root_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The registry's root.json; needed for the first sync of a store.",
)
@click.option("--s3-endpoint", help="Endpoint URL for an s3:// origin.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
def sync_command(
    origin: str, store_dir: Path, root_file: Path | None, s3_endpoint: str | None, as_json: bool
) -> None:
    """Mirror ORIGIN's signed targets (each checked by BLAKE3) and metadata into STORE."""
    root_bytes = root_file.read_bytes() if root_file is not None else None
    try:
        report = sync_seed_store(store_dir, origin, root_bytes, s3_endpoint)
    except (SeedSyncError, OSError) as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
        return
    click.echo(
        f"synced {origin} into {store_dir}: targets v{report.targets_version}, "
        f"{len(report.fetched)} blobs fetched ({report.bytes_fetched} bytes), "
        f"{report.already_held} already held, {len(report.metadata_written)} metadata files written"
    )
