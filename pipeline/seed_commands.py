"""``archy seed serve``: serve a blob store over HTTP and iroh (``archy/blobs/1``).

The seed itself is :mod:`node_runtime.seed_server` (nodes serve seeds too);
this command only parses options, starts both servers and prints where they
listen.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from node_runtime.seed_server import HttpSeedServer, IrohSeed, SeedStore


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
def serve_command(
    store_dir: Path,
    http_bind: str,
    iroh_bind: str,
    no_iroh: bool,
    relays: bool,
    metadata_dir: Path | None,
) -> None:
    """Serve the blobs in STORE over HTTP (GET /blobs/<blake3>) and iroh until interrupted."""
    blobs = store_dir / "blobs" if (store_dir / "blobs").is_dir() else store_dir
    metadata = metadata_dir or (store_dir / "metadata")
    store = SeedStore(blobs, metadata if metadata.is_dir() else None)
    host, _, port = http_bind.rpartition(":")
    if not port.isdigit():
        raise click.UsageError(f"--http {http_bind!r}: use HOST:PORT")
    http_seed = HttpSeedServer(store, host.strip("[]") or "127.0.0.1", int(port)).start()
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
