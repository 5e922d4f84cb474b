"""A hostile CI tampers with what a split-layout event adds: ``app-files`` and the deltas.

CI writes every file of an event; each test writes or alters one as an attacker
would (keeping the event's record consistent where it can), then runs what a
maintainer runs, and checks the one-line refusal — nothing is signed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name, make_delta
from catalog.catalog_model import CATALOG_NAME
from pipeline.ceremony.event import (
    CeremonyError,
    SigningEvent,
    app_files_signed,
    open_split_targets_event,
)
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.publish.artifacts import read_build_outputs
from pipeline.publish.targets_layout import APP_FILES_ROLE, split_targets
from signing.keys import SigningKey
from signing.metadata import Metadata, Targets
from tests.support.ceremony_setup import NOW, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp, write_build


@pytest.fixture
def ceremony(tmp_path: Path) -> ThrowawayCeremony:
    return make_ceremony(tmp_path)


def accepted(ceremony: ThrowawayCeremony, dist: Path) -> SigningEvent:
    event, _review = open_catalog_event(ceremony.state, dist, NOW)
    for key in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, key, NOW)
    return ceremony.state.load_event(event.event_id)


def two_builds(ceremony: ThrowawayCeremony, tmp_path: Path) -> tuple[SigningEvent, Path]:
    """v1 accepted; v2 built (demo-web 1.1.0), not opened yet."""
    write_build(tmp_path / "v1", [SmallApp("demo-web")])
    first = accepted(ceremony, tmp_path / "v1")
    write_build(tmp_path / "v2", [SmallApp("demo-web", version="1.1.0")], commit="b" * 40)
    return first, tmp_path / "v2"


def hostile_split_event(
    ceremony: ThrowawayCeremony,
    dist: Path,
    deltas: dict[str, bytes],
    delegate_to: list[SigningKey] | None = None,
) -> SigningEvent:
    """An event CI writes itself, consistent with its record, skipping every check."""
    state = ceremony.state
    outputs = read_build_outputs(dist)
    root = state.trusted_root()
    keys = [root.keys[k] for k in root.roles["targets"].keyids]
    if delegate_to is not None:
        keys = [key.public_key for key in delegate_to]
    split = split_targets(
        {**dict(outputs.artifacts), **deltas},
        max(state.targets_event_versions(), default=0) + 1,
        NOW + state.settings.expiry("targets"),
        keys,
        2,
        None,
        renew_before=NOW,
    )
    app_files = Metadata.unsigned(dataclasses.replace(split.app_files, version=9))
    event = open_split_targets_event(
        split.top_level, app_files, sorted(deltas.items()), NOW, outputs.catalog_bytes
    )
    state.save_event(event)
    return event


def sign_refusal(ceremony: ThrowawayCeremony, event_id: str) -> str:
    with pytest.raises(CeremonyError) as raised:
        sign_event(ceremony.state, event_id, ceremony.maintainers[0], NOW)
    assert ceremony.state.load_event(event_id).metadata.signatures == ()
    return str(raised.value)


def test_each_signer_signs_a_new_app_files_and_nobody_re_signs_a_kept_one(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    first, v2 = two_builds(ceremony, tmp_path)
    assert first.app_files is not None
    assert len(first.app_files.signatures) == 2
    assert app_files_signed(first.metadata.signed, first.app_files)  # type: ignore[arg-type]
    second = accepted(ceremony, v2)
    assert second.app_files == first.app_files  # same icons: v1 kept, not signed again
    write_build(tmp_path / "v3", [SmallApp("demo-web"), SmallApp("other", host_port=18099)])
    third, _review = open_catalog_event(ceremony.state, tmp_path / "v3", NOW)
    assert third.app_files is not None and third.app_files.signed.version == 2
    assert third.app_files.signatures == ()


def test_an_app_files_role_altered_after_open_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    _first, v2 = two_builds(ceremony, tmp_path)
    write_build(v2, [SmallApp("demo-web", version="1.1.0")], commit="b" * 40)
    event, _review = open_catalog_event(ceremony.state, v2, NOW)
    path = ceremony.state.event_dir(event.event_id) / "app-files.json"
    document = json.loads(path.read_text())
    document["signed"]["targets"]["icons/evil.svg"] = {"length": 1, "hashes": {"blake3": "0" * 64}}
    path.write_text(json.dumps(document))

    assert "was altered after it was opened" in sign_refusal(ceremony, event.event_id)


def test_a_delta_file_swapped_after_open_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    first, v2 = two_builds(ceremony, tmp_path)
    event, _review = open_catalog_event(ceremony.state, v2, NOW)
    name = delta_target_name(blake3_hex(first.catalog or b""))
    (ceremony.state.event_dir(event.event_id) / name).write_bytes(b"not the signed delta")

    assert sign_refusal(ceremony, event.event_id) == (
        f"{name}: not the delta the targets metadata signs"
    )


def test_a_delta_from_a_catalog_no_accepted_event_holds_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    _first, v2 = two_builds(ceremony, tmp_path)
    write_build(tmp_path / "other", [SmallApp("demo-web", version="0.1.0")], commit="c" * 40)
    stranger = (tmp_path / "other" / CATALOG_NAME).read_bytes()
    catalog = (v2 / CATALOG_NAME).read_bytes()
    name = delta_target_name(blake3_hex(stranger))
    event = hostile_split_event(ceremony, v2, {name: make_delta(stranger, catalog)})

    assert sign_refusal(ceremony, event.event_id) == (
        f"{name}: a delta from a catalog no accepted event holds"
    )


def test_a_signed_delta_that_rebuilds_another_catalog_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    first, v2 = two_builds(ceremony, tmp_path)
    write_build(tmp_path / "evil", [SmallApp("demo-web", version="6.6.6")], commit="b" * 40)
    evil = (tmp_path / "evil" / CATALOG_NAME).read_bytes()
    assert first.catalog is not None
    name = delta_target_name(blake3_hex(first.catalog))
    event = hostile_split_event(ceremony, v2, {name: make_delta(first.catalog, evil)})

    refusal = sign_refusal(ceremony, event.event_id)
    assert refusal.startswith(f"{name}: ")
    assert "rebuild" in refusal or "does not apply" in refusal


def test_app_files_delegated_to_another_key_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    _first, v2 = two_builds(ceremony, tmp_path)
    mallory = SigningKey.generate()
    event = hostile_split_event(ceremony, v2, {}, delegate_to=[mallory, ceremony.maintainers[0]])

    assert sign_refusal(ceremony, event.event_id) == (
        f"the targets metadata (v2) delegates {APP_FILES_ROLE} to other keys or another "
        "threshold than the targets role of root v1"
    )


def test_an_icon_moved_from_app_files_to_the_top_level_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    _first, v2 = two_builds(ceremony, tmp_path)
    event = hostile_split_event(ceremony, v2, {})
    assert event.app_files is not None
    top = event.metadata.signed
    assert isinstance(top, Targets)
    icon_name, icon = next(iter(event.app_files.signed.targets.items()))
    moved = dataclasses.replace(top, targets={**top.targets, icon_name: icon})
    emptied = dataclasses.replace(event.app_files.signed, targets={})
    hostile = open_split_targets_event(
        moved, Metadata.unsigned(emptied), (), NOW, event.catalog or b""
    )
    ceremony.state.save_event(hostile)

    assert sign_refusal(ceremony, hostile.event_id) == (
        f"the targets metadata signs {icon_name} itself; it belongs to {APP_FILES_ROLE}"
    )
