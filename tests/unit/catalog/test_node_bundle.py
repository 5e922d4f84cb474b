"""The node bundle archive: written deterministically, unpacked as hostile input.

Each hostile archive is crafted with tarfile itself (what an attacker would write) and
must be refused with one line naming the member, leaving no destination behind.
"""

from __future__ import annotations

import io
import lzma
import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from catalog.node_bundle import (
    MAX_MEMBERS,
    BundleError,
    bundle_file_name,
    bundle_platform,
)
from node_runtime.bundle_unpack import unpack_bundle
from pipeline.node_bundle_pack import check_bundle, write_bundle

ENTRY = b"#!/bin/sh\necho archy-node 0.0.1\n"


def one_dir(root: Path) -> Path:
    """A small stand-in one-dir bundle: the executable, _internal/ with a library and a link."""
    (root / "_internal" / "lib").mkdir(parents=True)
    (root / "archy-node").write_bytes(ENTRY)
    (root / "archy-node").chmod(0o700)
    (root / "_internal" / "lib" / "libz.so.1").write_bytes(b"\x7fELF library")
    (root / "_internal" / "data.txt").write_bytes(b"data")
    (root / "_internal" / "data.txt").chmod(0o600)
    os.symlink("lib/libz.so.1", root / "_internal" / "libz.so")
    return root


def packed(directory: Path, archive: Path) -> Path:
    with archive.open("wb") as output:
        write_bundle(directory, output)
    return archive


Member = tuple[tarfile.TarInfo, bytes]


def regular(name: str, data: bytes = b"x", mode: int = 0o644) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    return info, data


