"""``archy-node``: the node agent's command line.

A thin click group: each feature registers its own subcommands here.
"""

from __future__ import annotations

import click

from node_runtime.tuf_cli import tuf


@click.group()
def main() -> None:
    """Archipelago node agent."""


main.add_command(tuf)

from node_runtime.node_commands import NODE_COMMANDS  # noqa: E402

for node_command in NODE_COMMANDS:
    main.add_command(node_command)

from node_runtime.self_update_commands import self_update_command, version_command  # noqa: E402

main.add_command(version_command)
main.add_command(self_update_command)

from node_runtime.apply_commands import APPLY_COMMANDS  # noqa: E402

for apply_command in APPLY_COMMANDS:
    main.add_command(apply_command)
