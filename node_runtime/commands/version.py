"""``archy-node version``: the version, and the start probe of a freshly swapped binary.

:func:`node_runtime.self_update.probe_binary` runs it: it loads the compiled
extensions the node needs (a binary that cannot load them must not stay installed),
then prints ``archy-node <version>``.  Imports nothing else of the node, so it
answers fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as distribution_version

import click

from catalog.refusal import Refused

DISTRIBUTION = "archipelago-registry"
# Compiled extensions without which the node cannot verify or parse anything.
REQUIRED_EXTENSIONS = (
    "blake3",
    "nacl.bindings",
    "pydantic_core._pydantic_core",
    "cryptography.hazmat.bindings._rust",
)


def node_version() -> str:
    try:
        return distribution_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


@click.command("version")
def version_command() -> None:
    """Print the version (after loading the compiled extensions: the start probe)."""
    for module in REQUIRED_EXTENSIONS:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise Refused(f"cannot load {module}: {error}") from None
    click.echo(f"archy-node {node_version()}")
