"""A relay is untrusted transport: what it serves that is malformed, oversized, foreign, stale
or duplicated is refused with its reason or counts nothing (a real LocalRelay on 127.0.0.1).

Forged announcements (did:key signature, catalog BLAKE3, root fingerprint) and the stale
announcement of a registry that moved on are in test_discover.py; revocations in
test_revocation.py."""

from __future__ import annotations

import json

from click.testing import CliRunner
from nostr_sdk import Keys

from catalog.announcement import Endorsement, Report
from node_runtime.commands import main as node_main
from tests.support.market import Registry, announcement, keys_of, send_announcement, send_event


def discover(*relays: str, owner: Keys | None = None) -> dict:
    args = ["discover", "--allow-file-origins", "--state-root", "/nonexistent", "--json"]
    for relay in relays:
        args += ["--relay", relay]
    if owner is not None:
        args += ["--owner", owner.public_key().to_hex()]
    result = CliRunner().invoke(node_main, args)
    assert (result.exit_code, "Traceback" in result.stderr) == (0, False), result.stderr
    return dict(json.loads(result.stdout))


def reasons(document: dict) -> list[str]:
    return sorted(r["reason"].split(": ", 1)[1] for r in document["rejected"])


def score_lines(document: dict) -> list[tuple[str, int]]:
    [app] = document["apps"]
    return [(line["fact"], line["points"]) for line in app["score"]["lines"]]


def short(keys: Keys) -> str:
    return f"{keys.public_key().to_hex()[:12]}…"


def test_malformed_oversized_and_foreign_announcements_are_rejected_each_with_its_reason(
    relay_url: str, registry: Registry
) -> None:
    real = announcement(registry)
    developer = keys_of(registry.identity)
    tags = [["d", real.d_tag()], ["t", "archy-app"]]
    oversized = real.content()[:-1] + ', "padding": "' + "x" * 8200 + '"}'
    with_extra = real.content()[:-1] + ', "extra": 1}'
    for content in (oversized, with_extra, "[]", '{"type": "archy-endorsement/1"}'):
        send_event(relay_url, Keys.generate(), content, tags)
    # the genuine content under another namespace's d tag, by the developer's own key
    send_event(relay_url, developer, real.content(), [["d", "other-app:devreg/demo-notes"],
                                                      ["t", "archy-app"]])  # fmt: skip
    # the genuine content in another kind, with the same tags: never asked for
    send_event(relay_url, developer, real.content(), tags, kind=30079)
    document = discover(relay_url)
    assert document["apps"] == []
    assert reasons(document) == [
        "content is longer than 8192 characters",
        "content is not a JSON object",
        "d tag 'other-app:devreg/demo-notes' does not name 'archy-app:devreg/demo-notes'",
        "extra: Extra inputs are not permitted",
        "type: Input should be 'archy-app-announcement/1'",
    ]


def test_a_foreign_event_beside_a_genuine_announcement_does_not_hide_it(
    relay_url: str, registry: Registry
) -> None:
    real = announcement(registry)
    send_event(relay_url, Keys.generate(), "{broken", [["d", real.d_tag()], ["t", "archy-app"]])
    send_announcement(relay_url, real, keys_of(registry.identity))
    document = discover(relay_url)
    assert [app["app"] for app in document["apps"]] == ["demo-notes"]
    assert reasons(document) == [
        "content is not JSON (Expecting property name enclosed in double quotes)"
    ]


def test_endorsements_that_do_not_match_their_tags_or_parse_count_nothing(
    relay_url: str, registry: Registry
) -> None:
    owner, alice, bob, carol, dave = (Keys.generate() for _ in range(5))
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    follows = [["p", k.public_key().to_hex()] for k in (alice, bob, carol, dave)]
    send_event(relay_url, owner, "", follows, kind=3)
    did = registry.identity.public.did
    genuine = Endorsement(did=did, app="demo-notes")
    other_app = Endorsement(did=did, app="other-app")
    hashtag = ["t", "archy-endorsement"]
    # alice: content for another app under this app's d tag; bob: not JSON;
    # carol: an endorsement of another app (valid, but not this one)
    send_event(relay_url, alice, other_app.content(), [["d", genuine.d_tag()], hashtag])
    send_event(relay_url, bob, "{", [["d", genuine.d_tag()], hashtag])
    send_event(relay_url, carol, other_app.content(), [["d", other_app.d_tag()], hashtag])
    # dave: the one genuine endorsement, so the follows above are known to count
    send_event(relay_url, dave, genuine.content(), [["d", genuine.d_tag()], hashtag])
    lines = score_lines(discover(relay_url, owner=owner))
    assert [line for line in lines if "endorse" in line[0]] == [
        (f"endorsed by a key you follow: {short(dave)}", 10)
    ]


