"""The node bundle's edges: the modes written and unpacked, every limit at its boundary,
the names refused before a byte is written, and the links resolved component by component.

Complements tests/unit/catalog/test_node_bundle.py (whose archive helpers it uses).
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.node_bundle import (
    BundleError,
    _CappedReader,
    _check_name,
    bundle_platform,
)
from node_runtime.bundle_unpack import unpack_bundle
from pipeline.node_bundle_pack import check_bundle, write_bundle
from tests.unit.catalog.test_node_bundle import (
    ENTRY,
    crafted,
    one_dir,
    packed,
    refusal,
    regular,
    special,
)


@pytest.fixture
def no_umask() -> Iterator[None]:
    """Umask 0 for one test: a mode the code leaves out would show as 0777/0666."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def test_only_a_prefixed_and_suffixed_name_is_a_bundle_name() -> None:
    assert bundle_platform("other-linux-amd64.tar.xz") is None
    assert bundle_platform("not-a-node-linux-amd64.tar.xz") is None  # a prefix as long
    assert bundle_platform("archy-node-linux-amd64.tar.gz") is None
    assert bundle_platform("archy-node-linux-amd64.tar.xz") == "linux-amd64"


def test_a_folder_without_the_executable_is_not_packed(tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    with pytest.raises(BundleError) as refused:
        write_bundle(tmp_path / "bundle", io.BytesIO())
    assert str(refused.value) == (
        f"{tmp_path / 'bundle'}: no archy-node executable; is it a one-dir bundle?"
    )


def test_a_fifo_in_the_folder_is_not_packed(tmp_path: Path) -> None:
    source = one_dir(tmp_path / "bundle")
    os.mkfifo(source / "_internal" / "pipe")
    with pytest.raises(BundleError) as refused:
        write_bundle(source, io.BytesIO())
    assert str(refused.value) == (
        f"{source / '_internal' / 'pipe'}: not a file, directory or symlink"
    )


def test_the_archive_holds_modes_0777_0755_0644_only(tmp_path: Path) -> None:
    source = one_dir(tmp_path / "bundle")
    (source / "_internal" / "other-x").write_bytes(b"run by others")
    (source / "_internal" / "other-x").chmod(0o601)  # executable by "other" alone
    (source / "_internal").chmod(0o700)
    with tarfile.open(packed(source, tmp_path / "b.tar.xz")) as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
    assert modes == {
        "_internal": 0o755,
        "_internal/data.txt": 0o644,
        "_internal/lib": 0o755,
        "_internal/lib/libz.so.1": 0o644,
        "_internal/libz.so": 0o777,
        "_internal/other-x": 0o755,
        "archy-node": 0o755,
    }


def test_unpacked_folders_are_0755_and_files_0755_or_0644_whatever_the_umask(
    tmp_path: Path, no_umask: None
) -> None:
    archive = crafted(
        tmp_path / "b.tar.xz",
        special("_internal", tarfile.DIRTYPE),
        regular("_internal/deep/er/lib.so", b"lib", 0o600),  # parents implied, not members
        regular("_internal/run-by-others", b"x", 0o001),
    )
    out = tmp_path / "out"
    unpack_bundle(archive, out)
    modes = {
        str(path.relative_to(out)): stat.S_IMODE(path.lstat().st_mode)
        for path in [out, *out.rglob("*")]
    }
    assert modes == {
        ".": 0o755,
        "_internal": 0o755,
        "_internal/deep": 0o755,
        "_internal/deep/er": 0o755,
        "_internal/deep/er/lib.so": 0o644,
        "_internal/run-by-others": 0o755,
        "archy-node": 0o755,
    }


def test_a_folder_member_after_a_file_inside_it_is_accepted(tmp_path: Path) -> None:
    # a folder given after its child (already made as the child's parent) is not "twice"
    archive = crafted(
        tmp_path / "b.tar.xz",
        regular("_internal/x", b"inside"),
        special("_internal", tarfile.DIRTYPE),
        special("_internal", tarfile.DIRTYPE),
    )
    unpack_bundle(archive, tmp_path / "out")
    assert (tmp_path / "out" / "_internal" / "x").read_bytes() == b"inside"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (regular("_internal/x"), regular("_internal")),  # a file where a folder is implied
        (special("_internal", tarfile.DIRTYPE), regular("_internal")),
        (regular("_internal"), special("_internal", tarfile.DIRTYPE)),
        (special("_internal", tarfile.SYMTYPE, "x"), special("_internal", tarfile.DIRTYPE)),
    ],
)
def test_a_name_given_as_two_kinds_is_refused(
    tmp_path: Path, first: tuple[tarfile.TarInfo, bytes], second: tuple[tarfile.TarInfo, bytes]
) -> None:
    archive = crafted(tmp_path / "b.tar.xz", first, second)
    assert refusal(archive, tmp_path / "out") == "_internal: given twice in the archive"


