"""``archy-node install-service``: run the node agent as a systemd service for the node user.

Renders ``archy-node.service`` (:func:`node_runtime.service.render_node_service`) for
``--user``, writes it atomically into ``/etc/systemd/system`` (or ``--unit-dir``),
then ``systemctl daemon-reload`` and ``systemctl enable --now`` (``--no-start``:
enable only).  ``--print`` shows the unit and changes nothing.  Runs as root; the
node must be initialised (its config names the data root).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import sys
from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.commands.options import json_option, state_root_option
from node_runtime.install_layout import InstallLayout, LayoutError, installed_link
from node_runtime.service import (
    SERVICE_NAME,
    SYSTEM_UNIT_DIR,
    ServiceSettings,
    render_node_service,
    systemctl,
)
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.node_config import NodeConfigError, load_config
from node_runtime.store.paths import NodePaths


def _default_binary() -> str | None:
    """The link that runs this frozen binary (``<prefix>/archy-node``, so the unit keeps
    running whatever bundle self-update links), else this executable, else the PATH's."""
    if getattr(sys, "frozen", False):
        executable = Path(sys.executable).resolve()
        return str(installed_link(executable) or executable)
    return shutil.which("archy-node")


@click.command("install-service")
@click.option("--user", "user_name", required=True, help="The node user the agent runs as.")
@click.option(
    "--binary",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The archy-node the service runs (default: the link <prefix>/archy-node that runs "
    "this one).",
)
@click.option(
    "--unit-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(SYSTEM_UNIT_DIR),
    show_default=True,
    help="Where the unit is written.",
)
@click.option("--no-pull", is_flag=True, help="The daemon only reconciles (never pulls).")
@click.option(
    "--self-update",
    is_flag=True,
    help="The daemon installs the node bundle the catalog names and is restarted onto it "
    "(--binary must be the link <prefix>/archy-node -> archy-node-<blake3>/archy-node, and "
    "it and its directory must belong to --user).",
)
@click.option("--no-start", is_flag=True, help="Enable the service but do not start it now.")
@click.option("--print", "print_only", is_flag=True, help="Print the unit; change nothing.")
@json_option
@state_root_option
def install_service_command(
    user_name: str,
    binary: Path | None,
    unit_dir: Path,
    no_pull: bool,
    self_update: bool,
    no_start: bool,
    print_only: bool,
    as_json: bool,
    state_root: Path,
) -> None:
    """Install, enable and start archy-node.service (the daemon, as the node user)."""
    try:
        account = pwd.getpwnam(user_name)
    except KeyError:
        raise Refused(f"--user: there is no user {user_name!r} on this machine") from None
    chosen = str(binary) if binary is not None else _default_binary()
    if chosen is None:
        raise Refused("--binary: no archy-node binary found; name the one the service runs")
    chosen = os.path.abspath(chosen)
    if not os.access(chosen, os.X_OK):
        raise Refused(f"--binary: {chosen} is not an executable file")
    if self_update:
        try:
            InstallLayout(Path(chosen)).current_bundle()
        except LayoutError as error:
            raise Refused(f"--self-update: {error}") from None
        for path in (chosen, os.path.dirname(chosen)):
            if os.stat(path).st_uid != account.pw_uid:
                raise Refused(
                    f"--self-update: {path} does not belong to {user_name}, so the agent could "
                    "not replace the binary; put it in a directory the node user owns"
                )
    try:
        data_root = load_config(NodePaths(state_root)).data_root
    except NodeConfigError as error:
        raise Refused(str(error)) from None
    settings = ServiceSettings(
        user=account.pw_name,
        uid=account.pw_uid,
        group=grp.getgrgid(account.pw_gid).gr_name,
        home=account.pw_dir,
        binary=chosen,
        state_root=str(state_root),
        data_root=data_root,
        daemon_arguments=("--no-pull",) if no_pull else (),
        self_update=self_update,
    )
    text = render_node_service(settings)
    if print_only:
        click.echo(text, nl=False)
        return
    if os.geteuid() != 0:
        raise Refused(
            f"install-service writes {unit_dir / SERVICE_NAME} and enables it: run it as root "
            f"(sudo archy-node install-service --user {user_name})"
        )
    unit_path = unit_dir / SERVICE_NAME
    write_file_atomically(unit_path, text.encode(), mode=0o644)
    systemctl("daemon-reload")
    systemctl("enable", *(() if no_start else ("--now",)), SERVICE_NAME)
    if as_json:
        click.echo(json.dumps({"unit": str(unit_path), "started": not no_start, "user": user_name}))
    else:
        started = "enabled" if no_start else "enabled and started"
        click.echo(f"{unit_path}: {SERVICE_NAME} {started} (runs as {user_name})")
