"""Signing events: thresholds met and not met, wrong keys, tampering, expiry."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.ceremony.event import (
    EventAlteredError,
    EventExpiredError,
    KeyNotInRoleError,
    event_status,
)
from pipeline.ceremony.steps import open_catalog_event, sign_event
from signing.keys import SigningKey
from tests.support.ceremony_setup import NOW, make_ceremony
from tests.support.small_build import SmallApp, write_build

HOOK_YAML = """\
hooks:
  post_install:
    - exec: {container: demo-web, command: ["true"]}
"""


@pytest.fixture
def opened(tmp_path: Path):
    ceremony = make_ceremony(tmp_path)
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    return ceremony, event


def test_an_event_signed_by_one_of_two_has_not_met_its_threshold(opened) -> None:
    ceremony, event = opened
    status = sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    assert not status.threshold_met
    assert status.quorums[0].signed_by == (ceremony.maintainers[0].keyid,)


def test_an_event_signed_by_two_of_three_has_met_its_threshold(opened) -> None:
    ceremony, event = opened
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    status = sign_event(ceremony.state, event.event_id, ceremony.maintainers[2], NOW)
    assert status.threshold_met
    assert ceremony.state.latest_accepted_targets().event_id == event.event_id


def test_signing_twice_with_one_key_counts_once(opened) -> None:
    ceremony, event = opened
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    status = sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    assert not status.threshold_met


def test_a_key_outside_the_role_cannot_sign(opened) -> None:
    ceremony, event = opened
    with pytest.raises(KeyNotInRoleError, match="is not a key of targets"):
        sign_event(ceremony.state, event.event_id, ceremony.online, NOW)
    with pytest.raises(KeyNotInRoleError):
        sign_event(ceremony.state, event.event_id, SigningKey.generate(), NOW)


def test_a_signature_smuggled_in_by_an_outsider_is_ignored(opened) -> None:
    ceremony, event = opened
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    path = ceremony.state.event_dir(event.event_id) / "metadata.json"
    document = json.loads(path.read_text())
    outsider = SigningKey.generate()
    loaded = ceremony.state.load_event(event.event_id)
    document["signatures"].append(outsider.sign(loaded.metadata.signed_bytes).to_dict())
    path.write_text(json.dumps(document))
    status = event_status(ceremony.state.load_event(event.event_id), ceremony.state.trusted_root())
    assert not status.threshold_met
    assert status.foreign_signatures == (outsider.keyid,)


def test_an_event_altered_after_it_was_opened_is_refused(opened) -> None:
    ceremony, event = opened
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    path = ceremony.state.event_dir(event.event_id) / "metadata.json"
    document = json.loads(path.read_text())
    target = document["signed"]["targets"]["app-catalog.json"]
    target["hashes"]["blake3"] = "0" * 64
    path.write_text(json.dumps(document))
    with pytest.raises(EventAlteredError, match="was altered after it was opened"):
        sign_event(ceremony.state, event.event_id, ceremony.maintainers[1], NOW)


def test_an_expired_event_cannot_be_signed(opened) -> None:
    ceremony, event = opened
    later = NOW + timedelta(days=8)
    with pytest.raises(EventExpiredError, match="expired at"):
        sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], later)


def test_the_next_event_diffs_against_the_accepted_catalog(opened, tmp_path: Path) -> None:
    ceremony, event = opened
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[1], NOW)
    write_build(
        tmp_path / "dist2",
        [
            SmallApp(
                "demo-web",
                version="1.1.0",
                image="docker.io/library/nginx:1.27.4",
                host_port=18090,
                permissions={"tor": True},
                extra_yaml=HOOK_YAML,
            ),
            SmallApp("new-app", host_port=18081),
        ],
        commit="b" * 40,
    )
    second, second_review = open_catalog_event(ceremony.state, tmp_path / "dist2", NOW)
    assert second.record.version == 2
    diff = second_review.text
    assert "+ new-app 1.0.0-r1 (new app)" in diff
    assert "demo-web: version 1.0.0-r1 -> 1.1.0-r1" in diff
    assert "nginx:1.27.3@sha256:" in diff and "-> docker.io/library/nginx:1.27.4@sha256:" in diff
    assert "demo-web: new permission tor" in diff
    assert "demo-web: new port demo-web 18090->80/tcp (lan)" in diff
    assert "demo-web: dropped port demo-web 18080->80/tcp (lan)" in diff
    assert "demo-web: hooks" in diff
