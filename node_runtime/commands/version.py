"""``archy-node version``: the version, and the start probe of a freshly swapped binary.

:func:`node_runtime.self_update.probe_binary` runs it: it loads the compiled
extensions the node needs to verify and update itself (a binary that cannot load them
must not stay installed), checks that a frozen binary carries the libraries it unpacks
only on first use (iroh, nostr-sdk, cryptography: see
:mod:`node_runtime.deferred_libraries`) without loading them, then prints
``archy-node <version>``.  Imports nothing else of the node, so it answers fast.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version
from pathlib import Path

import click

from catalog.refusal import Refused

DISTRIBUTION = "archipelago-registry"
# Compiled extensions without which the node cannot verify or parse anything
# (cryptography checks only third parties' ECDSA and RSA keys: checked as present,
# not loaded).
REQUIRED_EXTENSIONS = (
    "blake3",
    "nacl.bindings",
    "pydantic_core._pydantic_core",
)


def node_version() -> str:
    try:
        return distribution_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _check_deferred_libraries(executable: Path, unpack_directory: Path) -> None:
    from node_runtime.deferred_libraries import DeferredLibraryError, missing_entries

    try:
        missing = missing_entries(executable, unpack_directory)
    except (OSError, DeferredLibraryError) as error:
        raise Refused(f"cannot read the binary's archive: {error}") from None
    if missing:
        raise Refused(f"the binary does not carry {', '.join(missing)}")


@click.command("version")
def version_command() -> None:
    """Print the version (after loading the compiled extensions: the start probe)."""
    for module in REQUIRED_EXTENSIONS:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise Refused(f"cannot load {module}: {error}") from None
    if getattr(sys, "frozen", False):
        executable = Path(sys.executable)
        _check_deferred_libraries(executable, Path(getattr(sys, "_MEIPASS", executable.parent)))
    click.echo(f"archy-node {node_version()}")
