"""The owner's settings of an app (``owner_settings``): ``archy-node configure`` and install.

A setting's value is kept like a generated secret, in ``<state root>/secrets/<app>/<name>``
(0600, in a 0700 dir, written atomically), so the apply hands it to the container
as the Podman secret ``archy-<app>_<name>`` with the same steps, and only
``uninstall --purge`` removes it.  Values are checked against the manifest
(type, choices, pattern) before anything is written; a secret value is never
repeated in a message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from catalog.manifest import Manifest
from catalog.owner_setting import OwnerSetting, owner_setting_problem, setting_text
from catalog.refusal import Refused
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.paths import secret_file, secret_file_exists, secrets_dir
from node_runtime.store.safe_paths import UnsafePath, open_directory


class SettingRefused(Refused):
    """A setting cannot be stored; the message names it and says what to do."""


@dataclass(frozen=True)
class StoredSetting:
    name: str
    secret: bool
    changed: bool = True
    """False when the stored value was already this one."""


def configure_command_hint(app_id: str, setting: OwnerSetting) -> str:
    """The exact command that sets ``setting`` (a secret one from a file, never echoed)."""
    if setting.type == "secret":
        return f"archy-node configure {app_id} --from-file {setting.name}=PATH"
    return f"archy-node configure {app_id} {setting.name}=VALUE"


def missing_required(manifest: Manifest, state_root: Path) -> list[OwnerSetting]:
    """Required settings of the app that the owner has not set on this node."""
    return [
        setting
        for setting in manifest.owner_settings
        if setting.required
        and not secret_file_exists(secret_file(state_root, manifest.id, setting.name), state_root)
    ]


def missing_settings_message(app_id: str, missing: list[OwnerSetting]) -> str:
    """What install says when required settings are missing: each one and its command."""
    parts = [
        f"{setting.name} ({setting.help}): run `{configure_command_hint(app_id, setting)}`"
        for setting in missing
    ]
    noun = "setting" if len(missing) == 1 else "settings"
    return f"{app_id} needs the {noun} " + "; ".join(parts) + f", then install {app_id} again"


def _write_value(state_root: Path, app_id: str, name: str, value: bytes) -> None:
    folder_path = secrets_dir(state_root, app_id)
    try:
        with open_directory(str(state_root), str(folder_path), create=True, mode=0o700) as folder:
            os.fchmod(folder, 0o700)
    except UnsafePath as error:
        raise SettingRefused(f"{error}; remove the symlink") from None
    write_file_atomically(secret_file(state_root, app_id, name), value, mode=0o600)


def store_settings(
    manifest: Manifest, values: Mapping[str, str], state_root: Path
) -> list[StoredSetting]:
    """Check every value, then write them all (nothing is written when one is refused)."""
    checked: list[tuple[OwnerSetting, str]] = []
    declared = ", ".join(s.name for s in manifest.owner_settings) or "none"
    for name, text in values.items():
        setting = manifest.owner_setting(name)
        if setting is None:
            raise SettingRefused(f"{manifest.id} has no setting {name!r}; its settings: {declared}")
        problem = owner_setting_problem(setting, text)
        if problem is not None:
            raise SettingRefused(f"{manifest.id} {name}: the value {problem}; nothing was changed")
        checked.append((setting, text))
    stored: list[StoredSetting] = []
    for setting, text in checked:
        changed = _stored_value(state_root, manifest.id, setting.name) != text.encode()
        if changed:
            _write_value(state_root, manifest.id, setting.name, text.encode())
        stored.append(StoredSetting(setting.name, setting.type == "secret", changed))
    return stored


def _stored_value(state_root: Path, app_id: str, name: str) -> bytes | None:
    """The value stored now, None when there is none (never read through a symlink)."""
    try:
        with open_directory(str(state_root), str(secrets_dir(state_root, app_id))) as folder:
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except (OSError, UnsafePath):
        return None
    with os.fdopen(handle, "rb") as stream:
        return stream.read()


def write_defaults(manifest: Manifest, state_root: Path) -> None:
    """Store the default of every setting the owner has not set (at install)."""
    for setting in manifest.owner_settings:
        path = secret_file(state_root, manifest.id, setting.name)
        if setting.default is not None and not secret_file_exists(path, state_root):
            _write_value(
                state_root, manifest.id, setting.name, setting_text(setting.default).encode()
            )
