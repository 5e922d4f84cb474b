"""Companion images: built by CI from ``apps/<id>/<build.context>/`` and shipped as targets.

A companion is rebuilt only when the BLAKE3 of its build context changed
since the previous catalog (the plan's "companion rebuilds" gotcha: a stale
image never carries a fix to the nodes, and an unchanged one is never
rebuilt for nothing).  An image tagged ``:local`` is a manual override and
never built.  The build is ``podman build --pull=never`` with the commit's
time as the image timestamp; the image is saved as an OCI archive, which
becomes the target ``companions/<blake3>.<member>.oci.tar``.

The context is hashed and materialised from the commit's files, never from
the work tree, and a symlink that points outside it is refused.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from catalog.address import blake3_hex, blake3_stream
from catalog.canonical import encode_canonical
from catalog.catalog_model import Companion, TargetFile
from catalog.manifest import Manifest
from catalog.manifest_fields import parse_image_reference
from pipeline.gitsource import MODE_EXECUTABLE, Snapshot, SourceFile

LOCAL_OVERRIDE_TAG = "local"


class CompanionError(Exception):
    """A companion's context is refused or its build failed; the message names the app."""


@dataclass(frozen=True)
class CompanionContext:
    """One member's build context as the commit records it."""

    app_id: str
    member: str
    image: str
    folder: str
    containerfile: str
    files: tuple[SourceFile, ...]
    blake3: str

    @property
    def local_override(self) -> bool:
        return parse_image_reference(self.image)[1] == LOCAL_OVERRIDE_TAG

    def relative(self, source: SourceFile) -> str:
        return source.path[len(self.folder) + 1 :]


def check_symlinks(folder: str, files: list[SourceFile]) -> None:
    """Refuse absolute symlinks and ones whose target leaves the context folder."""
    for source in files:
        if not source.is_symlink:
            continue
        target = source.read().decode("utf-8", errors="replace")
        relative = source.path[len(folder) + 1 :]
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
        if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
            raise CompanionError(
                f"{source.path} -> {target} points outside the build context {folder}/; "
                "copy the file into the context instead"
            )


def context_blake3(folder: str, files: list[SourceFile]) -> str:
    """BLAKE3 over every file's path, mode and content BLAKE3, in path order."""
    listing = [
        [source.path[len(folder) + 1 :], f"{source.mode:o}", blake3_hex(source.read())]
        for source in sorted(files, key=lambda each: each.path)
    ]
    return blake3_hex(encode_canonical(listing))


def companion_contexts(snapshot: Snapshot, manifest: Manifest) -> list[CompanionContext]:
    """The build context of every member with ``build``, checked and hashed."""
    contexts: list[CompanionContext] = []
    app_folder = f"apps/{manifest.id}"
    for member in manifest.containers:
        if member.build is None:
            continue
        folder = posixpath.normpath(posixpath.join(app_folder, member.build.context))
        if not folder.startswith(app_folder + "/"):
            raise CompanionError(
                f"{app_folder}/manifest.yml: {member.name}: build.context "
                f"{member.build.context!r} must be a folder inside {app_folder}/"
            )
        files = snapshot.under(folder)
        containerfile = f"{folder}/{member.build.containerfile}"
        if snapshot.get(containerfile) is None:
            raise CompanionError(f"{containerfile} is missing (build context of {member.name})")
        if snapshot.get(containerfile) is not None and snapshot.files[containerfile].is_symlink:
            raise CompanionError(f"{containerfile} is a symlink; it must be a file")
        check_symlinks(folder, files)
        contexts.append(
            CompanionContext(
                app_id=manifest.id,
                member=member.name,
                image=member.image,
                folder=folder,
                containerfile=member.build.containerfile,
                files=tuple(files),
                blake3=context_blake3(folder, files),
            )
        )
    return contexts


# --- running podman -----------------------------------------------------------


class PodmanRunner(Protocol):
    """Where podman runs: the CI user's own podman, or a rootless test user."""

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``podman args``; never raises for a non-zero exit."""
        ...

    def scratch_dir(self) -> contextlib.AbstractContextManager[Path]:
        """A fresh directory podman may read and write, removed afterwards."""
        ...

    def hand_over(self, path: Path) -> None:
        """Make files written under ``path`` readable by podman's user."""
        ...


