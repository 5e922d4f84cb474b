"""Read the app folders under ``apps/``: every manifest, safely, with its lines.

The edge between the file system and the pure loader: refuses symlinked or
oversized manifests before reading them, and collects every app's problems
instead of stopping at the first.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from catalog.loader import MAX_MANIFEST_BYTES, ManifestSource, parse_manifest_source
from catalog.problems import ManifestError, Problem

MANIFEST_NAME = "manifest.yml"
NOT_A_MANIFEST = (
    f"not an app: give an app folder, its {MANIFEST_NAME}, or a folder of apps (e.g. apps/)"
)


@dataclass(frozen=True)
class AppFolder:
    """One ``apps/<id>/`` folder and its parsed manifest."""

    path: Path
    source: ManifestSource

    @property
    def app_id(self) -> str:
        return self.source.manifest.id


def display_path(path: Path) -> str:
    """The path as the user should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_manifest_bytes(path: Path) -> bytes:
    """Read a manifest file, refusing symlinks, non-regular files and files over 1 MiB."""
    shown = display_path(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ManifestError([Problem(shown, None, "", "file not found")]) from None
    except NotADirectoryError:
        raise ManifestError([Problem(shown, None, "", NOT_A_MANIFEST)]) from None
    if stat.S_ISLNK(info.st_mode):
        raise ManifestError([Problem(shown, None, "", "is a symlink; manifests must be files")])
    if not stat.S_ISREG(info.st_mode):
        raise ManifestError([Problem(shown, None, "", "is not a regular file")])
    if info.st_size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            [Problem(shown, None, "", f"file is {info.st_size} bytes; the limit is 1 MiB")]
        )
    with open(path, "rb") as handle:
        return handle.read(MAX_MANIFEST_BYTES + 1)


def load_app_folder(folder: Path) -> AppFolder:
    """Parse ``folder/manifest.yml``; the app id must equal the folder name."""
    if folder.is_file():
        raise ManifestError([Problem(display_path(folder), None, "", NOT_A_MANIFEST)])
    manifest_path = folder / MANIFEST_NAME
    data = read_manifest_bytes(manifest_path)
    # abspath, not resolve: "." gets its real name, a symlinked folder keeps its own.
    folder_name = Path(os.path.abspath(folder)).name
    source = parse_manifest_source(data, display_path(manifest_path), folder_name)
    return AppFolder(folder, source)


def find_app_folders(paths: list[Path]) -> list[Path]:
    """Expand arguments into app folders: an ``apps/`` dir, one app dir, or a manifest file."""
    folders: list[Path] = []
    for path in paths:
        if path.is_file() and path.name == MANIFEST_NAME:
            folders.append(path.parent)
        elif (path / MANIFEST_NAME).exists() or (path / MANIFEST_NAME).is_symlink():
            folders.append(path)
        elif path.is_dir():
            folders.extend(
                sorted(
                    child
                    for child in path.iterdir()
                    if child.is_dir() and not child.name.startswith(".")
                )
            )
        else:
            folders.append(path)
    return folders


def load_app_folders(paths: list[Path]) -> tuple[list[AppFolder], list[Problem]]:
    """Load every app under ``paths``; return the good ones and every problem of the bad ones."""
    apps: list[AppFolder] = []
    problems: list[Problem] = []
    for folder in find_app_folders(paths):
        try:
            apps.append(load_app_folder(folder))
        except ManifestError as error:
            problems.extend(error.problems)
    return apps, problems
