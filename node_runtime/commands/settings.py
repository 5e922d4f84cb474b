"""``archy-node configure APP KEY=VALUE… [--from-file KEY=PATH]``: the owner's settings.

Thin: parses the assignments, reads files, and calls
:func:`node_runtime.store.owner_settings.store_settings` under the state lock.  A value is
never printed (secret or not); a secret setting is taken only from a file, so it
stays out of the shell's history and the process list.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.refusal import Refused
from node_runtime.commands.options import json_option, print_json, state_root_option
from node_runtime.local_node import NO_CATALOG
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.changed_settings import mark_settings_changed
from node_runtime.store.node_state import NodeState, load_current_catalog
from node_runtime.store.owner_settings import SettingRefused, store_settings
from node_runtime.store.paths import NodePaths, StateError

MAX_SETTING_FILE_BYTES = 64 * 1024


def _split(assignment: str, what: str) -> tuple[str, str]:
    name, separator, value = assignment.partition("=")
    if not separator or not name:
        raise click.UsageError(f"{assignment.split('=')[0]!r}: write {what}")
    return name, value


def _read_value_file(name: str, path_text: str) -> str:
    path = Path(path_text)
    try:
        data = path.read_bytes()[: MAX_SETTING_FILE_BYTES + 1]
    except OSError as error:
        raise Refused(
            f"--from-file {name}: {path} cannot be read ({error.strerror}); nothing was changed"
        ) from None
    if len(data) > MAX_SETTING_FILE_BYTES:
        raise Refused(f"--from-file {name}: {path} is larger than 64 KiB; nothing was changed")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(
            f"--from-file {name}: {path} is not UTF-8 text; nothing was changed"
        ) from None
    return text.removesuffix("\n").removesuffix("\r")


@click.command("configure")
@click.argument("app_id", metavar="APP")
@click.argument("assignments", nargs=-1, metavar="KEY=VALUE...")
@click.option(
    "--from-file",
    "from_files",
    multiple=True,
    metavar="KEY=PATH",
    help="Read a setting's value from a file (required for secret settings; never echoed).",
)
@json_option
@state_root_option
def configure_command(
    app_id: str,
    assignments: tuple[str, ...],
    from_files: tuple[str, ...],
    as_json: bool,
    state_root: Path,
) -> None:
    """Set APP's owner settings (its manifest's owner_settings); the next apply uses them."""
    values: dict[str, str] = {}
    on_command_line: set[str] = set()
    for assignment in assignments:
        name, value = _split(assignment, "KEY=VALUE")
        values[name] = value
        on_command_line.add(name)
    for assignment in from_files:
        name, path_text = _split(assignment, "--from-file KEY=PATH")
        values[name] = _read_value_file(name, path_text)
    if not values:
        raise click.UsageError("give at least one KEY=VALUE or --from-file KEY=PATH")
    paths = NodePaths(state_root)
    state = NodeState(paths)
    try:
        with state.lock():
            loaded = load_current_catalog(state, BlobStore(paths.blobs_dir))
            if loaded is None:
                raise Refused(NO_CATALOG)
            app = loaded.catalog.apps.get(app_id)
            if app is None:
                raise Refused(
                    f"{app_id!r} is not in the catalog; `archy-node list` shows the apps it has"
                )
            for name in sorted(on_command_line):
                setting = app.manifest.owner_setting(name)
                if setting is not None and setting.type == "secret":
                    raise Refused(
                        f"{app_id} {name} is a secret: give it with --from-file {name}=PATH "
                        "(a value on the command line stays in the shell's history); "
                        "nothing was changed"
                    )
            stored = store_settings(app.manifest, values, paths.root)
            changed = [each.name for each in stored if each.changed]
            if changed:
                mark_settings_changed(paths, app_id, changed)
    except (SettingRefused, StateError) as error:
        raise Refused(str(error)) from None
    except OSError as error:
        raise Refused(
            f"the settings cannot be written ({error.strerror}); nothing was changed"
        ) from None
    if as_json:
        print_json({"app": app_id, "set": [{"name": s.name, "secret": s.secret,
                                            "changed": s.changed} for s in stored]})  # fmt: skip
        return
    for each in stored:
        kind = " (secret)" if each.secret else ""
        click.echo(f"{app_id}: {each.name}{kind} {'set' if each.changed else 'unchanged'}")
    if app_id in state.applied().apps and any(each.changed for each in stored):
        click.echo(
            f"next: archy-node apply (re-creates the changed settings' Podman secrets and "
            f"recreates the {app_id} members that use them; data is kept)"
        )
    elif app_id in state.applied().apps:
        click.echo(f"{app_id}: nothing changed")
    elif app_id not in state.installed().apps:
        click.echo(f"next: archy-node install {app_id}")
    else:
        click.echo("next: archy-node apply")
