"""Revocation of a did:key: only the key itself can revoke it, a node keeps what it verified,
and the apps signed by a revoked key are named with the reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from catalog.announcement import Revocation
from catalog.catalog_model import parse_catalog
from node_runtime.market.relays import NostrEvent
from node_runtime.market.revocation import (
    read_revocations,
    remember_revocations,
    remembered_revocations,
    revoked_apps,
    revoked_keys,
)
from pipeline.market.identity import DeveloperIdentity
from pipeline.market.revoke import make_revocation
from signing.developer import binding_problem, revocation_problem, sign_revocation
from tests.support.market import Registry


def event(
    content: str, d: str | None = None, kind: int = 30078, created_at: int = 1_800_000_000,
    event_id: str = "e1" * 32, t: str = "archy-revocation",
) -> NostrEvent:  # fmt: skip
    """A revocation as relays.py hands it on (its Nostr signature already checked there)."""
    tags = [("t", t)]
    if d is not None:
        tags.append(("d", d))
    return NostrEvent(event_id, "ab" * 32, created_at, kind, tuple(tags), content)


def revocation_event(revocation: Revocation, **changes: object) -> NostrEvent:
    return event(revocation.content(), d=revocation.d_tag(), **changes)  # type: ignore[arg-type]


def test_a_revocation_signed_by_the_did_key_revokes_it(developer: DeveloperIdentity) -> None:
    revocation = make_revocation(developer, "key leaked")
    revoked = revoked_keys([revocation_event(revocation)])
    assert list(revoked) == [developer.public.did]
    assert revoked[developer.public.did].why() == (
        f"{developer.public.did} was revoked by its developer: key leaked"
    )


def test_a_revocation_made_by_another_key_is_rejected_with_the_reason(
    developer: DeveloperIdentity, other_developer: DeveloperIdentity
) -> None:
    forged = Revocation(
        did=developer.public.did,
        reason="gone",
        signature=sign_revocation(other_developer.signer, "gone"),
    )
    outcome = read_revocations([revocation_event(forged)])
    assert outcome.revoked == {}
    assert outcome.rejected == [
        (
            "e1" * 32,
            f"revocation e1e1e1e1e1e1: the revocation is not signed by {developer.public.did}",
        )
    ]


def test_a_changed_reason_a_wrong_d_tag_and_bad_content_are_rejected(
    developer: DeveloperIdentity,
) -> None:
    genuine = make_revocation(developer, "key leaked")
    changed = genuine.model_copy(update={"reason": "moved to a new key"})
    events = [
        revocation_event(changed, event_id="01" * 32),
        event(genuine.content(), d="archy-revocation:did:key:z6Mkother", event_id="02" * 32),
        event("{not json", d=genuine.d_tag(), event_id="03" * 32),
        event("x" * 9000, d=genuine.d_tag(), event_id="04" * 32),
    ]
    outcome = read_revocations(events)
    assert outcome.revoked == {}
    assert [why.split(": ", 1)[1] for _id, why in outcome.rejected] == [
        f"the revocation is not signed by {developer.public.did}",
        f"d tag 'archy-revocation:did:key:z6Mkother' does not name '{genuine.d_tag()}'",
        "content is not JSON (Expecting property name enclosed in double quotes)",
        "content is longer than 8192 characters",
    ]


def test_other_events_are_not_revocations(developer: DeveloperIdentity) -> None:
    genuine = make_revocation(developer, "key leaked")
    assert read_revocations([
        revocation_event(genuine, kind=1),
        revocation_event(genuine, t="archy-app"),
    ]) == read_revocations([])  # fmt: skip


def test_the_first_revocation_gives_the_reason_and_no_event_undoes_it(
    developer: DeveloperIdentity,
) -> None:
    first = make_revocation(developer, "key leaked")
    later = make_revocation(developer, "just rotating")
    revoked = revoked_keys([
        revocation_event(later, created_at=1_900_000_000, event_id="02" * 32),
        revocation_event(first, created_at=1_800_000_000, event_id="01" * 32),
    ])  # fmt: skip
    assert revoked[developer.public.did].reason == "key leaked"


def test_a_revocation_signature_is_never_a_binding_signature_and_back(
    developer: DeveloperIdentity,
) -> None:
    # The binding signs {"did", "nostr_pubkey", "type": binding}; a revocation whose
    # reason is the Nostr key cannot reuse it, and a revocation is not a binding.
    binding = developer.public.binding
    assert revocation_problem(developer.public.did, developer.public.nostr_pubkey, binding) == (
        f"the revocation is not signed by {developer.public.did}"
    )
    revocation = sign_revocation(developer.signer, developer.public.nostr_pubkey)
    assert binding_problem(developer.public.did, developer.public.nostr_pubkey, revocation) == (
        f"the binding is not signed by {developer.public.did} for Nostr key "
        f"{developer.public.nostr_pubkey[:16]}…"
    )


def test_the_apps_signed_by_a_revoked_key_are_named_with_the_reason(
    registry: Registry, other_developer: DeveloperIdentity
) -> None:
    catalog = parse_catalog(registry.published.catalog_bytes)
    mine = revoked_keys([revocation_event(make_revocation(registry.identity, "key leaked"))])
    assert revoked_apps(catalog, mine) == {
        "demo-notes": (
            f"apps.demo-notes: signed by {registry.identity.public.did} was revoked by its "
            "developer: key leaked"
        )
    }
    theirs = revoked_keys([revocation_event(make_revocation(other_developer, "old"))])
    assert revoked_apps(catalog, theirs) == {}


def test_the_node_keeps_every_revocation_it_verified(
    tmp_path: Path, developer: DeveloperIdentity, other_developer: DeveloperIdentity
) -> None:
    mine = revoked_keys([revocation_event(make_revocation(developer, "key leaked"))])
    assert remember_revocations(tmp_path, mine) == mine
    path = tmp_path / "market" / "revocations.json"
    assert os.stat(path).st_mode & 0o777 == 0o600
    # a relay that later serves nothing does not undo it; a second one adds to it
    assert remember_revocations(tmp_path, {}) == mine
    theirs = revoked_keys([revocation_event(make_revocation(other_developer, "retired"))])
    assert set(remember_revocations(tmp_path, theirs)) == {
        developer.public.did,
        other_developer.public.did,
    }
    assert remembered_revocations(tmp_path)[developer.public.did].reason == "key leaked"


def test_a_tampered_state_file_keeps_only_what_still_verifies(
    tmp_path: Path, developer: DeveloperIdentity, other_developer: DeveloperIdentity
) -> None:
    both = {
        **revoked_keys([revocation_event(make_revocation(developer, "key leaked"))]),
        **revoked_keys([revocation_event(make_revocation(other_developer, "retired"))]),
    }
    remember_revocations(tmp_path, both)
    path = tmp_path / "market" / "revocations.json"
    document = json.loads(path.read_text())
    document[other_developer.public.did]["reason"] = "edited"
    document["did:key:z6Mknotakey"] = {"reason": "x", "signature": "00", "event": "e"}
    path.write_text(json.dumps(document))
    assert list(remembered_revocations(tmp_path)) == [developer.public.did]


@pytest.mark.parametrize("text", ["", "[]", '{"did": 3}', "not json"])
def test_an_unreadable_state_file_is_empty_not_a_crash(tmp_path: Path, text: str) -> None:
    (tmp_path / "market").mkdir()
    (tmp_path / "market" / "revocations.json").write_text(text)
    assert remembered_revocations(tmp_path) == {}
    assert remembered_revocations(None) == {}
