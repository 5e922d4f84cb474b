"""A developer announces their registry on a real relay; a node discovers it, checks every
claim against the registry's signed metadata, and lists only what holds."""

from __future__ import annotations

import json
import os
from datetime import UTC, timedelta
from datetime import datetime as DateTime
from pathlib import Path

import pytest
from click.testing import CliRunner
from nostr_sdk import Keys

from catalog.address import blake3_hex
from catalog.announcement import AppAnnouncement, Endorsement, Report, RootPin
from catalog.catalog_model import CATALOG_NAME, AppCatalog, DeveloperSignature
from node_runtime.commands import main as node_main
from pipeline.cli import main as archy_main
from pipeline.market import dev_registry
from pipeline.market.announce import announcement_event_json, announcements
from pipeline.market.dev_registry import publish_developer_registry
from pipeline.market.identity import DeveloperIdentity, open_identity
from signing import repository as tuf
from signing.developer import manifest_message, sign_binding
from signing.did_key import DidKeySigner
from signing.metadata import Metadata, Root, Targets
from tests.support.market import (
    PASSPHRASE,
    Registry,
    announcement,
    keys_of,
    publish,
    send_announcement,
    send_event,
)


def discover(*args: str, state_root: Path | None = None) -> tuple[int, dict, str]:
    extra = ["--state-root", str(state_root)] if state_root else ["--state-root", "/nonexistent"]
    result = CliRunner().invoke(node_main, ["discover", *args, "--json", *extra])
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, document, result.stderr


