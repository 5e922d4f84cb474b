"""The publisher's atomic writes (pipeline.atomic_file) fsync the file AND its directory.

A crash cannot be caused on demand here, so the test watches ``os.fsync``:
``FsyncSpy`` wraps the real call and records what each descriptor was.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pipeline.atomic_file import create_file_once, write_file_atomically


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