def test_exactly_the_member_limit_is_accepted(tmp_path: Path) -> None:
    folders = [special(f"_internal/d{index}", tarfile.DIRTYPE) for index in range(99)]
    archive = crafted(tmp_path / "b.tar.xz", *folders)  # and the entry point: 100
    check_bundle(archive, max_members=100)
    with pytest.raises(BundleError, match=r"^more than 99 members$"):
        check_bundle(archive, max_members=99)


def test_the_size_limit_counts_every_member_and_holds_at_its_edge(tmp_path: Path) -> None:
    archive = crafted(
        tmp_path / "b.tar.xz", regular("_internal/a", b"a" * 100), regular("_internal/b", b"b" * 50)
    )
    total = len(ENTRY) + 150
    check_bundle(archive, limit=total)
    with pytest.raises(BundleError) as refused:
        check_bundle(archive, limit=total - 1)
    assert str(refused.value) == f"_internal/b: the bundle unpacks to more than {total - 1} bytes"
    # no single member passes total - 1: the sum of them does
    with pytest.raises(BundleError, match=r"^_internal/a: "):
        check_bundle(archive, limit=len(ENTRY) + 99)


def test_the_decompressed_stream_is_cut_just_past_its_cap() -> None:
    fits = _CappedReader(io.BytesIO(b"x" * 10), 10)
    buffer = bytearray(10)
    assert fits.readinto(memoryview(buffer)) == 10 and bytes(buffer) == b"x" * 10
    assert fits.readinto(memoryview(buffer)) == 0
    over = _CappedReader(io.BytesIO(b"x" * 11), 10)
    with pytest.raises(BundleError, match=r"^it unpacks to more than 10 bytes$"):
        over.readinto(memoryview(bytearray(11)))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "a member has an empty name"),
        ("_internal/a\0b", "'_internal/a\\x00b': not a usable path"),
        ("a" * 1025, f"{'a' * 80!r}: not a usable path"),
        ("_internal//x", "_internal//x: a path with an empty or '.' component"),
        ("_internal/x/", "_internal/x/: a path with an empty or '.' component"),
    ],
)
def test_a_name_that_is_no_usable_path_is_refused_with_its_reason(name: str, reason: str) -> None:
    with pytest.raises(BundleError) as refused:
        _check_name(name)
    assert str(refused.value) == reason


def test_a_name_of_1024_bytes_is_usable() -> None:
    _check_name("a" * 1024)
    _check_name("_internal/" + "é" * 507)  # 10 + 1014 bytes of UTF-8


def test_a_symlink_through_a_top_level_symlink_is_refused(tmp_path: Path) -> None:
    archive = crafted(
        tmp_path / "b.tar.xz",
        special("_internal", tarfile.DIRTYPE),
        special("lnk", tarfile.SYMTYPE, "_internal"),
        special("via", tarfile.SYMTYPE, "lnk/x"),
    )
    assert refusal(archive, tmp_path / "out") == "via: a symlink through another symlink (lnk/x)"


def test_an_entry_point_executable_only_by_others_is_refused(tmp_path: Path) -> None:
    archive = crafted(tmp_path / "b.tar.xz", regular("archy-node", ENTRY, 0o011), entry=False)
    assert refusal(archive, tmp_path / "out") == "no executable archy-node at the top of the bundle"