def special(name: str, kind: bytes, link: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info, b""


def crafted(path: Path, *members: Member, entry: bool = True) -> Path:
    """An xz tar with ``members`` (after a valid entry point unless ``entry`` is False)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if entry:
            tar.addfile(*_with_file(regular("archy-node", ENTRY, 0o755)))
        for member in members:
            tar.addfile(*_with_file(member))
    path.write_bytes(lzma.compress(buffer.getvalue()))
    return path


def _with_file(member: Member) -> tuple[tarfile.TarInfo, io.BytesIO | None]:
    info, data = member
    return info, io.BytesIO(data) if info.isreg() else None


def refusal(archive: Path, destination: Path) -> str:
    with pytest.raises(BundleError) as refused:
        unpack_bundle(archive, destination)
    assert not destination.exists() and not destination.is_symlink()
    with pytest.raises(BundleError) as checked:
        check_bundle(archive)
    assert str(checked.value) == str(refused.value)  # the publisher sees the same refusal
    assert "\n" not in str(refused.value)
    return str(refused.value)


def test_names_say_the_platform() -> None:
    assert bundle_file_name("linux-amd64") == "archy-node-linux-amd64.tar.xz"
    assert bundle_platform("archy-node-linux-arm64.tar.xz") == "linux-arm64"
    assert bundle_platform("archy-node-linux-amd64") is None
    assert bundle_platform("archy-node-windows.tar.xz") is None


def test_a_bundle_is_written_byte_for_byte_the_same_and_unpacks_to_its_files(
    tmp_path: Path,
) -> None:
    source = one_dir(tmp_path / "bundle")
    first = packed(source, tmp_path / "first.tar.xz").read_bytes()
    os.utime(source / "archy-node", (1, 1))  # other times, same bytes
    assert packed(source, tmp_path / "second.tar.xz").read_bytes() == first

    with tarfile.open(tmp_path / "first.tar.xz") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == sorted(m.name for m in members)
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}

    unpack_bundle(tmp_path / "first.tar.xz", tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "archy-node").read_bytes() == ENTRY
    assert (out / "archy-node").stat().st_mode & 0o777 == 0o755
    assert (out / "_internal" / "data.txt").stat().st_mode & 0o777 == 0o644
    assert os.readlink(out / "_internal" / "libz.so") == "lib/libz.so.1"
    assert (out / "_internal" / "libz.so").read_bytes() == b"\x7fELF library"


def test_unpacking_into_an_existing_directory_is_refused_and_leaves_it(tmp_path: Path) -> None:
    archive = packed(one_dir(tmp_path / "bundle"), tmp_path / "b.tar.xz")
    (tmp_path / "there").mkdir()
    (tmp_path / "there" / "keep").write_text("kept")
    with pytest.raises(FileExistsError):
        unpack_bundle(archive, tmp_path / "there")
    assert (tmp_path / "there" / "keep").read_text() == "kept"


HOSTILE: dict[str, tuple[Callable[[], list[Member]], str]] = {
    "absolute path": (lambda: [regular("/etc/cron.d/x")], "/etc/cron.d/x: an absolute path"),
    "dot-dot": (lambda: [regular("_internal/../../x")], "_internal/../../x: a path with '..'"),
    "dot component": (
        lambda: [regular("./_internal/x")],
        "./_internal/x: a path with an empty or '.' component",
    ),
    "given twice": (
        lambda: [regular("_internal/x"), regular("_internal/x", b"other")],
        "_internal/x: given twice in the archive",
    ),
    "symlink out": (
        lambda: [special("_internal/etc", tarfile.SYMTYPE, "../../etc")],
        "_internal/etc: a symlink that leaves the bundle (../../etc)",
    ),
    "absolute symlink": (
        lambda: [special("_internal/etc", tarfile.SYMTYPE, "/etc")],
        "_internal/etc: a symlink to an absolute path (/etc)",
    ),
    "symlink through a symlink": (
        lambda: [
            special("_internal/a/b/up", tarfile.SYMTYPE, "../../c"),
            special("_internal/a/b/out", tarfile.SYMTYPE, "up/../.."),
        ],
        "_internal/a/b/out: a symlink with an unusable target (up/../..)",
    ),
    "symlink hop": (
        lambda: [
            special("_internal/a/b/up", tarfile.SYMTYPE, "../../c"),
            special("_internal/a/b/via", tarfile.SYMTYPE, "up/x"),
        ],
        "_internal/a/b/via: a symlink through another symlink (up/x)",
    ),
    "file under a symlink": (
        lambda: [
            special("_internal/lib", tarfile.SYMTYPE, "lib2"),
            regular("_internal/lib2/x"),
            regular("_internal/lib/evil"),
        ],
        "_internal/lib/evil: a path under the symlink _internal/lib",
    ),
    "file under a file": (
        lambda: [regular("archy-node/evil")],
        "archy-node/evil: a path under the file archy-node",
    ),
    "hard link": (
        lambda: [special("_internal/shadow", tarfile.LNKTYPE, "/etc/shadow")],
        "_internal/shadow: a hard link (to /etc/shadow)",
    ),
    "character device": (
        lambda: [special("_internal/mem", tarfile.CHRTYPE)],
        "_internal/mem: a device, FIFO or other special file",
    ),
    "block device": (
        lambda: [special("_internal/sda", tarfile.BLKTYPE)],
        "_internal/sda: a device, FIFO or other special file",
    ),
    "fifo": (
        lambda: [special("_internal/pipe", tarfile.FIFOTYPE)],
        "_internal/pipe: a device, FIFO or other special file",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_member_is_refused_naming_it_and_nothing_is_left(
    case: str, tmp_path: Path
) -> None:
    members, expected = HOSTILE[case]
    archive = crafted(tmp_path / "hostile.tar.xz", *members())

    assert refusal(archive, tmp_path / "out") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.tar.xz"]


def test_an_archive_without_an_executable_entry_point_is_refused(tmp_path: Path) -> None:
    not_executable = crafted(
        tmp_path / "a.tar.xz", regular("archy-node", ENTRY, 0o644), entry=False
    )
    missing = crafted(tmp_path / "b.tar.xz", regular("_internal/x"), entry=False)

    for archive in (not_executable, missing):
        assert (
            refusal(archive, tmp_path / "out")
            == "no executable archy-node at the top of the bundle"
        )


def test_more_members_than_the_limit_are_refused(tmp_path: Path) -> None:
    assert MAX_MEMBERS == 20_000  # a real bundle has about 120
    many = [special(f"_internal/d{index}", tarfile.DIRTYPE) for index in range(100)]
    archive = crafted(tmp_path / "many.tar.xz", *many)

    with pytest.raises(BundleError) as refused:
        unpack_bundle(archive, tmp_path / "out", max_members=100)
    assert str(refused.value) == "more than 100 members"
    assert not (tmp_path / "out").exists()


SMALL_LIMIT = 1 << 20


def test_a_member_larger_than_the_limit_is_refused_before_its_bytes_are_read(
    tmp_path: Path,
) -> None:
    """Its header claims more than the limit: refused before the body is decompressed."""
    archive = crafted(
        tmp_path / "huge.tar.xz", regular("_internal/huge", b"\0" * (SMALL_LIMIT + 1))
    )

    with pytest.raises(BundleError) as refused:
        unpack_bundle(archive, tmp_path / "out", limit=SMALL_LIMIT)
    assert (
        str(refused.value) == f"_internal/huge: the bundle unpacks to more than {SMALL_LIMIT} bytes"
    )
    assert not (tmp_path / "out").exists()


def test_a_forged_header_that_expands_past_the_limit_is_refused(tmp_path: Path) -> None:
    """A compression bomb: a pax header claiming 64 MiB of zeros, in an archive of a few KB."""
    header = tarfile.TarInfo("././@PaxHeader")
    header.type = tarfile.XHDTYPE
    header.size = 64 << 20
    stream = lzma.LZMACompressor()
    body = [stream.compress(header.tobuf(tarfile.USTAR_FORMAT))]
    body += [stream.compress(b"\0" * (1 << 20)) for _ in range(64)]
    archive = tmp_path / "bomb.tar.xz"
    archive.write_bytes(b"".join(body) + stream.flush())
    assert archive.stat().st_size < 1 << 20

    with pytest.raises(BundleError) as refused:
        check_bundle(archive, limit=SMALL_LIMIT)
    assert str(refused.value) == f"it unpacks to more than {SMALL_LIMIT + (16 << 20)} bytes"


def test_bytes_that_are_not_an_xz_tar_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "plain.tar.xz"
    archive.write_bytes(b"#!/bin/sh\necho not an archive\n")

    assert refusal(archive, tmp_path / "out").startswith("not a readable tar.xz (")
