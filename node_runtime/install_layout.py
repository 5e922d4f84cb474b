"""Where the one-dir node agent is installed, and the renames that change it.

The node agent is a one-dir bundle (``catalog/node_bundle.py``), installed under one
directory, the *prefix* (say ``/opt/archy-node``)::

    archy-node -> archy-node-<16 hex>/archy-node   the link systemd and the owner run
    archy-node-<16 hex>/                           an unpacked bundle; the 16 hex are the
                                                   start of its archive's BLAKE3
    archy-node.previous -> archy-node-<…>/archy-node  the bundle before the last update
    archy-node.rejected                            the BLAKE3 of a bundle that failed to start
    .archy-node-<16 hex>.incoming-<pid>/           a bundle being unpacked
    .archy-node.<pid>.link                         a link being made

A bundle directory appears by one rename of a complete, fsynced directory, and the
link changes by one rename of a new symlink over it, so a crash at any point leaves the
link on a complete bundle; :func:`remove_leftovers` clears what a killed update left
(the two hidden kinds, and bundles no link names) before the next one starts.

Public API: ``BUNDLE_ID_LENGTH``, ``LayoutError``, ``bundle_directory_name(blake3)``,
``installed_link(executable)``, ``InstallLayout``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from catalog.node_bundle import ENTRY_POINT
from node_runtime.store.atomic_file import fsync_directory

BUNDLE_ID_LENGTH = 16
LINK_NAME = "archy-node"
_BUNDLE_DIRECTORY = re.compile(rf"^archy-node-[0-9a-f]{{{BUNDLE_ID_LENGTH}}}$")
_INCOMING = re.compile(rf"^\.archy-node-[0-9a-f]{{{BUNDLE_ID_LENGTH}}}\.incoming-\d+$")
_PARTIAL_LINK = re.compile(r"^\.archy-node(\.previous)?\.\d+\.link$")


class LayoutError(Exception):
    """The installed agent is not laid out as this module expects; nothing was changed."""


def bundle_directory_name(blake3: str) -> str:
    """``archy-node-<the first 16 hex of the archive's BLAKE3>``."""
    return f"archy-node-{blake3[:BUNDLE_ID_LENGTH]}"


def installed_link(executable: Path) -> Path | None:
    """The link that runs ``executable`` (``<prefix>/archy-node-<id>/archy-node``), if there
    is one: ``<prefix>/archy-node`` when it is a symlink to that bundle; else None."""
    bundle = executable.parent
    if executable.name != ENTRY_POINT or not _BUNDLE_DIRECTORY.fullmatch(bundle.name):
        return None
    link = bundle.parent / LINK_NAME
    with contextlib.suppress(OSError):
        if os.readlink(link) == f"{bundle.name}/{ENTRY_POINT}":
            return link
    return None


@dataclass(frozen=True)
class InstallLayout:
    """The install whose link is ``link`` (``<prefix>/archy-node``)."""

    link: Path

    @property
    def prefix(self) -> Path:
        return self.link.parent

    @property
    def previous_link(self) -> Path:
        return self.link.with_name(f"{self.link.name}.previous")

    @property
    def rejected_marker(self) -> Path:
        return self.link.with_name(f"{self.link.name}.rejected")

    def bundle(self, name: str) -> Path:
        return self.prefix / name

    def incoming(self, name: str) -> Path:
        """Where ``name`` is unpacked before its rename into place."""
        return self.prefix / f".{name}.incoming-{os.getpid()}"

    def current_bundle(self) -> str:
        """The bundle directory the link names; LayoutError if it is not such a link."""
        return self._bundle_named_by(self.link)

    def previous_bundle(self) -> str | None:
        try:
            return self._bundle_named_by(self.previous_link)
        except LayoutError:
            return None

    def _bundle_named_by(self, link: Path) -> str:
        try:
            target = os.readlink(link)
        except OSError:
            raise LayoutError(
                f"{link} is not a symlink to archy-node-<blake3>/{ENTRY_POINT} beside it "
                "(the one-dir install; see docs/self-update.md)"
            ) from None
        name, _, entry = target.partition("/")
        if entry != ENTRY_POINT or not _BUNDLE_DIRECTORY.fullmatch(name):
            raise LayoutError(
                f"{link} points at {target}, not at archy-node-<blake3>/{ENTRY_POINT} beside it"
            )
        if not (self.prefix / name / ENTRY_POINT).is_file():
            raise LayoutError(f"{link} points at {target}, which is not there")
        return name

    def point(self, link: Path, bundle_name: str) -> None:
        """Make ``link`` name ``bundle_name``'s executable, in one rename (fsynced)."""
        partial = link.with_name(f".{link.name}.{os.getpid()}.link")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        os.symlink(f"{bundle_name}/{ENTRY_POINT}", partial)
        try:
            os.replace(partial, link)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
        fsync_directory(self.prefix)

    def move_into_place(self, incoming: Path, bundle_name: str) -> Path:
        """Rename the unpacked ``incoming`` to ``bundle_name`` (replacing a stale copy that
        no link names), fsynced; its path."""
        destination = self.bundle(bundle_name)
        if destination.exists():
            shutil.rmtree(destination)
        os.rename(incoming, destination)
        fsync_directory(self.prefix)
        return destination

    def remove_leftovers(self) -> list[str]:
        """Remove what a killed update left: partial directories and links, and bundles
        neither link names.  The names removed."""
        keep = {self.current_bundle(), self.previous_bundle()}
        removed = []
        for entry in sorted(os.listdir(self.prefix)):
            path = self.prefix / entry
            if _INCOMING.fullmatch(entry) or (
                _BUNDLE_DIRECTORY.fullmatch(entry) and entry not in keep
            ):
                shutil.rmtree(path, ignore_errors=True)
            elif _PARTIAL_LINK.fullmatch(entry) and path.is_symlink():
                path.unlink()
            else:
                continue
            removed.append(entry)
        return removed

    def remove_bundle(self, name: str) -> None:
        shutil.rmtree(self.bundle(name), ignore_errors=True)