def test_a_developer_announces_with_the_cli_and_a_node_lists_the_app_with_its_score(
    tmp_path: Path, relay_url: str
) -> None:
    env = {"DEV_PASSPHRASE": PASSPHRASE.decode()}
    identity_dir = tmp_path / "identity"
    runner = CliRunner()
    made = runner.invoke(
        archy_main,
        ["dev", "keygen", "--dir", str(identity_dir), "--kdf-cost", "interactive",
         "--passphrase-env", "DEV_PASSPHRASE", "--json"],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    identity = open_identity(identity_dir, PASSPHRASE)
    registry = publish(tmp_path, identity)
    sent = runner.invoke(
        archy_main,
        ["dev", "announce", "--dir", str(identity_dir), "--catalog",
         str(registry.published.repo_dir / "targets" / next(
             p.name for p in (registry.published.repo_dir / "targets").iterdir()
             if p.name.endswith(".app-catalog.json"))),
         "--root", str(registry.published.root_file), "--registry", "devreg",
         "--origin", registry.origin, "--relay", relay_url, "--passphrase-env",
         "DEV_PASSPHRASE"],
        env=env,
    )  # fmt: skip
    assert (sent.exit_code, sent.stderr) == (0, ""), sent.output
    assert sent.stdout == "announced archy-app:devreg/demo-notes (1 relay(s))\n"
    assert identity.nostr_secret_hex not in sent.output

    state_root = tmp_path / "node"
    state_root.mkdir()
    code, document, stderr = discover(
        "--relay", relay_url, "--allow-file-origins", state_root=state_root
    )
    assert (code, stderr, document["rejected"], document["unreachable"]) == (0, "", [], {})
    [app] = document["apps"]
    assert (app["registry"], app["app"], app["did"]) == (
        "devreg",
        "demo-notes",
        identity.public.did,
    )
    assert app["nostr_pubkey"] == identity.public.nostr_pubkey
    assert app["root_fingerprint"] == blake3_hex(registry.published.root_file.read_bytes())
    assert app["catalog_blake3"] == blake3_hex(registry.published.catalog_bytes)
    facts = {line["fact"]: line["points"] for line in app["score"]["lines"]}
    assert facts["third-party registry"] == 0
    assert facts["identity first seen 0 day(s) ago"] == 0
    assert app["score"]["total"] == sum(facts.values())
    # first seen is recorded by the node (0600), not taken from the event
    record = state_root / "market" / "first-seen.json"
    assert identity.public.did in json.loads(record.read_text())
    assert os.stat(record).st_mode & 0o777 == 0o600

    # people see the same, as lines
    shown = CliRunner().invoke(
        node_main, ["discover", "--relay", relay_url, "--allow-file-origins",
                    "--state-root", str(state_root)],
    )  # fmt: skip
    assert shown.exit_code == 0
    assert shown.stdout.startswith(f"devreg/demo-notes  {app['version']}  score ")
    assert "     +0  third-party registry\n" in shown.stdout


def test_the_owner_trusting_the_did_and_the_official_root_add_their_points(
    relay_url: str, registry: Registry
) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    _code, document, _ = discover(
        "--relay", relay_url, "--allow-file-origins",
        "--trust-did", registry.identity.public.did,
        "--official-root", str(registry.published.root_file),
    )  # fmt: skip
    facts = {line["fact"]: line["points"] for line in document["apps"][0]["score"]["lines"]}
    assert facts["official registry"] == 50
    assert facts[f"you trust {registry.identity.public.did}"] == 40


def test_file_origins_are_refused_unless_allowed(relay_url: str, registry: Registry) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    _code, document, _ = discover("--relay", relay_url)
    assert document["apps"] == []
    [rejected] = document["rejected"]
    assert rejected["reason"].endswith("file:// origins are refused (local files)")


def reason_for(relay_url: str) -> str:
    code, document, _ = discover("--relay", relay_url, "--allow-file-origins")
    assert code == 0 and document["apps"] == [], document
    [rejected] = document["rejected"]
    return str(rejected["reason"])


def test_an_announcement_with_a_wrong_catalog_blake3_is_rejected(
    relay_url: str, registry: Registry
) -> None:
    forged = announcement(registry).model_copy(update={"catalog_blake3": "ab" * 32})
    send_announcement(relay_url, forged, keys_of(registry.identity))
    assert reason_for(relay_url) == (
        "archy-app:devreg/demo-notes: announces catalog abababababababab…, the registry's "
        f"signed catalog is {blake3_hex(registry.published.catalog_bytes)[:16]}… (stale or forged)"
    )


def test_an_announcement_with_a_wrong_root_fingerprint_is_rejected(
    relay_url: str, registry: Registry
) -> None:
    real = announcement(registry)
    forged = real.model_copy(update={"root": RootPin(version=1, blake3="cd" * 32)})
    send_announcement(relay_url, forged, keys_of(registry.identity))
    reason = reason_for(relay_url)
    assert reason.startswith("archy-app:devreg/demo-notes: ")
    assert reason.endswith(
        f"/metadata/1.root.json: root fingerprint is {real.root.blake3}, "
        f"the announcement says {'cd' * 32}"
    )


def test_an_announcement_whose_binding_is_not_signed_by_the_did_is_rejected(
    relay_url: str, registry: Registry, other_developer: DeveloperIdentity
) -> None:
    # An impostor's Nostr key announces the developer's app, with a binding signed by
    # another did:key (it cannot sign one with the developer's).
    impostor = Keys.generate()
    forged = announcement(registry).model_copy(
        update={"binding": sign_binding(other_developer.signer, impostor.public_key().to_hex())}
    )
    send_announcement(relay_url, forged, impostor)
    assert reason_for(relay_url) == (
        f"archy-app:devreg/demo-notes: the binding is not signed by {registry.identity.public.did}"
        f" for Nostr key {impostor.public_key().to_hex()[:16]}…"
    )


def test_an_entry_signed_by_another_did_is_rejected(
    tmp_path: Path, relay_url: str, registry: Registry, other_developer: DeveloperIdentity
) -> None:
    # The other developer publishes the same app id in their own registry and announces
    # it naming the first developer's did:key with their own binding: the binding fails.
    # Announcing it under their own did:key but pointing at a registry signed by someone
    # else fails on the entry's signature.
    theirs = publish(tmp_path, other_developer)
    content = announcement(registry).model_copy(
        update={
            "did": other_developer.public.did,
            "binding": other_developer.public.binding,
        }
    )
    send_announcement(relay_url, content, keys_of(other_developer))
    assert reason_for(relay_url) == (
        f"archy-app:devreg/demo-notes: the entry is signed by {registry.identity.public.did}, "
        f"the announcement names {other_developer.public.did}"
    )
    assert theirs.identity is other_developer


def test_a_relay_serving_a_stale_announcement_loses_to_the_newer_one_and_alone_is_rejected(
    tmp_path: Path, relay_url: str, second_relay_url: str, developer: DeveloperIdentity
) -> None:
    first = publish(tmp_path, developer)
    stale = announcement(first)
    keys = keys_of(developer)
    # The registry moves on: revision 2 is published at the same origin, as targets v2.
    manifest = tmp_path / "apps" / "demo-notes" / "manifest.yml"
    manifest.write_text(manifest.read_text().replace("\nrevision: 1\n", "\nrevision: 2\n"))
    second = publish_developer_registry(
        manifest.parent, developer.signer, first.published.repo_dir, DateTime.now(UTC),
        previous=first.published,
    )  # fmt: skip
    fresh = announcement(Registry(second, first.origin, developer))
    assert (stale.revision, fresh.revision) == (1, 2)
    send_announcement(second_relay_url, stale, keys, created_at=1_700_000_000)
    send_announcement(relay_url, fresh, keys, created_at=1_800_000_000)
    code, document, _ = discover(
        "--relay", relay_url, "--relay", second_relay_url, "--allow-file-origins"
    )
    assert (code, document["rejected"]) == (0, [])
    [app] = document["apps"]
    assert (app["catalog_blake3"], app["version"]) == (fresh.catalog_blake3, "1.0.0-r2")
    # the stale relay alone: its event names a catalog the registry no longer signs
    assert reason_for(second_relay_url) == (
        f"archy-app:devreg/demo-notes: announces catalog {stale.catalog_blake3[:16]}…, the "
        f"registry's signed catalog is {fresh.catalog_blake3[:16]}… (stale or forged)"
    )


def test_foreign_events_are_rejected_or_ignored(relay_url: str, registry: Registry) -> None:
    keys = Keys.generate()
    send_event(relay_url, keys, "not json", [["d", "archy-app:x/y"], ["t", "archy-app"]])
    send_event(relay_url, keys, '{"some": "other app"}', [["d", "other:thing"]])
    send_event(relay_url, keys, "a note", [["t", "archy-app"]], kind=1)
    real = announcement(registry)
    send_event(
        relay_url, keys_of(registry.identity), real.content(),
        [["d", "archy-app:devreg/other-app"], ["t", "archy-app"]],
    )  # fmt: skip
    _code, document, _ = discover("--relay", relay_url, "--allow-file-origins")
    assert document["apps"] == []
    reasons = sorted(r["reason"].split(": ", 1)[1] for r in document["rejected"])
    assert reasons == [
        "content is not JSON (Expecting value)",
        "d tag 'archy-app:devreg/other-app' does not name 'archy-app:devreg/demo-notes'",
    ]


def test_bad_relay_urls_and_keys_are_refused_in_one_line() -> None:
    result = CliRunner().invoke(node_main, ["discover", "--relay", "not a url"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: relays: ")
    assert len(result.stderr.splitlines()) == 1
    result = CliRunner().invoke(node_main, ["discover", "--relay", "ws://127.0.0.1:9"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("error: no relay answered (ws://127.0.0.1:9: ")
    assert len(result.stderr.splitlines()) == 1
    result = CliRunner().invoke(
        node_main, ["discover", "--relay", "ws://127.0.0.1:9", "--trust-did", "did:key:zzz"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --trust-did did:key:zzz: ")
    assert "Traceback" not in result.stderr


def test_the_announced_event_is_what_the_protocol_says(
    registry: Registry,
) -> None:
    content = announcement(registry)
    event = json.loads(announcement_event_json(content, registry.identity))
    assert event["kind"] == 30078
    assert event["pubkey"] == registry.identity.public.nostr_pubkey
    assert ["d", "archy-app:devreg/demo-notes"] in event["tags"]
    assert ["t", "archy-app"] in event["tags"]
    body = json.loads(event["content"])
    assert body["type"] == "archy-app-announcement/1"
    assert body["origins"] == [registry.origin]
    assert body["root"] == {
        "version": 1,
        "blake3": blake3_hex(registry.published.root_file.read_bytes()),
    }
    assert body["did"] == registry.identity.public.did


@pytest.mark.parametrize("app_id", ["nope"])
def test_announce_refuses_an_app_the_catalog_does_not_hold(registry: Registry, app_id: str) -> None:
    from pipeline.market.announce import AnnounceRefused

    with pytest.raises(AnnounceRefused, match="has no app 'nope'"):
        announcements(
            registry.published.catalog_bytes, registry.published.root_file.read_bytes(),
            "devreg", [registry.origin], registry.identity.public, [app_id],
        )  # fmt: skip


def test_endorsements_and_reports_count_through_the_owners_follow_lists_on_the_relay(
    relay_url: str, registry: Registry
) -> None:
    owner, alice, bob, puppet = (Keys.generate() for _ in range(4))
    developer_keys = keys_of(registry.identity)
    hexes = {name: k.public_key().to_hex() for name, k in
             {"owner": owner, "alice": alice, "bob": bob, "puppet": puppet,
              "dev": developer_keys}.items()}  # fmt: skip
    send_announcement(relay_url, announcement(registry), developer_keys)
    # NIP-02 follow lists: owner -> alice, dev; alice -> bob; dev -> puppet (a cycle back)
    send_event(relay_url, owner, "", [["p", hexes["alice"]], ["p", hexes["dev"]]], kind=3)
    send_event(relay_url, alice, "", [["p", hexes["bob"]]], kind=3)
    send_event(relay_url, developer_keys, "", [["p", hexes["puppet"]]], kind=3)
    did = registry.identity.public.did
    endorsement = Endorsement(did=did, app="demo-notes")
    for keys in (alice, bob, puppet, developer_keys):
        send_event(
            relay_url, keys, endorsement.content(),
            [["d", endorsement.d_tag()], ["t", "archy-endorsement"]],
        )  # fmt: skip
    report = Report(did=did, app="demo-notes", reason="phones home")
    send_event(relay_url, bob, report.content(), [["d", report.d_tag()], ["t", "archy-report"]])
    _code, document, _ = discover(
        "--relay", relay_url, "--allow-file-origins", "--owner",
        owner.public_key().to_bech32(),
    )  # fmt: skip
    [app] = document["apps"]
    lines = [(line["fact"], line["points"]) for line in app["score"]["lines"]]
    short = {name: f"{value[:12]}…" for name, value in hexes.items()}
    assert (f"endorsed by a key you follow: {short['alice']}", 10) in lines
    assert (f"endorsed by a key followed by one you follow: {short['bob']}", 5) in lines
    assert (
        f"endorsed by {short['puppet']}, followed only through the developer (cycle)",
        0,
    ) in lines
    assert (f"self-endorsement by the developer's key {short['dev']}", 0) in lines
    assert (f"reported by a key followed by one you follow: {short['bob']}", -10) in lines
    assert app["score"]["total"] == sum(points for _, points in lines)


def test_a_registry_whose_online_key_leaked_cannot_list_a_catalog_its_targets_key_did_not_sign(
    tmp_path: Path, relay_url: str, developer: DeveloperIdentity
) -> None:
    published = publish(tmp_path, developer)
    online = published.published.keys["online"]
    repo = published.published.repo_dir
    # The thief of the online key serves a new catalog: targets v2 signed by the online
    # key, with a snapshot and timestamp the online key may sign.
    forged_catalog = published.published.catalog_bytes.replace(b"Demo Notes", b"Demo Nytes")
    now = DateTime.now(UTC).replace(microsecond=0)
    targets = tuf.add_target(
        Targets(2, now + timedelta(days=30)), tuf.target_file(CATALOG_NAME, forged_catalog)
    )
    signed_targets = tuf.sign(targets, [online])
    snapshot = tuf.sign(tuf.snapshot_for(2, now + timedelta(days=7), {"targets": signed_targets}),
                        [online])  # fmt: skip
    timestamp = tuf.sign(tuf.timestamp_for(2, now + timedelta(days=1), snapshot), [online])
    roots = [Metadata.from_bytes(published.published.root_file.read_bytes(), Root)]
    files = tuf.consistent_snapshot_files(
        roots, {"targets": signed_targets}, snapshot, timestamp,
        [(signed_targets.signed.targets[CATALOG_NAME], forged_catalog)],
    )  # fmt: skip
    for name, data in files.items():
        if name != "metadata/1.root.json":
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_bytes(data)
    forged = announcement(published).model_copy(
        update={"catalog_blake3": blake3_hex(forged_catalog)}
    )
    send_announcement(relay_url, forged, keys_of(developer))
    reason = reason_for(relay_url)
    assert reason.startswith("archy-app:devreg/demo-notes: ")
    assert ": the registry does not verify (" in reason
    assert "targets" in reason.split("does not verify", 1)[1], reason


def test_an_entry_whose_did_key_signature_is_forged_is_rejected(
    tmp_path: Path,
    relay_url: str,
    monkeypatch: pytest.MonkeyPatch,
    developer: DeveloperIdentity,
    other_developer: DeveloperIdentity,
) -> None:
    # A registry whose build claims the other developer's did:key but signs with its own
    # key (it does not hold the other one): every other claim of the announcement holds.
    def forge(catalog: AppCatalog, signer: DidKeySigner) -> AppCatalog:
        apps = {
            app_id: app.model_copy(
                update={
                    "developer": DeveloperSignature(
                        did=other_developer.public.did,
                        signature=signer.sign(manifest_message(app.manifest)).hex(),
                    )
                }
            )
            for app_id, app in catalog.apps.items()
        }
        return catalog.model_copy(update={"apps": apps})

    monkeypatch.setattr(dev_registry, "sign_catalog_apps", forge)
    forged = publish(tmp_path, developer)
    content = AppAnnouncement(
        registry="devreg",
        app="demo-notes",
        version="1.0.0",
        revision=1,
        origins=[forged.origin],
        root=RootPin(version=1, blake3=blake3_hex(forged.published.root_file.read_bytes())),
        catalog_blake3=blake3_hex(forged.published.catalog_bytes),
        did=other_developer.public.did,
        binding=other_developer.public.binding,
    )
    send_announcement(relay_url, content, keys_of(other_developer))
    assert reason_for(relay_url) == (
        "archy-app:devreg/demo-notes: apps.demo-notes.developer.signature: not a signature "
        f"of this manifest by {other_developer.public.did}"
    )


def test_a_genuine_announcement_replayed_under_another_nostr_key_is_rejected(
    relay_url: str, registry: Registry
) -> None:
    thief = Keys.generate()
    send_announcement(relay_url, announcement(registry), thief)
    assert reason_for(relay_url) == (
        f"archy-app:devreg/demo-notes: the binding is not signed by {registry.identity.public.did}"
        f" for Nostr key {thief.public_key().to_hex()[:16]}…"
    )


def test_an_endorsement_sent_with_archy_dev_endorse_counts_for_those_who_follow_its_key(
    tmp_path: Path, relay_url: str, registry: Registry
) -> None:
    env = {"DEV_PASSPHRASE": PASSPHRASE.decode()}
    friend_dir = tmp_path / "friend"
    runner = CliRunner()
    made = runner.invoke(
        archy_main,
        ["dev", "keygen", "--dir", str(friend_dir), "--kdf-cost", "interactive",
         "--passphrase-env", "DEV_PASSPHRASE", "--json"],
        env=env,
    )  # fmt: skip
    friend = json.loads(made.stdout)
    did = registry.identity.public.did
    common = ["--relay", relay_url, "--dir", str(friend_dir), "--passphrase-env", "DEV_PASSPHRASE"]
    sent = runner.invoke(archy_main, ["dev", "endorse", did, "demo-notes", *common], env=env)
    assert (sent.exit_code, sent.stderr) == (0, "")
    assert sent.stdout == f"sent archy-endorsement:{did}/demo-notes (1 relay(s))\n"
    refused = runner.invoke(archy_main, ["dev", "endorse", "did:key:zzz", "x1", *common], env=env)
    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr.startswith("error: did: String should match pattern")
    owner = Keys.generate()
    send_event(relay_url, owner, "", [["p", friend["nostr_pubkey"]]], kind=3)
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    _code, document, _ = discover(
        "--relay", relay_url, "--allow-file-origins", "--owner", owner.public_key().to_hex()
    )
    lines = [(line["fact"], line["points"]) for line in document["apps"][0]["score"]["lines"]]
    assert (f"endorsed by a key you follow: {friend['nostr_pubkey'][:12]}…", 10) in lines