def test_a_stale_follow_list_on_one_relay_loses_to_the_newer_one_on_another(
    relay_url: str, second_relay_url: str, registry: Registry
) -> None:
    owner, alice = Keys.generate(), Keys.generate()
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    endorsement = Endorsement(did=registry.identity.public.did, app="demo-notes")
    send_event(relay_url, alice, endorsement.content(),
               [["d", endorsement.d_tag()], ["t", "archy-endorsement"]])  # fmt: skip
    # the owner followed alice, then unfollowed her; the second relay serves the old list
    alice_hex = alice.public_key().to_hex()
    send_event(second_relay_url, owner, "", [["p", alice_hex]], kind=3, created_at=1_700_000_000)
    send_event(relay_url, owner, "", [], kind=3, created_at=1_800_000_000)
    lines = score_lines(discover(relay_url, second_relay_url, owner=owner))
    assert (f"endorsed by {short(alice)}, not followed within 2 steps", 0) in lines
    # the stale relay alone believes she is followed
    send_announcement(second_relay_url, announcement(registry), keys_of(registry.identity))
    send_event(second_relay_url, alice, endorsement.content(),
               [["d", endorsement.d_tag()], ["t", "archy-endorsement"]])  # fmt: skip
    lines = score_lines(discover(second_relay_url, owner=owner))
    assert (f"endorsed by a key you follow: {short(alice)}", 10) in lines


def test_the_same_endorsement_on_two_relays_counts_once(
    relay_url: str, second_relay_url: str, registry: Registry
) -> None:
    owner, alice = Keys.generate(), Keys.generate()
    endorsement = Endorsement(did=registry.identity.public.did, app="demo-notes")
    for url in (relay_url, second_relay_url):
        send_announcement(url, announcement(registry), keys_of(registry.identity))
        send_event(url, owner, "", [["p", alice.public_key().to_hex()]], kind=3,
                   created_at=1_800_000_000)  # fmt: skip
    send_event(
        relay_url,
        alice,
        endorsement.content(),
        [["d", endorsement.d_tag()], ["t", "archy-endorsement"]],
        created_at=1_800_000_001,
    )
    send_event(
        second_relay_url,
        alice,
        endorsement.content(),
        [["d", endorsement.d_tag()], ["t", "archy-endorsement"]],
        created_at=1_800_000_002,
    )
    lines = score_lines(discover(relay_url, second_relay_url, owner=owner))
    assert [line for line in lines if "endorsed" in line[0]] == [
        (f"endorsed by a key you follow: {short(alice)}", 10)
    ]


def test_reports_count_only_from_followed_keys(relay_url: str, registry: Registry) -> None:
    owner, friend, stranger = (Keys.generate() for _ in range(3))
    developer = keys_of(registry.identity)
    send_announcement(relay_url, announcement(registry), developer)
    send_event(relay_url, owner, "", [["p", friend.public_key().to_hex()]], kind=3)
    report = Report(did=registry.identity.public.did, app="demo-notes", reason="mines coins")
    for keys in (friend, stranger, developer):
        send_event(relay_url, keys, report.content(), [["d", report.d_tag()],
                                                       ["t", "archy-report"]])  # fmt: skip
    lines = score_lines(discover(relay_url, owner=owner))
    reported = [line for line in lines if line[0].startswith("reported")]
    assert sorted(reported) == sorted([
        (f"reported by a key you follow: {short(friend)}", -20),
        (f"reported by {short(stranger)}, not followed", 0),
        (f"reported by {short(developer)}, not followed", 0),
    ])  # fmt: skip
