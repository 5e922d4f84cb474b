"""The explainable trust score: each verifiable fact a line with its points; the score is their sum.

Pure: facts in, lines out (docs/marketplace.md states the formula).  The score only
ranks and explains; it never lets an app past the node's security policy, which is
checked on install whatever the score says.

Facts and points:

* official registry (the announced root is one the node trusts as official): +50;
* the owner explicitly trusts this did:key: +40;
* endorsements (kind 30078, ``archy-endorsement``) naming this did:key and app, one per
  endorsing key: +10 from a key the owner follows, +5 from a key followed by one of
  those (NIP-02 follow lists, depth <= 2), at most +30 in all.  Counted zero: the
  developer's own key (self-endorsement), the owner's own key (explicit trust is the
  owner's word), keys reachable only through the developer's own follow list (a cycle
  back to the developer), keys not followed within two steps;
* identity age, from when this node first saw the did:key: +1 per full 30 days, at most +10;
* the app's policy facts: -5 per permission or added capability, -2 per host port,
  -3 per hook step;
* reports (kind 30078, ``archy-report``) from followed keys: -20 at depth 1, -10 at
  depth 2; zero from anyone else (the developer included).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from catalog.manifest import Manifest

OFFICIAL_POINTS = 50
OWNER_TRUST_POINTS = 40
ENDORSEMENT_POINTS = {1: 10, 2: 5}
ENDORSEMENT_CAP = 30
AGE_POINTS_PER_30_DAYS = 1
AGE_CAP = 10
PERMISSION_POINTS = -5
HOST_PORT_POINTS = -2
HOOK_STEP_POINTS = -3
REPORT_POINTS = {1: -20, 2: -10}
MAX_FOLLOW_DEPTH = 2


@dataclass(frozen=True)
class ScoreLine:
    fact: str
    points: int


@dataclass(frozen=True)
class TrustScore:
    total: int
    lines: tuple[ScoreLine, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "lines": [{"fact": line.fact, "points": line.points} for line in self.lines],
        }


@dataclass(frozen=True)
class PolicyFacts:
    permissions: tuple[str, ...]
    host_ports: tuple[int, ...]
    hook_steps: int


@dataclass(frozen=True)
class TrustFacts:
    developer_pubkey: str
    did: str
    official: bool
    owner_trusts_did: bool
    endorsers: frozenset[str]
    reporters: frozenset[str]
    first_seen: datetime | None
    policy: PolicyFacts


def policy_facts(manifest: Manifest) -> PolicyFacts:
    granted = manifest.permissions
    permissions = [name for name in ("tor", "bitcoin_rpc", "lightning_rpc", "host_network",
                                     "net_admin") if getattr(granted, name)]  # fmt: skip
    permissions += [f"device {device}" for device in granted.devices]
    permissions += [f"host path {path}" for path in granted.host_paths]
    for member in manifest.containers:
        permissions += [f"capability {cap} ({member.name})" for cap in member.cap_add]
    host_ports = sorted(
        port.host for member in manifest.containers for port in member.ports if port.host
    )
    hooks = len(manifest.hooks.post_install) + len(manifest.hooks.pre_start)
    return PolicyFacts(tuple(permissions), tuple(host_ports), hooks)


def follow_depths(
    owner: str | None, follows: Mapping[str, Iterable[str]], blocked: frozenset[str] = frozenset()
) -> dict[str, int]:
    """Breadth-first from ``owner``: the smallest follow distance (1 or 2) of each key.

    A key in ``blocked`` is neither given a depth nor expanded (its follow list does not
    count), and the owner is never its own follow: cycles end there."""
    if owner is None:
        return {}
    depths: dict[str, int] = {}
    frontier = [owner]
    for depth in range(1, MAX_FOLLOW_DEPTH + 1):
        following: list[str] = []
        for key in frontier:
            for followed in sorted(set(follows.get(key, ()))):
                if followed == owner or followed in blocked or followed in depths:
                    continue
                depths[followed] = depth
                following.append(followed)
        frontier = following
    return depths


def _short(pubkey: str) -> str:
    return f"{pubkey[:12]}…"


def _endorsement_lines(
    facts: TrustFacts, owner: str | None, follows: Mapping[str, Iterable[str]]
) -> list[ScoreLine]:
    honest = follow_depths(owner, follows, blocked=frozenset({facts.developer_pubkey}))
    through_developer = follow_depths(owner, follows)
    lines: list[ScoreLine] = []
    budget = ENDORSEMENT_CAP
    for endorser in sorted(facts.endorsers, key=lambda key: (honest.get(key, 9), key)):
        who = _short(endorser)
        if endorser == facts.developer_pubkey:
            lines.append(ScoreLine(f"self-endorsement by the developer's key {who}", 0))
        elif endorser == owner:
            lines.append(ScoreLine("endorsement by your own key (explicit trust counts)", 0))
        elif endorser in honest:
            depth = honest[endorser]
            points = min(ENDORSEMENT_POINTS[depth], budget)
            budget -= points
            relation = "a key you follow" if depth == 1 else "a key followed by one you follow"
            capped = "" if points == ENDORSEMENT_POINTS[depth] else " (endorsements capped)"
            lines.append(ScoreLine(f"endorsed by {relation}: {who}{capped}", points))
        elif endorser in through_developer:
            lines.append(
                ScoreLine(f"endorsed by {who}, followed only through the developer (cycle)", 0)
            )
        else:
            lines.append(ScoreLine(f"endorsed by {who}, not followed within 2 steps", 0))
    return lines


def _report_lines(
    facts: TrustFacts, owner: str | None, follows: Mapping[str, Iterable[str]]
) -> list[ScoreLine]:
    depths = follow_depths(owner, follows, blocked=frozenset({facts.developer_pubkey}))
    lines = []
    for reporter in sorted(facts.reporters, key=lambda key: (depths.get(key, 9), key)):
        depth = depths.get(reporter)
        if depth is None:
            lines.append(ScoreLine(f"reported by {_short(reporter)}, not followed", 0))
        else:
            relation = "a key you follow" if depth == 1 else "a key followed by one you follow"
            lines.append(
                ScoreLine(f"reported by {relation}: {_short(reporter)}", REPORT_POINTS[depth])
            )
    return lines


def _age_line(first_seen: datetime | None, now: datetime) -> ScoreLine:
    if first_seen is None:
        return ScoreLine("identity first seen now", 0)
    days = max(0, (now - first_seen).days)
    points = min(AGE_CAP, (days // 30) * AGE_POINTS_PER_30_DAYS)
    return ScoreLine(f"identity first seen {days} day(s) ago", points)


def _policy_lines(policy: PolicyFacts) -> list[ScoreLine]:
    lines = [ScoreLine(f"asks for {name}", PERMISSION_POINTS) for name in policy.permissions]
    lines += [
        ScoreLine(f"publishes host port {port}", HOST_PORT_POINTS) for port in policy.host_ports
    ]
    if policy.hook_steps:
        lines.append(
            ScoreLine(
                f"runs {policy.hook_steps} hook step(s)", HOOK_STEP_POINTS * policy.hook_steps
            )
        )
    return lines


def trust_score(
    facts: TrustFacts,
    owner: str | None,
    follows: Mapping[str, Iterable[str]],
    now: datetime,
) -> TrustScore:
    """The score of one listing: ``owner`` is the owner's Nostr key (or None: no follows),
    ``follows`` each key's newest NIP-02 follow list."""
    lines: list[ScoreLine] = []
    lines.append(
        ScoreLine("official registry", OFFICIAL_POINTS)
        if facts.official
        else ScoreLine("third-party registry", 0)
    )
    if facts.owner_trusts_did:
        lines.append(ScoreLine(f"you trust {facts.did}", OWNER_TRUST_POINTS))
    lines += _endorsement_lines(facts, owner, follows)
    lines.append(_age_line(facts.first_seen, now))
    lines += _policy_lines(facts.policy)
    lines += _report_lines(facts, owner, follows)
    return TrustScore(sum(line.points for line in lines), tuple(lines))
