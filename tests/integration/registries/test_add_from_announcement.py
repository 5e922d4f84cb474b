"""``registry add --from-relay``: the owner sees the root fingerprint and the did:key of a
verified announcement and confirms before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from pipeline.market.announce import announcement_event_json, announcements, send_events
from pipeline.market.identity import DeveloperIdentity
from tests.integration.registries.conftest import (
    DeveloperRegistry,
    Node,
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)


def announce(dev: DeveloperRegistry, relay: str, name: str = "devreg") -> str:
    [content] = announcements(
        dev.published.catalog_bytes, dev.published.root_file.read_bytes(), name,
        [dev.origin], dev.identity.public,
    )  # fmt: skip
    [outcome] = send_events([announcement_event_json(content, dev.identity)], [relay])
    return outcome.event_id


def setup(
    tmp_path: Path, developer: DeveloperIdentity, relay: str
) -> tuple[Node, DeveloperRegistry]:
    official = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    announce(dev, relay)
    return new_node(tmp_path, official), dev


@pytest.mark.integration
def test_the_owner_sees_the_fingerprint_and_did_and_nothing_is_added_without_yes(
    tmp_path: Path, developer: DeveloperIdentity, relay_url: str
) -> None:
    node, dev = setup(tmp_path, developer, relay_url)
    fingerprint = blake3_hex(dev.published.root_file.read_bytes())
    code, out, err = node.run(
        "registry", "add", "devreg", "--from-relay", relay_url, "--announcement",
        "archy-app:devreg/demo-notes", "--allow-file-origins", input="n\n",
    )  # fmt: skip
    assert code == 1
    assert out == (
        f"registry devreg at {dev.origin}\n"
        f"  root fingerprint (BLAKE3 of 1.root.json): {fingerprint}\n"
        f"  developer: {developer.public.did}\n"
    )
    assert (
        err
        == "trust this root and developer as 'devreg'? [y/N]: n\nerror: not added (not confirmed)\n"
    )
    assert not (node.state_root / "registries" / "devreg").exists()

    code, out, err = node.run(
        "registry", "add", "devreg", "--from-relay", relay_url, "--announcement",
        "archy-app:devreg/demo-notes", "--allow-file-origins", input="y\n",
    )  # fmt: skip
    assert code == 0, err
    record = json.loads((node.state_root / "registries" / "devreg" / "registry.json").read_text())
    assert (record["did"], record["root_blake3"], record["added_from"]) == (
        developer.public.did, fingerprint, "archy-app:devreg/demo-notes",
    )  # fmt: skip


@pytest.mark.integration
def test_file_origins_in_announcements_are_refused_unless_allowed(
    tmp_path: Path, developer: DeveloperIdentity, relay_url: str
) -> None:
    node, dev = setup(tmp_path, developer, relay_url)
    code, out, err = node.run(
        "registry", "add", "devreg", "--from-relay", relay_url, "--announcement",
        "archy-app:devreg/demo-notes", "--yes",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith("error: announcement ")
    assert err.endswith(f"{dev.origin}: file:// origins are refused (local files)\n")
    assert list((node.state_root / "registries").glob("*")) == []


@pytest.mark.integration
def test_an_announcement_that_is_not_on_the_relay_is_refused(
    tmp_path: Path, developer: DeveloperIdentity, relay_url: str
) -> None:
    node, _ = setup(tmp_path, developer, relay_url)
    code, _, err = node.run("registry", "add", "devreg", "--from-relay", relay_url,
                            "--announcement", "archy-app:devreg/other", "--yes")  # fmt: skip
    assert code == 1
    assert err == f"error: no announcement 'archy-app:devreg/other' on {relay_url}\n"
