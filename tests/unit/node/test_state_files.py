"""The node's state files: one declared model each, written durably (node_runtime/store)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from node_runtime.store.applied import AppliedApp, read_applied, record_applied
from node_runtime.store.atomic_file import write_file_atomically
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.failures import FailedUpdate, read_failures, save_failures
from node_runtime.store.paths import NodePaths, StateError
from node_runtime.store.stopped import read_stopped, save_stopped
from tests.support.catalogs import catalog_of, simple_manifest

DATA = "/srv/data"


def test_the_applied_record_declares_every_field_it_writes(tmp_path: Path) -> None:
    catalog = catalog_of([simple_manifest("alpha")])
    paths = NodePaths(tmp_path)
    record_applied(paths, "alpha", AppliedApp.of(catalog.apps["alpha"], DATA, catalog_blake3="c"))
    written = json.loads(paths.applied_file.read_bytes())["apps"]["alpha"]
    assert set(written) == set(AppliedApp.model_fields)
    back = read_applied(paths)["alpha"]
    assert back.model_extra == {}
    assert back.app == catalog.apps["alpha"] and back.data_root == DATA


def test_an_entry_this_binary_cannot_read_comes_from_the_catalog_blob(tmp_path: Path) -> None:
    catalog = catalog_of([simple_manifest("alpha")])
    paths = NodePaths(tmp_path)
    catalog_blake3 = BlobStore(paths.blobs_dir).add_bytes(catalog.to_canonical())
    assert catalog_blake3 == blake3_hex(catalog.to_canonical())
    record = AppliedApp.of(catalog.apps["alpha"], DATA, catalog_blake3=catalog_blake3)
    document = json.loads(record.model_dump_json(by_alias=True))
    document["catalog_app"] = {"written by": "a newer node"}
    paths.state_dir.mkdir(parents=True)
    paths.applied_file.write_text(json.dumps({"schema": 1, "apps": {"alpha": document}}))
    assert read_applied(paths)["alpha"].app == catalog.apps["alpha"]
    BlobStore(paths.blobs_dir).remove(catalog_blake3)
    assert read_applied(paths) == {}  # no entry known: nothing to roll back to


def test_failures_and_stopped_apps_round_trip_and_an_unchanged_write_writes_nothing(
    tmp_path: Path,
) -> None:
    paths = NodePaths(tmp_path)
    save_failures(paths, {"alpha": FailedUpdate(manifest_blake3="m", reason="it broke")})
    save_stopped(paths, ["beta", "alpha", "beta"])
    assert read_failures(paths) == {"alpha": FailedUpdate(manifest_blake3="m", reason="it broke")}
    assert json.loads(paths.stopped_file.read_text()) == {"schema": 1, "apps": ["alpha", "beta"]}
    assert read_stopped(paths) == {"alpha", "beta"}
    before = paths.stopped_file.stat().st_mtime_ns, paths.stopped_file.stat().st_ino
    save_stopped(paths, {"alpha", "beta"})
    assert (paths.stopped_file.stat().st_mtime_ns, paths.stopped_file.stat().st_ino) == before


def test_a_state_file_of_the_wrong_shape_is_one_line_naming_file_and_field(tmp_path: Path) -> None:
    paths = NodePaths(tmp_path)
    paths.state_dir.mkdir(parents=True)
    paths.failures_file.write_text('{"schema": 1, "apps": {"alpha": {"reason": "x"}}}')
    with pytest.raises(StateError) as refused:
        read_failures(paths)
    assert str(refused.value).startswith(f"{paths.failures_file}: apps.alpha.manifest_blake3: ")
    assert "\n" not in str(refused.value)


def test_an_atomic_write_fsyncs_the_file_and_then_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(handle: int) -> None:  # records what was synced, then really syncs
        synced.append(os.readlink(f"/proc/self/fd/{handle}"))
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    target = tmp_path / "trust" / "timestamp.json"
    write_file_atomically(target, b"{}")
    assert len(synced) == 2
    assert Path(synced[0]).parent == target.parent and Path(synced[0]).name.startswith(".tmp-")
    assert synced[1] == str(target.parent)
    assert target.read_bytes() == b"{}"
