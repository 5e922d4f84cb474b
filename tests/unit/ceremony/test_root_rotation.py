"""Root rotation: cross-signed by the old and the new root thresholds; nodes follow it."""

from __future__ import annotations

from pathlib import Path

import pytest

from node_runtime.fetch.tuf_client import Updater
from pipeline.ceremony.event import KeyNotInRoleError
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.steps import open_catalog_event, open_root_rotation, sign_event
from pipeline.publish.file_origin import FileOrigin
from signing.keys import SigningKey
from tests.support.ceremony_setup import NOW, make_ceremony
from tests.support.small_build import SmallApp, write_build


def _node_catalog_version(node_dir: Path, repo: Path) -> int:
    updater = Updater(
        node_dir, f"file://{repo}/metadata", node_dir / "targets", f"file://{repo}/targets"
    )
    updater.refresh()
    assert updater.get_targetinfo("app-catalog.json") is not None
    return updater.trusted_set.root.version * 1000 + updater.trusted_set.targets.version


def test_a_node_refreshes_across_a_root_rotation(tmp_path: Path) -> None:
    ceremony = make_ceremony(tmp_path)
    alice, bob, carol = ceremony.maintainers
    dave = SigningKey.generate()
    repo = tmp_path / "repo"
    origin = FileOrigin(repo)

    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    first, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    sign_event(ceremony.state, first.event_id, alice, NOW)
    sign_event(ceremony.state, first.event_id, bob, NOW)
    publish_signing_event(
        ceremony.state, first.event_id, tmp_path / "dist", origin, ceremony.online, NOW
    )

    node = tmp_path / "node"
    node.mkdir()
    (node / "root.json").write_bytes((repo / "metadata/1.root.json").read_bytes())
    assert _node_catalog_version(node, repo) == 1001

    rotation, rotation_review = open_root_rotation(
        ceremony.state,
        {"root": [dave.public_key], "targets": [dave.public_key]},
        {"root": [alice.keyid], "targets": [alice.keyid[:16]]},
        {},
        NOW,
    )
    assert "root: new key" in rotation_review.text and "root: dropped key" in rotation_review.text
    # Old threshold: alice + bob (root v1); new threshold: bob + dave (root v2).
    status = sign_event(ceremony.state, rotation.event_id, alice, NOW)
    assert [q.met for q in status.quorums] == [False, False]
    status = sign_event(ceremony.state, rotation.event_id, bob, NOW)
    assert [q.met for q in status.quorums] == [True, False]
    assert ceremony.state.trusted_root().version == 1
    status = sign_event(ceremony.state, rotation.event_id, dave, NOW)
    assert status.threshold_met
    assert ceremony.state.trusted_root().version == 2

    write_build(tmp_path / "dist2", [SmallApp("demo-web", version="1.1.0")], commit="b" * 40)
    second, _second_review = open_catalog_event(ceremony.state, tmp_path / "dist2", NOW)
    with pytest.raises(KeyNotInRoleError):
        sign_event(ceremony.state, second.event_id, alice, NOW)  # rotated out
    sign_event(ceremony.state, second.event_id, carol, NOW)
    sign_event(ceremony.state, second.event_id, dave, NOW)
    report = publish_signing_event(
        ceremony.state, second.event_id, tmp_path / "dist2", origin, ceremony.online, NOW
    )
    assert "metadata/2.root.json" in report.written
    assert (repo / "metadata/1.root.json").is_file()  # every root kept

    assert _node_catalog_version(node, repo) == 2002
