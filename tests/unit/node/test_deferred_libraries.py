"""Libraries unpacked on first import: read from a real PyInstaller archive (written with
PyInstaller's own archive writer), unpacked once, byte for byte, and refused when damaged.

The frozen binary itself is checked in tests/integration/frozen/test_frozen_start.py.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from PyInstaller.archive.writers import CArchiveWriter

from node_runtime.deferred_libraries import (
    DEFERRED,
    DEFERRED_TYPECODE,
    DeferredLibraryError,
    DeferredLibraryFinder,
    missing_entries,
    read_archive_table,
)

LIBRARY = random.Random(15).randbytes(300_000) + bytes(200_000)  # compressible in part


def write_archive(path: Path, sources: Path, entries: dict[str, tuple[bytes, str]]) -> Path:
    """A PyInstaller archive holding ``name -> (bytes, typecode)``, compressed."""
    toc = []
    for number, (name, (data, typecode)) in enumerate(entries.items()):
        source = sources / f"entry-{number}"
        source.write_bytes(data)
        toc.append((name, str(source), True, typecode))
    CArchiveWriter(str(path), toc, pylib_name="libpython3.11.so.1.0")
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write_archive(
        tmp_path / "archy-node",
        tmp_path,
        {
            "probe/libprobe.so": (LIBRARY, DEFERRED_TYPECODE),
            "unpacked-at-start.so": (b"x" * 1000, "b"),
        },
    )


def test_the_archive_table_names_each_entry_with_its_type_and_length(archive: Path) -> None:
    table = read_archive_table(archive)

    assert table["probe/libprobe.so"].typecode == DEFERRED_TYPECODE
    assert table["probe/libprobe.so"].length == len(LIBRARY)
    assert table["probe/libprobe.so"].compressed
    assert table["unpacked-at-start.so"].typecode == "b"


def test_the_first_import_of_the_package_unpacks_its_library_once(
    archive: Path, tmp_path: Path
) -> None:
    unpacked = tmp_path / "meipass"
    finder = DeferredLibraryFinder(archive, unpacked, {"probe": ("probe/libprobe.so",)})

    assert finder.find_spec("json") is None
    assert not unpacked.exists()  # another package: nothing unpacked

    assert finder.find_spec("probe") is None  # the ordinary finders import it
    library = unpacked / "probe" / "libprobe.so"
    assert library.read_bytes() == LIBRARY
    assert library.stat().st_mode & 0o777 == 0o755
    assert sorted(path.name for path in library.parent.iterdir()) == ["libprobe.so"]

    library.unlink()
    finder.find_spec("probe.submodule")
    assert not library.exists()  # unpacked once per process, not at every import


def test_a_library_already_on_disk_is_left_alone(archive: Path, tmp_path: Path) -> None:
    """A one-dir bundle has its libraries on disk: nothing is read from the archive."""
    library = tmp_path / "bundle" / "probe" / "libprobe.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"the bundle's own copy")
    finder = DeferredLibraryFinder(
        tmp_path / "no-such-executable", tmp_path / "bundle", {"probe": ("probe/libprobe.so",)}
    )

    assert finder.find_spec("probe") is None
    assert library.read_bytes() == b"the bundle's own copy"


def test_a_library_missing_from_the_binary_fails_the_import_not_later(
    archive: Path, tmp_path: Path
) -> None:
    finder = DeferredLibraryFinder(archive, tmp_path / "meipass", {"iroh": ("iroh/libiroh.so",)})

    with pytest.raises(ImportError, match=r"the binary does not carry iroh/libiroh\.so"):
        finder.find_spec("iroh")


def test_a_damaged_entry_is_refused_and_nothing_is_left_on_disk(
    archive: Path, tmp_path: Path
) -> None:
    data = bytearray(archive.read_bytes())
    entry = read_archive_table(archive)["probe/libprobe.so"]
    data[entry.offset + 100 : entry.offset + 110] = bytes(10)  # inside the compressed stream
    archive.write_bytes(bytes(data))
    unpacked = tmp_path / "meipass"
    finder = DeferredLibraryFinder(archive, unpacked, {"probe": ("probe/libprobe.so",)})

    with pytest.raises(DeferredLibraryError, match=r"probe/libprobe\.so: .* is damaged") as refused:
        finder.find_spec("probe")

    assert isinstance(refused.value, ImportError)  # the import fails, the command refuses
    assert not (unpacked / "probe" / "libprobe.so").exists()


def test_a_file_without_an_archive_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_bytes(b"no archive here")

    with pytest.raises(DeferredLibraryError, match="holds no PyInstaller archive"):
        read_archive_table(plain)


def test_missing_entries_names_what_is_neither_on_disk_nor_deferred(tmp_path: Path) -> None:
    names = [name for names in DEFERRED.values() for name in names]
    carried = {name: (b"library", DEFERRED_TYPECODE) for name in names[1:]}
    carried[names[0]] = (b"unpacked at start", "b")  # present, but the wrong kind
    archive = write_archive(tmp_path / "archy-node", tmp_path, carried)

    assert missing_entries(archive, tmp_path / "meipass") == [names[0]]
    (tmp_path / "meipass" / names[0]).parent.mkdir(parents=True)
    (tmp_path / "meipass" / names[0]).write_bytes(b"on disk")
    assert missing_entries(archive, tmp_path / "meipass") == []


def version_of_a_frozen_binary(
    monkeypatch: pytest.MonkeyPatch, executable: Path, unpack_directory: Path
) -> tuple[int, str, str]:
    """`archy-node version` as the frozen binary ``executable`` would run it."""
    from click.testing import CliRunner

    from node_runtime.commands import main

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(executable))
    monkeypatch.setattr(sys, "_MEIPASS", str(unpack_directory), raising=False)
    result = CliRunner().invoke(main, ["version"])
    return result.exit_code, result.stdout, result.stderr


def test_the_start_probe_refuses_a_binary_without_a_deferred_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = [name for names in DEFERRED.values() for name in names]
    archive = write_archive(
        tmp_path / "archy-node",
        tmp_path,
        {name: (b"library", DEFERRED_TYPECODE) for name in names if "iroh" not in name},
    )

    code, out, err = version_of_a_frozen_binary(monkeypatch, archive, tmp_path / "meipass")

    assert (code, out) == (1, "")
    assert err == "error: the binary does not carry iroh/libiroh_ffi.so\n"


def test_the_start_probe_passes_a_binary_that_carries_them_all(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    names = [name for names in DEFERRED.values() for name in names]
    archive = write_archive(
        tmp_path / "archy-node", tmp_path, {name: (b"library", DEFERRED_TYPECODE) for name in names}
    )

    code, out, err = version_of_a_frozen_binary(monkeypatch, archive, tmp_path / "meipass")

    assert (code, err) == (0, "")
    assert out.startswith("archy-node ")
