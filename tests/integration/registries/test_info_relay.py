"""``archy-node info NAME/app --relay URL``: the score gains the endorsement and report
lines a real relay carries, checked as ``discover`` checks them (follow depth from the
owner, the developer's own key worth nothing, an event whose ``d`` tag does not name its
content ignored); without --relay, and for the install threshold, only local facts count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nostr_sdk import Keys

from catalog.announcement import Endorsement, Report
from pipeline.market.announce import announcements
from pipeline.market.identity import DeveloperIdentity
from tests.integration.registries.conftest import (
    Node,
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)
from tests.support.market import keys_of, send_announcement, send_event

pytestmark = pytest.mark.integration


def _node(tmp_path: Path, developer: DeveloperIdentity, relay_url: str) -> Node:
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    node = new_node(tmp_path, official_repository(tmp_path / "official"))
    code, _, err = node.run("registry", "add", "dev", "--origin", dev.origin,
                            "--root", str(dev.published.root_file))  # fmt: skip
    assert (code, err) == (0, "")
    assert node.run("pull")[0] == 0
    [announced] = announcements(dev.published.catalog_bytes,
                                dev.published.root_file.read_bytes(), "devreg", [dev.origin],
                                developer.public)  # fmt: skip
    send_announcement(relay_url, announced, keys_of(developer))
    return node


def _lines(node: Node, *args: str) -> list[tuple[str, int]]:
    code, out, err = node.run("info", "dev/demo-notes", *args, "--json")
    assert (code, err) == (0, ""), out
    return [(line["fact"], line["points"]) for line in json.loads(out)["score"]["lines"]]


def test_info_with_a_relay_adds_the_endorsements_and_reports_it_carries(
    tmp_path: Path, developer: DeveloperIdentity, relay_url: str
) -> None:
    node = _node(tmp_path, developer, relay_url)
    owner, alice, bob, carol, mallory = (Keys.generate() for _ in range(5))
    hexes = {name: keys.public_key().to_hex() for name, keys in
             {"alice": alice, "bob": bob, "carol": carol, "mallory": mallory,
              "dev": keys_of(developer)}.items()}  # fmt: skip
    short = {name: f"{value[:12]}…" for name, value in hexes.items()}
    follows = [["p", hexes[name]] for name in ("alice", "carol", "mallory")]
    send_event(relay_url, owner, "", follows, kind=3)
    send_event(relay_url, alice, "", [["p", hexes["bob"]]], kind=3)
    did = developer.public.did
    endorsement = Endorsement(did=did, app="demo-notes")
    tags = [["d", endorsement.d_tag()], ["t", "archy-endorsement"]]
    for keys in (alice, bob, keys_of(developer)):
        send_event(relay_url, keys, endorsement.content(), tags)
    # mallory's "endorsement" names another app in its d tag: ignored, as discover does
    send_event(relay_url, mallory, endorsement.content(),
               [["d", f"archy-endorsement:{did}/other"], ["t", "archy-endorsement"]])  # fmt: skip
    report = Report(did=did, app="demo-notes", reason="phones home")
    send_event(relay_url, carol, report.content(), [["d", report.d_tag()], ["t", "archy-report"]])

    local = _lines(node)
    assert not [fact for fact, _ in local if "endorse" in fact or "report" in fact]
    lines = _lines(node, "--relay", relay_url, "--owner", owner.public_key().to_bech32())
    assert (f"endorsed by a key you follow: {short['alice']}", 10) in lines
    assert (f"endorsed by a key followed by one you follow: {short['bob']}", 5) in lines
    assert (f"self-endorsement by the developer's key {short['dev']}", 0) in lines
    assert (f"reported by a key you follow: {short['carol']}", -20) in lines
    assert not [fact for fact, _ in lines if short["mallory"] in fact]
    assert sorted(set(lines) - set(local)) == sorted([
        (f"endorsed by a key you follow: {short['alice']}", 10),
        (f"endorsed by a key followed by one you follow: {short['bob']}", 5),
        (f"self-endorsement by the developer's key {short['dev']}", 0),
        (f"reported by a key you follow: {short['carol']}", -20),
    ])  # fmt: skip

    # people see the same lines; the threshold is still the score without relays
    local_total = sum(points for _, points in local)
    total = sum(points for _, points in lines)
    assert total == local_total - 5
    assert node.run("registry", "set", "dev", "--min-score", str(local_total))[0] == 0
    code, out, err = node.run("info", "dev/demo-notes", "--relay", relay_url, "--owner",
                              owner.public_key().to_bech32())  # fmt: skip
    assert (code, err) == (0, "")
    assert f"score {total} (threshold {local_total})\n" in out
    assert f"     +10  endorsed by a key you follow: {short['alice']}\n" in out
    assert out.endswith(
        f"without the relays' lines (what the install threshold counts): {local_total}\n"
    )
    assert node.run("install", "dev/demo-notes")[0] == 0
    # without --owner, no key is followed: every endorsement and report is a 0 line
    assert (f"endorsed by {short['alice']}, not followed within 2 steps", 0) in _lines(
        node, "--relay", relay_url
    )


def test_info_refuses_when_no_relay_answers_and_changes_nothing(
    tmp_path: Path, developer: DeveloperIdentity, relay_url: str
) -> None:
    node = _node(tmp_path, developer, relay_url)
    code, out, err = node.run("info", "dev/demo-notes", "--relay", "ws://127.0.0.1:1",
                              "--timeout", "5")  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith("error: no relay answered (ws://127.0.0.1:1") and err.count("\n") == 1
    code, out, err = node.run("info", "dev/demo-notes", "--owner", "not-a-key", "--relay",
                              relay_url)  # fmt: skip
    assert (code, out) == (1, "")
    assert err == "error: 'not-a-key' is not a Nostr public key (npub… or 64 hex)\n"
