"""``archy-node``: the node agent's command line, and its registry of commands.

``node_runtime.commands`` holds thin click commands only (one module per group of
commands: parse options, call one library function, print); this module lists them
once, in help order, as ``name -> ("module:attribute", short help)``.  Built on
:class:`catalog.command_group.LazyGroup`: a command's module is imported only when
it runs (``archy-node tuf refresh`` does not load the apply engine, and the daemon
and the conformance suite start the binary often enough that start time matters),
and a :class:`catalog.refusal.Refused` escaping any command prints ``error: …``
(``hint: …``) and exits 1, here and nowhere else.

Imports only click and the shared command group: ``archy-node --help`` stays fast,
and the node never loads the publisher's libraries (boto3, GitPython, jinja2).

It also keeps httpx's own command line out: ``import httpx`` imports
``httpx._main`` (rich, pygments, click) whenever those are installed, about
a second on a loaded machine, on every command that fetches.  Marking that one
module absent makes httpx take its built-in fallback (its ``main`` only prints
that the CLI is missing); the node never runs httpx's CLI.
"""

from __future__ import annotations

import sys

import click

from catalog.command_group import LazyGroup

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # before any httpx import

_HERE = "node_runtime.commands"

# command name -> ("module:attribute" of its click command, one-line help), in help order.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (f"{_HERE}.node:init_command", "Set up this node: trust ROOT, remember the origin."),
    "pull": (f"{_HERE}.node:pull_command", "Refresh trust and fetch the signed catalog."),
    "status": (f"{_HERE}.node:status_command", "Installed apps, the catalog and the last pull."),
    "list": (f"{_HERE}.node:list_command", "Every app in the current catalog."),
    "install": (f"{_HERE}.install:install_command", "Add APP to this node and apply it."),
    "uninstall": (f"{_HERE}.install:uninstall_command", "Remove APP from this node."),
    "configure": (f"{_HERE}.settings:configure_command", "Set APP's owner settings."),
    "credentials": (
        f"{_HERE}.credentials:credentials_command",
        "Show APP's credentials for the owner.",
    ),
    "apply": (f"{_HERE}.apply:apply_command", "Bring the installed apps to the catalog."),
    "start": (f"{_HERE}.apply:start_command", "Start APP's members in order."),
    "stop": (f"{_HERE}.apply:stop_command", "Stop APP (until `archy-node start`)."),
    "restart": (f"{_HERE}.apply:restart_command", "Restart APP's members in start order."),
    "run-hooks": (
        f"{_HERE}.run_hooks:run_hooks_command",
        "Run a member's hooks now (what Quadlet units run).",
    ),
    "daemon": (f"{_HERE}.daemon:daemon_command", "Pull and keep the installed apps converged."),
    "install-service": (
        f"{_HERE}.service:install_service_command",
        "Install and start archy-node.service.",
    ),
    "self-update": (
        f"{_HERE}.self_update:self_update_command",
        "Install the node binary the catalog names.",
    ),
    "version": (f"{_HERE}.version:version_command", "Print the version (the start probe)."),
    "tuf": (f"{_HERE}.tuf:tuf", "Verify and fetch from a TUF repository."),
    "seed": (f"{_HERE}.seed:seed", "Serve blobs by BLAKE3 to other nodes (a swarm seed)."),
    "registry": (f"{_HERE}.registry:registry", "Third-party registries: add, list, set, remove."),
    "info": (f"{_HERE}.registry:info_command", "REGISTRY/APP: its developer and trust score."),
    "discover": (
        "node_runtime.commands.discover:discover_command",
        "Apps announced on Nostr, verified, with trust scores.",
    ),
}


def _print_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    """``archy-node --version``: what ``archy-node version`` prints, without its probe."""
    if not value or context.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("archipelago-registry")
    except PackageNotFoundError:
        text = "unknown"
    click.echo(f"archy-node {text}")
    context.exit()


def _write_imported_modules(_context: click.Context, _param: click.Parameter, path: str) -> None:
    """``--write-imported-modules PATH`` (hidden): when the command ends, write the name
    of every module it imported (not those marked absent), one a line, to PATH — how the
    frozen tests check that a command imports no more than it needs (``-X importtime``
    does not reach a frozen binary)."""
    if not path:
        return
    import atexit

    def write() -> None:
        with open(path, "w", encoding="utf-8") as listing:
            imported = sorted(name for name, module in sys.modules.items() if module is not None)
            listing.write("".join(f"{name}\n" for name in imported))

    atexit.register(write)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
@click.option(
    "--write-imported-modules",
    metavar="PATH",
    hidden=True,
    expose_value=False,
    is_eager=True,
    callback=_write_imported_modules,
)
def main() -> None:
    """Archipelago node agent: pull the signed catalog, verify it, apply it."""
