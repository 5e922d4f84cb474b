"""The trust score: every fact a line with its points; cycles and self-endorsements count zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from catalog.loader import parse_manifest
from node_runtime.market.score import (
    PolicyFacts,
    ScoreLine,
    TrustFacts,
    follow_depths,
    policy_facts,
    trust_score,
)
from tests.support.sample_manifest import VALID_MANIFEST

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
OWNER, DEV, ALICE, BOB, CAROL, MALLORY = (c * 64 for c in "0abcde")
DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
NO_POLICY = PolicyFacts((), (), 0)


def facts(**changes: object) -> TrustFacts:
    base: dict[str, object] = {
        "developer_pubkey": DEV,
        "did": DID,
        "official": False,
        "owner_trusts_did": False,
        "endorsers": frozenset(),
        "reporters": frozenset(),
        "first_seen": NOW,
        "policy": NO_POLICY,
    }
    base.update(changes)
    return TrustFacts(**base)  # type: ignore[arg-type]


def lines(score_facts: TrustFacts, follows: dict[str, set[str]]) -> list[tuple[str, int]]:
    score = trust_score(score_facts, OWNER, follows, NOW)
    assert score.total == sum(line.points for line in score.lines)
    return [(line.fact, line.points) for line in score.lines]


def test_a_new_third_party_app_with_nothing_known_scores_zero_and_says_so() -> None:
    score = trust_score(facts(), None, {}, NOW)
    assert score.lines == (
        ScoreLine("third-party registry", 0),
        ScoreLine("identity first seen 0 day(s) ago", 0),
    )
    assert score.total == 0


def test_official_and_explicit_trust_and_age() -> None:
    shown = lines(
        facts(official=True, owner_trusts_did=True, first_seen=NOW - timedelta(days=95)), {}
    )
    assert shown == [
        ("official registry", 50),
        (f"you trust {DID}", 40),
        ("identity first seen 95 day(s) ago", 3),
    ]
    assert lines(facts(first_seen=NOW - timedelta(days=4000)), {})[-1] == (
        "identity first seen 4000 day(s) ago",
        10,
    )


def test_endorsements_count_by_follow_depth_and_are_capped() -> None:
    follows = {OWNER: {ALICE}, ALICE: {BOB, CAROL}}
    shown = lines(facts(endorsers=frozenset({ALICE, BOB, CAROL, MALLORY})), follows)
    assert shown[1:5] == [
        (f"endorsed by a key you follow: {ALICE[:12]}…", 10),
        (f"endorsed by a key followed by one you follow: {BOB[:12]}…", 5),
        (f"endorsed by a key followed by one you follow: {CAROL[:12]}…", 5),
        (f"endorsed by {MALLORY[:12]}…, not followed within 2 steps", 0),
    ]
    many = {OWNER: {ALICE, BOB, CAROL, MALLORY}}
    capped = lines(facts(endorsers=frozenset({ALICE, BOB, CAROL, MALLORY})), many)
    assert [points for _, points in capped[1:5]] == [10, 10, 10, 0]
    assert capped[4][0].endswith("(endorsements capped)")


def test_self_endorsement_and_endorsements_through_the_developer_count_zero() -> None:
    # the owner follows the developer, who follows two sock puppets that endorse the app;
    # the developer endorses their own app too
    follows = {OWNER: {DEV}, DEV: {ALICE, BOB}, ALICE: {DEV}, BOB: {ALICE}}
    shown = lines(facts(endorsers=frozenset({DEV, ALICE, BOB})), follows)
    assert sorted(shown[1:4]) == sorted(
        [
            (f"self-endorsement by the developer's key {DEV[:12]}…", 0),
            (f"endorsed by {ALICE[:12]}…, followed only through the developer (cycle)", 0),
            (f"endorsed by {BOB[:12]}…, followed only through the developer (cycle)", 0),
        ]
    )
    assert (
        trust_score(facts(endorsers=frozenset({DEV, ALICE, BOB})), OWNER, follows, NOW).total == 0
    )


def test_follow_cycles_terminate_and_the_owner_is_never_their_own_follow() -> None:
    follows = {OWNER: {ALICE}, ALICE: {BOB, OWNER}, BOB: {ALICE, OWNER, CAROL}}
    assert follow_depths(OWNER, follows) == {ALICE: 1, BOB: 2}
    assert follow_depths(None, follows) == {}
    shown = lines(facts(endorsers=frozenset({OWNER})), follows)
    assert shown[1] == ("endorsement by your own key (explicit trust counts)", 0)


def test_reports_from_followed_keys_subtract_and_others_count_zero() -> None:
    follows = {OWNER: {ALICE}, ALICE: {BOB}}
    shown = lines(facts(reporters=frozenset({ALICE, BOB, MALLORY, DEV})), follows)
    assert shown[2:] == [
        (f"reported by a key you follow: {ALICE[:12]}…", -20),
        (f"reported by a key followed by one you follow: {BOB[:12]}…", -10),
        (f"reported by {DEV[:12]}…, not followed", 0),
        (f"reported by {MALLORY[:12]}…, not followed", 0),
    ]


def test_policy_facts_come_from_the_manifest_and_each_is_a_line() -> None:
    manifest = parse_manifest(VALID_MANIFEST.encode(), "manifest.yml")
    policy = policy_facts(manifest)
    shown = lines(facts(policy=policy), {})
    assert policy.host_ports == (18080,)
    expected_ports = [("publishes host port 18080", -2)]
    assert [line for line in shown if line[0].startswith("publishes")] == expected_ports
    assert all(points == -5 for fact, points in shown if fact.startswith("asks for"))
    rich = PolicyFacts(("tor", "device /dev/ttyUSB0"), (8080,), 2)
    assert lines(facts(policy=rich), {})[2:] == [
        ("asks for tor", -5),
        ("asks for device /dev/ttyUSB0", -5),
        ("publishes host port 8080", -2),
        ("runs 2 hook step(s)", -6),
    ]
