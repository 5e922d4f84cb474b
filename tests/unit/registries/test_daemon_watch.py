"""The daemon reconciles as soon as a third-party registry's catalog changes, not only the
official one's (what ``watched_files`` reports is what the loop compares)."""

from __future__ import annotations

from pathlib import Path

from node_runtime.daemon import watched_files
from node_runtime.store.paths import NodePaths


def test_a_registrys_new_catalog_pointer_changes_what_the_daemon_watches(tmp_path: Path) -> None:
    paths = NodePaths(tmp_path)
    pointer = tmp_path / "registries" / "dev" / "state" / "catalog.json"
    pointer.parent.mkdir(parents=True)
    pointer.write_text("{}")
    before = watched_files(paths)
    assert str(pointer) in {path for path, _, _ in before}
    pointer.write_text('{"changed": true}')
    assert watched_files(paths) != before


def test_a_half_added_registry_is_not_watched(tmp_path: Path) -> None:
    hidden = tmp_path / "registries" / ".adding-dev-1" / "state" / "catalog.json"
    hidden.parent.mkdir(parents=True)
    hidden.write_text("{}")
    assert str(hidden) not in {path for path, _, _ in watched_files(NodePaths(tmp_path))}
