"""The trust score of an app of an added registry, from what the node knows by itself.

``archy-node info NAME/app`` and the install threshold use it.  The facts are those of
:mod:`node_runtime.market.score` that need no relay: third-party registry (0), the
owner's explicit trust of the developer (``registry set NAME --trust-developer``), the
identity's age on this node (first seen by ``discover``, ``registry add`` or ``info``),
and the app's policy facts (permissions, host ports, hooks).  Endorsements and reports
live on relays: ``archy-node discover`` adds their lines, and so does ``info NAME/app
--relay URL`` (:func:`node_runtime.market.discover.relay_claims`); the install threshold
never asks a relay.  The score never lets an app
pass a check it fails: the install runs every rule whatever the score.
"""

from __future__ import annotations

from datetime import datetime

from catalog.catalog_model import CatalogApp
from node_runtime.market.discover import RelayClaims
from node_runtime.market.first_seen import record_first_seen
from node_runtime.market.score import TrustFacts, TrustScore, policy_facts, trust_score
from node_runtime.store.paths import NodePaths
from node_runtime.store.registry_state import RegistryRecord


def registry_app_score(
    paths: NodePaths,
    record: RegistryRecord,
    app: CatalogApp,
    now: datetime,
    claims: RelayClaims | None = None,
    owner: str | None = None,
) -> TrustScore:
    """The score from what the node knows; with ``claims`` (``info --relay``), also the
    endorsements and reports of the app's did:key and id, weighed by ``owner``'s follows
    (the developer's bound Nostr key never counts, as in ``discover``)."""
    did = "" if app.developer is None else app.developer.did
    first_seen = record_first_seen(paths.root, [did], now).get(did) if did else None
    key = (did, app.manifest.id)
    facts = TrustFacts(
        developer_pubkey="" if claims is None else claims.developer_keys.get(did, ""),
        did=did,
        official=False,
        owner_trusts_did=bool(did) and did in record.trusted_dids,
        endorsers=frozenset(() if claims is None else claims.endorsements.get(key, ())),
        reporters=frozenset(() if claims is None else claims.reports.get(key, ())),
        first_seen=first_seen,
        policy=policy_facts(app.manifest),
    )
    follows = {} if claims is None else claims.follows
    return trust_score(facts, owner if claims is not None else None, follows, now)


def below_threshold(record: RegistryRecord, score: TrustScore) -> bool:
    return record.min_score is not None and score.total < record.min_score
