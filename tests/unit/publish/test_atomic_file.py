"""The publisher's atomic writes (pipeline.atomic_file) fsync the file AND its directory;
a build's staged targets are made durable at once before they are moved into place.

A crash cannot be caused on demand here, so the test watches ``os.fsync``:
``FsyncSpy`` wraps the real call and records what each descriptor was.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline import atomic_file
from pipeline.atomic_file import create_file_once, write_file_atomically
from pipeline.build_staging import publish_staged, stage_file


class FsyncSpy:
    """SPY: the real ``os.fsync``, recording (inode, is a directory) for each call."""

    def __init__(self) -> None:
        self.synced: list[tuple[int, bool]] = []
        self._real = os.fsync

    def __call__(self, descriptor: int) -> None:
        status = os.fstat(descriptor)
        self.synced.append((status.st_ino, stat.S_ISDIR(status.st_mode)))
        self._real(descriptor)

    def directories(self) -> set[int]:
        return {inode for inode, is_directory in self.synced if is_directory}

    def files(self) -> set[int]:
        return {inode for inode, is_directory in self.synced if not is_directory}


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    watcher = FsyncSpy()
    monkeypatch.setattr(os, "fsync", watcher)
    return watcher


def test_a_replace_fsyncs_the_file_and_the_directory_it_lands_in(
    spy: FsyncSpy, tmp_path: Path
) -> None:
    target = tmp_path / "timestamp.json"
    target.write_bytes(b"old")
    write_file_atomically(target, b"new", mode=0o644)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.stat().st_ino in spy.files()
    assert tmp_path.stat().st_ino in spy.directories()
    assert [p.name for p in tmp_path.iterdir()] == ["timestamp.json"]


def test_a_create_fsyncs_every_directory_it_made(spy: FsyncSpy, tmp_path: Path) -> None:
    target = tmp_path / "targets" / "icons" / "ab.notes.svg"
    assert create_file_once(target, b"<svg/>")
    assert target.stat().st_ino in spy.files()
    made = {tmp_path, tmp_path / "targets", tmp_path / "targets" / "icons"}
    assert {d.stat().st_ino for d in made} <= spy.directories()


def test_create_never_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "1.root.json"
    assert create_file_once(target, b"first")
    assert not create_file_once(target, b"second")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["1.root.json"]


def test_a_file_where_a_directory_should_be_is_an_error_not_a_write(tmp_path: Path) -> None:
    (tmp_path / "metadata").write_bytes(b"not a directory")
    with pytest.raises(OSError):
        write_file_atomically(tmp_path / "metadata" / "timestamp.json", b"{}")
    assert (tmp_path / "metadata").read_bytes() == b"not a directory"


class SyncfsSpy:
    """SPY: the real ``sync_filesystem``, recording the path of each call."""

    def __init__(self) -> None:
        self.paths: list[Path] = []
        self._real = atomic_file.sync_filesystem

    def __call__(self, path: Path) -> None:
        self.paths.append(path)
        self._real(path)


@pytest.fixture
def syncfs(monkeypatch: pytest.MonkeyPatch) -> SyncfsSpy:
    watcher = SyncfsSpy()
    monkeypatch.setattr(atomic_file, "sync_filesystem", watcher)
    return watcher


def _staged(staging: Path, count: int) -> list[Path]:
    paths = []
    for index in range(count):
        path = staging / "icons" / f"{index:04d}.app-{index}.svg"
        write_file_atomically(path, f"<svg>{index}</svg>".encode(), mode=0o644, durable=False)
        paths.append(path)
    return paths


def test_a_few_staged_files_are_fsynced_one_by_one(
    spy: FsyncSpy, syncfs: SyncfsSpy, tmp_path: Path
) -> None:
    files = _staged(tmp_path, atomic_file.FSYNC_EACH_UP_TO)
    assert spy.synced == []  # durable=False wrote none
    atomic_file.make_durable(files)
    assert spy.files() == {path.stat().st_ino for path in files}
    assert syncfs.paths == []


def test_many_staged_files_cost_one_filesystem_sync(
    spy: FsyncSpy, syncfs: SyncfsSpy, tmp_path: Path
) -> None:
    files = _staged(tmp_path, atomic_file.FSYNC_EACH_UP_TO + 1)
    atomic_file.make_durable(files)
    assert syncfs.paths == [tmp_path / "icons"]
    assert spy.files() == set()


def test_a_filesystem_sync_of_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_file.sync_filesystem(tmp_path / "gone")


def test_publishing_the_staging_folder_moves_new_targets_and_fsyncs_where_they_land(
    spy: FsyncSpy, syncfs: SyncfsSpy, tmp_path: Path
) -> None:
    staging, out = tmp_path / ".staging-x", tmp_path / "dist"
    files = _staged(staging, 20)
    (out / "targets" / "icons").mkdir(parents=True)
    kept = out / "targets" / "icons" / files[0].name
    kept.write_bytes(b"published before")
    stage_file(staging / "node" / "b3.archy-node-linux-amd64", b"ELF")

    publish_staged(staging, out / "targets")

    icons = sorted(p.name for p in (out / "targets" / "icons").iterdir())
    assert icons == sorted(p.name for p in files)
    assert kept.read_bytes() == b"published before"  # a published name is never replaced
    assert (out / "targets" / "icons" / files[1].name).read_bytes() == b"<svg>1</svg>"
    node = out / "targets" / "node" / "b3.archy-node-linux-amd64"
    assert node.read_bytes() == b"ELF"
    assert stat.S_IMODE(node.stat().st_mode) == 0o644
    # 21 new files: one filesystem sync (of the staging folder's filesystem), no fsync each
    assert [staging in path.parents for path in syncfs.paths] == [True]
    assert spy.files() == set()
    landed = {out / "targets", out / "targets" / "icons", out / "targets" / "node", out}
    assert {d.stat().st_ino for d in landed} <= spy.directories()


def test_publishing_nothing_new_syncs_nothing(
    spy: FsyncSpy, syncfs: SyncfsSpy, tmp_path: Path
) -> None:
    staging, targets = tmp_path / ".staging-x", tmp_path / "dist" / "targets"
    (staging / "icons").mkdir(parents=True)
    (targets / "icons").mkdir(parents=True)
    (staging / "icons" / "a.svg").write_bytes(b"<svg/>")
    (targets / "icons" / "a.svg").write_bytes(b"<svg/>")
    publish_staged(staging, targets)
    assert spy.synced == [] and syncfs.paths == []
