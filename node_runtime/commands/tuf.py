"""``archy-node tuf``: the standard TUF conformance client command line.

    archy-node tuf --metadata-dir D init TRUSTED_ROOT
    archy-node tuf --metadata-dir D --metadata-url U refresh
    archy-node tuf --metadata-dir D --metadata-url U --target-name P [--target-name P2 …]
                   --target-base-url T --target-dir TD download

Exit 0 on success, 1 on any refused input or failed step (2 for a usage
error).  The commands only parse options and call :mod:`node_runtime.fetch.tuf_client`.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.command_group import LazyGroup
from catalog.refusal import Refused
from node_runtime.fetch.tuf_client import Updater
from node_runtime.store.atomic_file import write_file_atomically
from signing.errors import TufError
from signing.trusted_set import TrustedSet


class _Options:
    def __init__(
        self,
        metadata_dir: Path | None,
        metadata_url: str | None,
        target_names: tuple[str, ...],
        target_base_url: str | None,
        target_dir: Path | None,
    ) -> None:
        self._metadata_dir = metadata_dir
        self.metadata_url = metadata_url
        self.target_names = target_names
        self.target_base_url = target_base_url
        self.target_dir = target_dir

    @property
    def metadata_dir(self) -> Path:
        """--metadata-dir, which every command needs (the group does not demand it, so that
        ``archy-node tuf refresh --help`` works without it)."""
        if self._metadata_dir is None:
            raise click.UsageError("--metadata-dir is required (archy-node tuf --metadata-dir D …)")
        return self._metadata_dir

    def require(self, **values: object) -> None:
        for option, value in values.items():
            if not value:
                raise click.UsageError(f"--{option.replace('_', '-')} is required here")


def _refused(error: Exception) -> Refused:
    """A TUF or file-system failure as the refusal the command group prints."""
    return Refused(str(error))


@click.group("tuf", cls=LazyGroup)
@click.option(
    "--metadata-dir",
    type=click.Path(path_type=Path),
    help="Trusted metadata (required by every command).",
)
@click.option("--metadata-url", help="Base URL of the repository's metadata.")
@click.option("--target-name", "target_names", multiple=True, help="Target path (repeatable).")
@click.option("--target-base-url", help="Base URL of the repository's targets.")
@click.option("--target-dir", type=click.Path(path_type=Path), help="Where targets are stored.")
@click.pass_context
def tuf(
    context: click.Context,
    metadata_dir: Path | None,
    metadata_url: str | None,
    target_names: tuple[str, ...],
    target_base_url: str | None,
    target_dir: Path | None,
) -> None:
    """Verify and fetch from a TUF repository (the tuf-conformance client contract).

    Start with `init` (trust a root.json), then `refresh` and `download`.
    """
    context.obj = _Options(metadata_dir, metadata_url, target_names, target_base_url, target_dir)


def _require_trusted_root(options: _Options) -> None:
    """Refuse, in one line, to refresh or download before ``tuf init``."""
    root = options.metadata_dir / "root.json"
    if not root.exists():
        raise Refused(
            f"{root} does not exist: no trusted root yet; run `archy-node tuf "
            f"--metadata-dir {options.metadata_dir} init ROOT.json` first"
        )


@tuf.command("init")
@click.argument("trusted_root", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def init_command(options: _Options, trusted_root: Path) -> None:
    """Trust TRUSTED_ROOT (a self-signed root.json) as the starting point."""
    try:
        data = trusted_root.read_bytes()
        TrustedSet(data)  # refuse a root that does not even verify itself
        options.metadata_dir.mkdir(parents=True, exist_ok=True)
        write_file_atomically(options.metadata_dir / "root.json", data)
    except (TufError, OSError) as error:
        raise _refused(error) from None
    click.echo(f"initialised trusted metadata in {options.metadata_dir}")


@tuf.command("refresh")
@click.pass_obj
def refresh_command(options: _Options) -> None:
    """Update the trusted top-level metadata from the repository."""
    options.require(metadata_url=options.metadata_url)
    assert options.metadata_url is not None
    _require_trusted_root(options)
    try:
        Updater(options.metadata_dir, options.metadata_url).refresh()
    except (TufError, OSError) as error:
        raise _refused(error) from None
    click.echo("metadata is up to date")


@tuf.command("download")
@click.pass_obj
def download_command(options: _Options) -> None:
    """Download and verify each --target-name, in order, reusing verified cached copies."""
    options.require(
        metadata_url=options.metadata_url,
        target_name=options.target_names,
        target_base_url=options.target_base_url,
        target_dir=options.target_dir,
    )
    assert options.metadata_url is not None and options.target_dir is not None
    _require_trusted_root(options)
    try:
        options.target_dir.mkdir(parents=True, exist_ok=True)
        updater = Updater(
            options.metadata_dir,
            options.metadata_url,
            options.target_dir,
            options.target_base_url,
        )
        for name in options.target_names:
            info = updater.get_targetinfo(name)
            if info is None:
                raise click.ClickException(f"{name}: no such target in the repository")
            path = updater.find_cached_target(info) or updater.download_target(info)
            click.echo(f"{name}: {path}")
    except (TufError, OSError) as error:
        raise _refused(error) from None
