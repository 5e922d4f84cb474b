"""The blob store and the state files: verified in, re-verified out, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from node_runtime.store.applied import AppliedApp
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.blob_store import (
    BlobMismatchError,
    BlobMissingError,
    BlobStore,
    BlobTamperedError,
)
from node_runtime.store.catalog_pointer import CatalogPointer
from node_runtime.store.installed import InstalledApps
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, StateError


def test_bytes_go_in_under_their_blake3_and_come_out_checked(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    name = store.add_bytes(b"hello")
    assert name == blake3_hex(b"hello")
    assert store.path_of(name).read_bytes() == b"hello"
    assert store.read_verified(name) == b"hello"
    with store.open_verified(name) as stream:
        assert stream.read() == b"hello"
    assert store.verified_path(name) == tmp_path / "blobs" / name


def test_bytes_that_are_not_the_promised_hash_are_refused(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(BlobMismatchError, match="hash to"):
        store.add_bytes(b"hello", expected_blake3=blake3_hex(b"other"))
    assert store.blobs() == []


def test_a_stream_that_does_not_verify_leaves_nothing_behind(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    promised = blake3_hex(b"the real bytes")
    with (
        pytest.raises(BlobMismatchError, match="blake3 hash does not match"),
        store.receive(promised, len(b"the real bytes")) as sink,
    ):
        sink.write(b"other bytes!!!")
    with (
        pytest.raises(BlobMismatchError, match="expected 14 bytes"),
        store.receive(promised, 14) as sink,
    ):
        sink.write(b"short")
    assert os.listdir(tmp_path / "blobs") == []


def test_a_stream_must_also_match_every_other_signed_hash(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = b"artifact"
    with (
        pytest.raises(BlobMismatchError, match="sha256"),
        store.receive(blake3_hex(data), len(data), {"sha256": "00" * 32}) as sink,
    ):
        sink.write(data)
    assert not store.contains(blake3_hex(data))


def test_a_blob_changed_on_disk_is_removed_and_reported(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    name = store.add_bytes(b"original")
    store.path_of(name).write_bytes(b"tampered")
    with pytest.raises(BlobTamperedError, match=r"changed on disk.*next pull fetches it again"):
        store.read_verified(name)
    assert not store.contains(name)
    with pytest.raises(BlobMissingError):
        store.read_verified(name)


def test_remove_tampered_checks_every_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    good = store.add_bytes(b"good")
    bad = store.add_bytes(b"bad")
    store.path_of(bad).write_bytes(b"worse")
    assert store.remove_tampered() == [bad]
    assert store.blobs() == [good]
    assert store.is_intact(good) and not store.is_intact(bad)


def test_a_name_that_is_not_a_blake3_digest_never_becomes_a_path(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError, match="not a BLAKE3"):
        store.path_of("../config.json")


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "state" / "file.json"
    write_file_atomically(target, b"one")
    write_file_atomically(target, b"two", mode=0o600)
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o777 == 0o600
    assert os.listdir(target.parent) == ["file.json"]


def test_installed_apps_round_trip_and_keep_unknown_fields(tmp_path: Path) -> None:
    state = NodeState(NodePaths(tmp_path))
    assert state.installed().apps == {}
    state.save_installed(InstalledApps().with_app("demo").with_app("web"))
    assert sorted(state.installed().apps) == ["demo", "web"]
    # A newer binary wrote a field this one does not know: it survives a write.
    document = json.loads(state.paths.installed_file.read_text())
    document["apps"]["demo"]["pinned"] = True
    state.paths.installed_file.write_text(json.dumps(document))
    state.save_installed(state.installed().without_app("web"))
    written = json.loads(state.paths.installed_file.read_text())
    assert written["apps"] == {"demo": {"installed_at": document["apps"]["demo"]["installed_at"],
                                        "pinned": True}}  # fmt: skip


def test_a_corrupt_state_file_is_one_clear_error(tmp_path: Path) -> None:
    state = NodeState(NodePaths(tmp_path))
    state.paths.state_dir.mkdir()
    state.paths.installed_file.write_text("{not json")
    with pytest.raises(StateError, match=r"installed\.json: .*restore the file"):
        state.installed()


def _pointer(name: str) -> CatalogPointer:
    return CatalogPointer(
        blake3=name * 64, length=1, commit="c" * 40, targets_version=1, pulled_at="now"
    )


def test_switching_the_catalog_keeps_the_one_before(tmp_path: Path) -> None:
    state = NodeState(NodePaths(tmp_path))
    assert state.current_catalog() is None
    state.switch_catalog(_pointer("a"))
    switched = state.switch_catalog(_pointer("b"))
    assert switched.current.blake3 == "b" * 64
    assert switched.previous is not None and switched.previous.blake3 == "a" * 64
    assert state.current_catalog() == switched


def test_applied_records_declare_what_the_apply_engine_adds(tmp_path: Path) -> None:
    state = NodeState(NodePaths(tmp_path))
    record = AppliedApp.model_validate(
        {
            "version": "1.0.0",
            "revision": 2,
            "manifest_blake3": "m" * 64,
            "catalog_blake3": "c" * 64,
            "units": {"demo.container": "[Container]\n"},
            "applied_at": "2026-01-01T00:00:00Z",
            "data_root": "/var/lib/archipelago",
        }
    )
    state.record_applied("demo", record)
    back = state.applied().apps["demo"]
    assert back == record and back.version_text == "1.0.0-r2"
    assert back.data_root == "/var/lib/archipelago" and not back.model_extra
    state.forget_applied("demo")
    assert state.applied().apps == {}
