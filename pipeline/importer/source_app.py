"""What a store's format tells the mapping: one app's metadata, services and variables.

:mod:`~pipeline.importer.umbrel` and :mod:`~pipeline.importer.casaos` each read
their format into a :class:`SourceApp`; :mod:`~pipeline.importer.mapping` turns
any ``SourceApp`` into a manifest.  Platform variables (``$APP_DATA_DIR``,
``$APP_BITCOIN_RPC_PASS``, ``$PUID`` …) are resolved by a :class:`PlatformVariables`
lookup that remembers which ones an app used (that is how dependencies and
permissions are found) and marks secrets so the mapping can turn them into
``{secret: NAME}``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.importer.compose import Project
from pipeline.importer.reasons import Reason, refuse

MAX_SOURCE_FILE_BYTES = 1 << 20

_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
SECRET_MARK = re.compile(_MARK_OPEN + r"([a-z][a-z0-9_-]{0,62})" + _MARK_CLOSE)


def secret_mark(name: str) -> str:
    """The text a secret variable interpolates to, until the mapping replaces it."""
    return f"{_MARK_OPEN}{name}{_MARK_CLOSE}"


@dataclass(frozen=True)
class PlatformValue:
    """One variable the store's platform defines, and what using it means here."""

    value: str
    requires: str | None = None  # an app id or capability this app then needs
    permission: str | None = None  # a permissions field this app then needs
    stands_for: str | None = None  # the generated secret this value stands for
    from_capability: str | None = None  # ... exported by this capability's provider instead
    charset: Literal["alphanumeric", "hex", "base64url"] = "alphanumeric"
    length: int = 32
    provider_path: bool = False  # a host path of another app's data dir
    attention: str | None = None  # what the owner must check when an app uses it


@dataclass
class PlatformVariables:
    """A lookup over the platform's variables, then the app's own; records what was used."""

    platform: dict[str, PlatformValue]
    own: dict[str, str] = field(default_factory=dict)
    used: list[str] = field(default_factory=list)

    def __call__(self, name: str) -> str | None:
        known = self.platform.get(name)
        if known is not None:
            if name not in self.used:
                self.used.append(name)
            return secret_mark(known.stands_for) if known.stands_for else known.value
        return self.own.get(name)


@dataclass
class AppMeta:
    """Store metadata, already reduced to plain text (locale picked, lists flattened)."""

    file: str
    lines: dict[str, int | None]
    id: str | None = None
    name: str | None = None
    version: str | None = None
    summary: str | None = None
    description: str | None = None
    category: str | None = None
    developer: str | None = None
    website: str | None = None
    repo: str | None = None
    support: str | None = None
    release_notes: str | None = None
    default_username: str | None = None
    default_password: str | None = None
    deterministic_password: bool = False
    dependencies: list[str] = field(default_factory=list)
    architectures: list[str] | None = None
    ui_path: str | None = None
    port: int | None = None  # the host port users open the UI on

    def line(self, key: str) -> int | None:
        return self.lines.get(key)


@dataclass(frozen=True)
class UiHint:
    """Which service serves the web UI: by service, container port and/or host port."""

    service: str | None
    container_port: int | None
    host_port: int | None
    path: str
    file: str
    line: int | None


@dataclass
class SourceApp:
    store: Literal["umbrel", "casaos"]
    folder: Path
    source: str  # the folder as the user named it
    meta: AppMeta
    project: Project
    variables: PlatformVariables
    ui: UiHint | None
    dropped_services: dict[str, str] = field(default_factory=dict)  # name -> why
    hostnames: dict[str, str] = field(default_factory=dict)  # address -> service
    data_dir_aliases: list[str] = field(default_factory=list)
    icon: Path | None = None
    reasons: list[Reason] = field(default_factory=list)


def read_source_file(
    folder: Path, relative: str, shown: str, line: int | None = None
) -> bytes | None:
    """A file inside ``folder``: no symlinks, no escapes, a size cap; None when absent."""
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise refuse("I001", f"{relative} is outside the app folder", shown, line)
    path = folder / relative
    parent, home = os.path.realpath(path.parent), os.path.realpath(folder)
    if parent != home and not parent.startswith(home + os.sep):
        raise refuse(
            "I001", f"{relative} is outside the app folder (through a symlink)", shown, line
        )
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise refuse("I001", f"{relative}: {error.strerror}", shown, line) from None
    if stat.S_ISLNK(info.st_mode):
        raise refuse(
            "I001", f"{relative} is a symlink; the importer reads only plain files", shown, line
        )
    if not stat.S_ISREG(info.st_mode):
        raise refuse("I001", f"{relative} is not a regular file", shown, line)
    if info.st_size > MAX_SOURCE_FILE_BYTES:
        raise refuse("I001", f"{relative} is {info.st_size} bytes; the limit is 1 MiB", shown, line)
    with open(path, "rb") as handle:
        return handle.read(MAX_SOURCE_FILE_BYTES + 1)


def local_svg_icon(folder: Path, names: tuple[str, ...] = ("icon.svg", "logo.svg")) -> Path | None:
    """A plain-file SVG icon shipped in the app folder, if any."""
    for name in names:
        path = folder / name
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if not (stat.S_ISREG(info.st_mode) and 0 < info.st_size <= 256 * 1024):
            continue
        text = path.read_bytes().decode("utf-8", "replace").lower()
        if "<svg" in text and "<script" not in text and "javascript:" not in text:
            return path
    return None


def text_of(value: object) -> str | None:
    """A metadata value as stripped text; None when absent or empty."""
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None
