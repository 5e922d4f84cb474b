"""``archy-node seed serve`` and ``archy-node seed sync``: run a swarm seed and fill its store.

The seed itself is :mod:`node_runtime.seed` (the store, the HTTP and iroh
servers) and the mirroring :mod:`node_runtime.seed.sync`; these commands
only parse options, call them and print the result.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import click

from catalog.command_group import LazyGroup
from catalog.refusal import Refused
from node_runtime.seed.addresses import parse_bind_address
from node_runtime.seed.http_server import DEFAULT_MAX_UPLOAD_BYTES, HttpSeedServer
from node_runtime.seed.iroh_server import IrohSeed
from node_runtime.seed.store import SeedStore
from node_runtime.seed.sync import SeedSyncError, sync_seed_store


class SeedServeRefusedError(Refused):
    """An ``archy-node seed serve`` argument that cannot be used; the message is one line."""


def read_token_file(path: Path) -> str:
    """The upload token in ``path`` (one line); the refusal names what is wrong."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except UnicodeDecodeError:
        raise SeedServeRefusedError(f"--accept-uploads-token-file {path}: not UTF-8 text") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SeedServeRefusedError(
            f"--accept-uploads-token-file {path}: cannot read it ({reason})"
        ) from None
    if len(token) < 16 or any(character.isspace() for character in token):
        raise SeedServeRefusedError(
            f"--accept-uploads-token-file {path}: a token is one word of at least 16 characters"
        )
    return token


def readable_store(store_dir: Path) -> Path:
    """The directory of blobs in ``store_dir`` (``blobs/`` if there is one), checked readable."""
    try:
        if not store_dir.is_dir():
            what = "not a directory" if store_dir.exists() else "no such directory"
            raise SeedServeRefusedError(f"--store {store_dir}: {what}")
        blobs = store_dir / "blobs" if (store_dir / "blobs").is_dir() else store_dir
        with os.scandir(blobs) as entries:
            next(entries, None)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SeedServeRefusedError(f"--store {store_dir}: cannot read it ({reason})") from None
    return blobs


@click.group("seed", cls=LazyGroup)
def seed() -> None:
    """Swarm seeds: serve blobs by BLAKE3 to nodes."""


async def _serve_iroh(store: SeedStore, bind: str, relays: bool) -> None:
    try:
        iroh_seed = await IrohSeed(store, bind_addr=bind, relays=relays).start()
    except Exception as error:  # the binding raises its own error family
        raise SeedServeRefusedError(
            f"--iroh {bind}: cannot listen there ({type(error).__name__}: {error})"
        ) from None
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
    type=click.Path(readable=False, path_type=Path),  # checked by readable_store: one line
    help="Directory of blobs named by BLAKE3 (a node's blobs/ works); metadata/ beside them.",
)
@click.option("--http", "http_bind", default="127.0.0.1:8470", show_default=True)
@click.option("--iroh", "iroh_bind", default="0.0.0.0:0", show_default=True)
@click.option("--no-iroh", is_flag=True, help="Serve plain HTTP only.")
@click.option("--relays/--no-relays", default=False, show_default=True)
@click.option(
    "--metadata",
    "metadata_dir",
    type=click.Path(readable=False, path_type=Path),
    help="Metadata copy served at /metadata/ (default: STORE/metadata if it exists).",
)
@click.option(
    "--accept-uploads-token-file",
    "token_file",
    type=click.Path(readable=False, path_type=Path),  # checked by read_token_file: one line
    help="Accept PUT uploads that carry the token in this file (Authorization: Bearer).",
)
@click.option(
    "--max-upload-bytes",
    "max_upload_text",
    default=str(DEFAULT_MAX_UPLOAD_BYTES),  # checked by _start_http_seed: one line
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
    max_upload_text: str,
) -> None:
    """Serve the blobs in STORE over HTTP (GET /blobs/<blake3>) and iroh until interrupted.

    With --accept-uploads-token-file the HTTP seed also stores authenticated
    PUT /blobs/<blake3> uploads that hash to their name (what `archy publish
    --seed` sends).
    """
    http_seed, store = _start_http_seed(
        store_dir, http_bind, iroh_bind, no_iroh, metadata_dir, token_file, max_upload_text
    )
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


def _start_http_seed(
    store_dir: Path,
    http_bind: str,
    iroh_bind: str,
    no_iroh: bool,
    metadata_dir: Path | None,
    token_file: Path | None,
    max_upload_text: str,
) -> tuple[HttpSeedServer, SeedStore]:
    """Check every argument, then listen; nothing is written before all of them passed."""
    if not max_upload_text.isdigit() or len(max_upload_text) > 18:
        raise SeedServeRefusedError(
            f"--max-upload-bytes {max_upload_text[:40]!r}: a whole number of bytes (0 or more)"
        )
    max_upload_bytes = int(max_upload_text)
    try:
        host, port = parse_bind_address(http_bind, "--http")
        if not no_iroh:
            parse_bind_address(iroh_bind, "--iroh")
    except ValueError as error:
        raise SeedServeRefusedError(str(error)) from None
    blobs = readable_store(store_dir)
    token = read_token_file(token_file) if token_file is not None else None
    metadata = metadata_dir or (store_dir / "metadata")
    try:
        if metadata.exists() and not metadata.is_dir():
            raise SeedServeRefusedError(f"--metadata {metadata}: not a directory")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise SeedServeRefusedError(f"--metadata {metadata}: cannot read it ({reason})") from None
    # with a token, uploads create the metadata copy on the first PUT /metadata/
    store = SeedStore(blobs, metadata if token is not None or metadata.is_dir() else None)
    try:
        http_seed = HttpSeedServer(
            store, host, port, upload_token=token, max_upload_bytes=max_upload_bytes
        )
    except OSError as error:
        reason = error.strerror or str(error)
        raise SeedServeRefusedError(f"--http {http_bind}: cannot listen there ({reason})") from None
    return http_seed.start(), store


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
    except OSError as error:
        raise SeedSyncError(str(error)) from None
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
        return
    click.echo(
        f"synced {origin} into {store_dir}: targets v{report.targets_version}, "
        f"{len(report.fetched)} blobs fetched ({report.bytes_fetched} bytes), "
        f"{report.already_held} already held, {len(report.metadata_written)} metadata files written"
    )
