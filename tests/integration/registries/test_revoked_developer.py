"""A developer revokes their did:key on a relay: a node that added the registry from that
relay stops taking catalogs and installs signed by the key, says why, and remembers the
revocation even when the relay later withholds it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.ceremony.keystore import KdfCost
from pipeline.cli import main as archy_main
from pipeline.market.announce import announcement_event_json, announcements, send_events
from pipeline.market.identity import create_identity, open_identity
from tests.integration.registries.conftest import (
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)
from tests.support.market import PASSPHRASE


@pytest.mark.integration
def test_a_revoked_did_key_stops_pulls_and_installs_with_the_reason(
    tmp_path: Path, relay_url: str
) -> None:
    create_identity(tmp_path / "identity", PASSPHRASE, KdfCost.INTERACTIVE)
    identity = open_identity(tmp_path / "identity", PASSPHRASE)
    dev = developer_registry(tmp_path, identity, developer_app(tmp_path / "dev", "demo-notes"))
    [content] = announcements(
        dev.published.catalog_bytes, dev.published.root_file.read_bytes(), "devreg",
        [dev.origin], identity.public,
    )  # fmt: skip
    send_events([announcement_event_json(content, identity)], [relay_url])
    node = new_node(tmp_path, official_repository(tmp_path / "official"))
    code, _, err = node.run(
        "registry", "add", "devreg", "--from-relay", relay_url, "--announcement",
        content.d_tag(), "--allow-file-origins", "--yes",
    )  # fmt: skip
    assert code == 0, err
    assert node.run("pull")[0] == 0
    assert node.run("install", "devreg/demo-notes")[0] == 0

    revoked = CliRunner().invoke(
        archy_main,
        ["dev", "revoke", "--reason", "the key was stolen", "--relay", relay_url, "--dir",
         str(tmp_path / "identity"), "--passphrase-env", "DEV_PASSPHRASE"],
        env={"DEV_PASSPHRASE": PASSPHRASE.decode()},
    )  # fmt: skip
    assert revoked.exit_code == 0, revoked.output

    code, _, err = node.run("pull")
    assert code == 1
    why = f"signed by {identity.public.did} was revoked by its developer: the key was stolen"
    assert err == (
        "error: registry devreg: pull failed, its current catalog is kept: catalog: refused "
        f"whole, nothing kept: apps.demo-notes: {why}\n"
    )
    remembered = node.state_root / "market" / "revocations.json"
    assert identity.public.did in json.loads(remembered.read_text())
    assert os.stat(remembered).st_mode & 0o777 == 0o600

    # the relay forgets it (withheld); the node does not
    node.run("registry", "set", "devreg", "--relay", "ws://127.0.0.1:9")
    assert node.run("uninstall", "devreg/demo-notes")[0] == 0
    code, out, err = node.run("install", "devreg/demo-notes")
    assert (code, out) == (1, "")
    assert err == f"error: devreg/demo-notes: apps.demo-notes: {why}\n"
