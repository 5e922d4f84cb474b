"""A node keeps each discovered registry's trusted TUF metadata: an origin that later serves
the registry's older (still validly signed) metadata, with the old announcement on a relay,
is refused as a rollback instead of listing the old version again."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime as DateTime
from pathlib import Path

from click.testing import CliRunner

from node_runtime.commands import main as node_main
from pipeline.market.dev_registry import publish_developer_registry
from pipeline.market.identity import DeveloperIdentity
from tests.support.market import Registry, announcement, keys_of, publish, send_announcement


def discover(relay: str, state_root: Path) -> dict:
    result = CliRunner().invoke(
        node_main, ["discover", "--relay", relay, "--allow-file-origins", "--state-root",
                    str(state_root), "--json"],
    )  # fmt: skip
    assert (result.exit_code, "Traceback" in result.stderr) == (0, False), result.stderr
    return dict(json.loads(result.stdout))


def test_an_origin_rolled_back_to_older_signed_metadata_is_refused_by_a_node_that_saw_newer(
    tmp_path: Path, relay_url: str, second_relay_url: str, developer: DeveloperIdentity
) -> None:
    first = publish(tmp_path, developer)
    timestamp = first.published.repo_dir / "metadata" / "timestamp.json"
    old_timestamp = timestamp.read_bytes()
    manifest = tmp_path / "apps" / "demo-notes" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("\nrevision: 1\n", "\nrevision: 2\n"))
    second = Registry(
        publish_developer_registry(manifest.parent, developer.signer, first.published.repo_dir,
                                   DateTime.now(UTC), previous=first.published),
        first.origin, developer,
    )  # fmt: skip
    send_announcement(relay_url, announcement(second), keys_of(developer))
    node = tmp_path / "node"
    node.mkdir()
    [app] = discover(relay_url, node)["apps"]
    assert app["version"] == "1.0.0-r2"
    kept = node / "market" / "registries"
    assert [p.name for p in kept.glob("*/metadata/timestamp.json")] == ["timestamp.json"]
    assert oct(kept.stat().st_mode & 0o777) == "0o700"

    # The origin is rolled back (v1's files are all still there: consistent snapshots),
    # and a relay serves the old announcement.
    timestamp.write_bytes(old_timestamp)
    send_announcement(second_relay_url, announcement(first), keys_of(developer))
    document = discover(second_relay_url, node)
    assert document["apps"] == []
    [rejected] = document["rejected"]
    assert rejected["reason"] == (
        f"archy-app:devreg/demo-notes: {first.origin}: the registry does not verify "
        "(timestamp: version 1 is older than the trusted version 2)"
    )
    # a node that never saw version 2 cannot tell, and lists the old one
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    [old] = discover(second_relay_url, fresh)["apps"]
    assert old["version"] == "1.0.0-r1"