class LocalPodman:
    """``podman`` on PATH, as the current user."""

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["podman", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError:
            raise CompanionError("podman is not installed; companions need it") from None

    @contextlib.contextmanager
    def scratch_dir(self) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="archy-companion-") as path:
            yield Path(path)

    def hand_over(self, path: Path) -> None:
        return None


def materialise_context(context: CompanionContext, destination: Path) -> None:
    """Write the context's files (from the commit) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for source in context.files:
        path = destination / context.relative(source)
        path.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink:
            os.symlink(source.read().decode("utf-8"), path)
        else:
            path.write_bytes(source.read())
            path.chmod(0o755 if source.mode == MODE_EXECUTABLE else 0o644)
    for directory, _subdirs, _files in os.walk(destination):
        os.chmod(directory, 0o755)  # noqa: S103 - podman's user must read the context


COMPANION_FAILED = ": podman build of "  # what a failed companion build's message contains


def _podman_checked(runner: PodmanRunner, context: CompanionContext, *args: str) -> str:
    done = runner.podman(*args)
    if done.returncode != 0:
        last_lines = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise CompanionError(
            f"{context.app_id}: podman {args[0]} of {context.member} failed "
            f"(exit {done.returncode}): {last_lines}"
        )
    return done.stdout


def normalise_archive(source: Path, destination: Path, timestamp: int) -> None:
    """Rewrite podman's OCI archive with fixed tar headers, so the same image gives the same bytes.

    ``podman save`` stamps every entry with the time of saving; the content
    (index, manifests, blobs) is already content-addressed.  Entries are
    written in name order, owned by 0:0, dated ``timestamp``.
    """
    with (
        tarfile.open(source, "r:") as original,
        tarfile.open(destination, "w:", format=tarfile.PAX_FORMAT) as normalised,
    ):
        members = sorted(original.getmembers(), key=lambda member: member.name)
        for member in members:
            if not (member.isfile() or member.isdir()):
                raise CompanionError(f"podman save wrote an unexpected entry {member.name!r}")
            header = tarfile.TarInfo(member.name)
            header.type = member.type
            header.mode = 0o755 if member.isdir() else 0o644
            header.mtime = timestamp
            header.uid = header.gid = 0
            header.uname = header.gname = ""
            header.size = member.size if member.isfile() else 0
            payload = original.extractfile(member) if member.isfile() else None
            normalised.addfile(header, payload)


def build_companion(
    context: CompanionContext,
    runner: PodmanRunner,
    *,
    timestamp: int,
    targets_dir: Path,
) -> Companion:
    """Build the image, save it as an OCI archive into ``targets_dir/companions/``."""
    with runner.scratch_dir() as work:
        build_dir = work / "context"
        materialise_context(context, build_dir)
        runner.hand_over(build_dir)
        _podman_checked(
            runner,
            context,
            "build",
            "--pull=never",
            "--timestamp",
            str(timestamp),
            "--iidfile",
            str(work / "image-id"),
            "--file",
            str(build_dir / context.containerfile),
            "--tag",
            context.image,
            str(build_dir),
        )
        image_id = (work / "image-id").read_text().strip().removeprefix("sha256:")
        saved = work / "saved.oci.tar"
        _podman_checked(
            runner, context, "save", "--format", "oci-archive", "--output", str(saved),
            context.image,
        )  # fmt: skip
        archive = work / "image.oci.tar"
        normalise_archive(saved, archive, timestamp)
        with open(archive, "rb") as stream:
            digest = blake3_stream(stream)
        target = f"companions/{digest}.{context.member}.oci.tar"
        destination = targets_dir / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        length = archive.stat().st_size
        temporary = destination.with_name(f".{destination.name}.tmp")
        shutil.copyfile(archive, temporary)
        temporary.replace(destination)
    return Companion(
        member=context.member,
        image=context.image,
        context_blake3=context.blake3,
        image_id=image_id,
        archive=TargetFile(target=target, blake3=digest, length=length),
        local_override=False,
    )


def local_override(context: CompanionContext) -> Companion:
    return Companion(
        member=context.member,
        image=context.image,
        context_blake3=context.blake3,
        image_id=None,
        archive=None,
        local_override=True,
    )


def reusable(context: CompanionContext, previous: Companion | None) -> bool:
    """True when the previous catalog's build of this member is still current."""
    return (
        previous is not None
        and not previous.local_override
        and previous.image == context.image
        and previous.context_blake3 == context.blake3
    )
