"""``archy-node``: the node agent's command line.

A thin click group.  Each command lives in the module of its feature and is
imported only when it runs: ``archy-node tuf refresh`` should not pay for
loading the apply engine, and the daemon restarts the binary often enough
that start time matters (the conformance suite starts it hundreds of times).
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of its click command, in help order.
COMMANDS: dict[str, str] = {
    "init": "node_runtime.node_commands:init_command",
    "pull": "node_runtime.node_commands:pull_command",
    "status": "node_runtime.node_commands:status_command",
    "list": "node_runtime.node_commands:list_command",
    "install": "node_runtime.node_commands:install_command",
    "uninstall": "node_runtime.node_commands:uninstall_command",
    "configure": "node_runtime.settings_commands:configure_command",
    "apply": "node_runtime.apply_commands:apply_command",
    "start": "node_runtime.apply_commands:start_command",
    "stop": "node_runtime.apply_commands:stop_command",
    "restart": "node_runtime.apply_commands:restart_command",
    "daemon": "node_runtime.apply_commands:daemon_command",
    "install-service": "node_runtime.service_commands:install_service_command",
    "self-update": "node_runtime.self_update_commands:self_update_command",
    "version": "node_runtime.self_update_commands:version_command",
    "tuf": "node_runtime.commands.tuf:tuf",
    "seed": "node_runtime.commands.seed:seed",
    "discover": "node_runtime.market.commands:discover_command",
}


def load_command(name: str) -> click.Command:
    module_name, attribute = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{COMMANDS[name]} is not a click command")
    return command


class LazyCommands(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        return load_command(cmd_name)


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


@click.group(cls=LazyCommands, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the version and exit.",
)
def main() -> None:
    """Archipelago node agent: pull the signed catalog, verify it, apply it."""
