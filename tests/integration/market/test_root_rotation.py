"""A developer rotates their registry's root (every key replaced, the new root signed by the
old root key and the new one): a node that pinned the first root follows the chain; a
"rotation" the old root key did not sign is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, timedelta
from datetime import datetime as DateTime
from pathlib import Path

from click.testing import CliRunner

from catalog.address import blake3_hex
from catalog.catalog_model import CATALOG_NAME
from node_runtime.commands import main as node_main
from node_runtime.fetch.tuf_client import Updater
from pipeline.market.dev_registry import PublishedRegistry, publish_developer_registry
from pipeline.market.identity import DeveloperIdentity
from signing import repository as tuf
from signing.keys import SigningKey
from signing.metadata import Metadata, Root, Targets
from tests.support.market import Registry, announcement, keys_of, publish, send_announcement


def rotated(first: Registry, tmp_path: Path) -> Registry:
    """The same registry (same origin, same app), published again under root v2."""
    second = publish_developer_registry(
        tmp_path / "apps" / "demo-notes", first.identity.signer, first.published.repo_dir,
        DateTime.now(UTC), previous=first.published, rotate=True,
    )  # fmt: skip
    return Registry(second, first.origin, first.identity)


def discover_json(relay_url: str) -> dict:
    result = CliRunner().invoke(
        node_main, ["discover", "--relay", relay_url, "--allow-file-origins", "--state-root",
                    "/nonexistent", "--json"],
    )  # fmt: skip
    assert (result.exit_code, "Traceback" in result.stderr) == (0, False), result.stderr
    return dict(json.loads(result.stdout))


def root_keyids(published: PublishedRegistry, version: int) -> set[str]:
    path = published.repo_dir / "metadata" / f"{version}.root.json"
    return set(json.loads(path.read_bytes())["signed"]["keys"])


def test_an_announcement_pinning_the_first_root_lists_an_app_signed_under_the_rotated_root(
    tmp_path: Path, relay_url: str, developer: DeveloperIdentity
) -> None:
    first = publish(tmp_path, developer)
    second = rotated(first, tmp_path)
    assert second.published.root_version == 2
    new_targets_key = second.published.keys["targets"].keyid
    assert new_targets_key not in root_keyids(second.published, 1)  # only root v2 knows it
    content = announcement(second)  # pins metadata/1.root.json, as before the rotation
    assert content.root.version == 1
    send_announcement(relay_url, content, keys_of(developer))
    document = discover_json(relay_url)
    assert document["rejected"] == []
    [app] = document["apps"]
    assert app["catalog_blake3"] == blake3_hex(second.published.catalog_bytes)
    assert app["root_fingerprint"] == blake3_hex(first.published.root_file.read_bytes())


def test_a_node_that_follows_the_registry_moves_to_the_rotated_root(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    first = publish(tmp_path, developer)
    state = tmp_path / "node-trust"
    state.mkdir()
    (state / "root.json").write_bytes(first.published.root_file.read_bytes())

    def refresh() -> bytes:
        updater = Updater(
            state, f"{first.origin}/metadata/", tmp_path / "node-targets",
            f"{first.origin}/targets/",
        )  # fmt: skip
        updater.refresh()
        info = updater.get_targetinfo(CATALOG_NAME)
        assert info is not None
        return updater.download_target(info).read_bytes()

    assert refresh() == first.published.catalog_bytes
    second = rotated(first, tmp_path)
    assert refresh() == second.published.catalog_bytes
    trusted = json.loads((state / "root.json").read_bytes())["signed"]
    assert trusted["version"] == 2
    assert set(trusted["keys"]) == root_keyids(second.published, 2)


def test_a_rotation_the_old_root_key_did_not_sign_is_refused(
    tmp_path: Path, relay_url: str, developer: DeveloperIdentity
) -> None:
    first = publish(tmp_path, developer)
    repo = first.published.repo_dir
    # Someone without the root key (e.g. holding only the origin) writes a root v2 of their
    # own keys, signed only by those, and a catalog signed under it.
    now = DateTime.now(UTC).replace(microsecond=0)
    keys = {role: SigningKey.generate() for role in ("root", "targets", "online")}
    root = tuf.new_root(now + timedelta(days=365), {
        "root": [keys["root"].public_key], "targets": [keys["targets"].public_key],
        "snapshot": [keys["online"].public_key], "timestamp": [keys["online"].public_key],
    })  # fmt: skip
    hostile_root = tuf.sign(replace(root, version=2), [keys["root"]])
    catalog = first.published.catalog_bytes.replace(b"Demo Notes", b"Demo Nytes")
    targets = tuf.sign(
        tuf.add_target(
            Targets(2, now + timedelta(days=30)), tuf.target_file(CATALOG_NAME, catalog)
        ),
        [keys["targets"]],
    )
    snapshot = tuf.sign(tuf.snapshot_for(2, now + timedelta(days=7), {"targets": targets}),
                        [keys["online"]])  # fmt: skip
    timestamp = tuf.sign(tuf.timestamp_for(2, now + timedelta(days=1), snapshot), [keys["online"]])
    roots = [Metadata.from_bytes(first.published.root_file.read_bytes(), Root), hostile_root]
    files = tuf.consistent_snapshot_files(
        roots, {"targets": targets}, snapshot, timestamp,
        [(targets.signed.targets[CATALOG_NAME], catalog)],
    )  # fmt: skip
    for name, data in files.items():
        if name != "metadata/1.root.json":
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(data)
    forged = announcement(first).model_copy(update={"catalog_blake3": blake3_hex(catalog)})
    send_announcement(relay_url, forged, keys_of(developer))
    document = discover_json(relay_url)
    assert document["apps"] == []
    [rejected] = document["rejected"]
    assert rejected["reason"] == (
        f"archy-app:devreg/demo-notes: {first.origin}: the registry does not verify "
        "(root: signed by 0 of the 1 keys the threshold requires)"
    )
