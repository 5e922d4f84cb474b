"""signing/developer.py's three statements, byte for byte, and every problem it reports as
`archy` and the node print it (the field's path, then why): socket-free, with entries made
the way `archy build` makes them."""

from __future__ import annotations

import json

import pytest

from catalog.catalog_model import AppCatalog, CatalogApp, DeveloperSignature, manifest_canonical
from signing.developer import (
    BINDING_TYPE,
    MANIFEST_DOMAIN,
    REVOCATION_TYPE,
    binding_problem,
    binding_statement,
    manifest_message,
    revocation_problem,
    revocation_statement,
    sign_binding,
    sign_catalog_apps,
    sign_manifest,
    sign_revocation,
    third_party_catalog_problems,
    verify_developer_signature,
)
from signing.did_key import DidKeySigner, base58btc_encode, verify_did_signature
from tests.support.catalogs import catalog_app, catalog_of, simple_manifest

DEVELOPER = DidKeySigner.from_seed(b"\1" * 32)
OTHER = DidKeySigner.from_seed(b"\2" * 32)
NOSTR = "ab" * 32
# a did of the form the catalog model accepts whose key is 31 bytes: parse_did_key refuses it
SHORT_DID = "did:key:z" + base58btc_encode(b"\xed\x01" + b"\3" * 31)
BAD_NOSTR = "the Nostr public key is not 64 lowercase hex digits"
BAD_SIGNATURE = "the binding signature is not 128 lowercase hex digits"
ZEROS = "00" * 64


def _catalog(*app_ids: str) -> AppCatalog:
    return catalog_of([simple_manifest(app_id) for app_id in app_ids])


def _with_developer(app: CatalogApp, developer: DeveloperSignature | None) -> CatalogApp:
    return app.model_copy(update={"developer": developer})


def test_the_manifest_message_is_the_domain_then_the_manifests_canonical_json() -> None:
    manifest = simple_manifest("notes")
    assert MANIFEST_DOMAIN == b"archy-developer-manifest/1\n"
    assert manifest_message(manifest) == MANIFEST_DOMAIN + manifest_canonical(manifest)
    signature = sign_manifest(DEVELOPER, manifest)
    assert signature.did == DEVELOPER.did
    assert len(signature.signature) == 128
    assert verify_did_signature(
        DEVELOPER.did, bytes.fromhex(signature.signature), manifest_message(manifest)
    )
    assert not verify_did_signature(
        DEVELOPER.did, bytes.fromhex(signature.signature), manifest_canonical(manifest)
    )


def test_a_signed_catalog_verifies_entry_by_entry() -> None:
    catalog = sign_catalog_apps(_catalog("notes", "wiki"), DEVELOPER)
    assert sorted(catalog.apps) == ["notes", "wiki"]
    for app in catalog.apps.values():
        assert app.developer == sign_manifest(DEVELOPER, app.manifest)
        assert verify_developer_signature(app) is None
    assert third_party_catalog_problems(catalog) == []
    assert third_party_catalog_problems(catalog, DEVELOPER.did) == []


def test_each_problem_of_one_entry_names_its_field() -> None:
    app = catalog_app(simple_manifest("notes"))
    assert verify_developer_signature(app) == (
        "apps.notes.developer: the entry carries no developer signature"
    )
    signed = sign_manifest(DEVELOPER, app.manifest)
    bad_did = _with_developer(app, signed.model_copy(update={"did": SHORT_DID}))
    assert verify_developer_signature(bad_did) == (
        "apps.notes.developer.did: the Ed25519 key is 31 bytes, not 32"
    )
    other_key = _with_developer(app, signed.model_copy(update={"did": OTHER.did}))
    assert verify_developer_signature(other_key) == (
        f"apps.notes.developer.signature: not a signature of this manifest by {OTHER.did}"
    )


def test_a_third_party_catalog_lists_every_entry_that_fails_in_app_order() -> None:
    catalog = sign_catalog_apps(_catalog("a-app", "b-app", "c-app", "d-app"), DEVELOPER)
    apps = dict(catalog.apps)
    apps["b-app"] = _with_developer(apps["b-app"], sign_manifest(OTHER, apps["b-app"].manifest))
    apps["c-app"] = _with_developer(apps["c-app"], None)
    mixed = catalog.model_copy(update={"apps": apps})
    assert third_party_catalog_problems(mixed) == [
        f"apps.b-app.developer.did: {OTHER.did}, but apps.a-app is signed by {DEVELOPER.did}; "
        "every entry of a registry is signed by one did:key",
        "apps.c-app.developer: the entry carries no developer signature",
    ]
    assert third_party_catalog_problems(mixed, DEVELOPER.did) == [
        f"apps.b-app.developer.did: {OTHER.did}, expected {DEVELOPER.did}",
        "apps.c-app.developer: the entry carries no developer signature",
    ]
    assert third_party_catalog_problems(mixed, OTHER.did) == [
        f"apps.a-app.developer.did: {DEVELOPER.did}, expected {OTHER.did}",
        "apps.c-app.developer: the entry carries no developer signature",
        f"apps.d-app.developer.did: {DEVELOPER.did}, expected {OTHER.did}",
    ]


def test_the_first_good_entry_sets_the_registrys_did_even_after_a_bad_one() -> None:
    catalog = sign_catalog_apps(_catalog("a-app", "b-app", "c-app"), OTHER)
    apps = dict(catalog.apps)
    apps["a-app"] = _with_developer(apps["a-app"], None)
    apps["c-app"] = _with_developer(apps["c-app"], sign_manifest(DEVELOPER, apps["c-app"].manifest))
    assert third_party_catalog_problems(catalog.model_copy(update={"apps": apps})) == [
        "apps.a-app.developer: the entry carries no developer signature",
        f"apps.c-app.developer.did: {DEVELOPER.did}, but apps.b-app is signed by {OTHER.did}; "
        "every entry of a registry is signed by one did:key",
    ]


def test_the_binding_and_revocation_statements_are_canonical_json() -> None:
    assert binding_statement(DEVELOPER.did, NOSTR) == (
        json.dumps(
            {"did": DEVELOPER.did, "nostr_pubkey": NOSTR, "type": BINDING_TYPE},
            separators=(",", ":"),
        ).encode()
    )
    assert BINDING_TYPE == "archy-developer-binding/1"
    assert revocation_statement(DEVELOPER.did, "lost the key") == (
        json.dumps(
            {"did": DEVELOPER.did, "reason": "lost the key", "type": REVOCATION_TYPE},
            separators=(",", ":"),
        ).encode()
    )
    assert REVOCATION_TYPE == "archy-developer-revocation/1"


def test_a_binding_holds_only_for_its_did_and_nostr_key() -> None:
    signature = sign_binding(DEVELOPER, NOSTR)
    assert verify_did_signature(
        DEVELOPER.did, bytes.fromhex(signature), binding_statement(DEVELOPER.did, NOSTR)
    )
    assert binding_problem(DEVELOPER.did, NOSTR, signature) is None
    assert binding_problem(DEVELOPER.did, "cd" * 32, signature) == (
        f"the binding is not signed by {DEVELOPER.did} for Nostr key {'cd' * 8}…"
    )
    assert binding_problem(OTHER.did, NOSTR, signature) == (
        f"the binding is not signed by {OTHER.did} for Nostr key {'ab' * 8}…"
    )
    revocation = sign_revocation(DEVELOPER, "x")
    assert binding_problem(DEVELOPER.did, NOSTR, revocation) is not None


@pytest.mark.parametrize(
    ("did", "nostr", "signature", "problem"),
    [
        ("did:web:x", NOSTR, ZEROS, "did: 'did:web:x' does not start with 'did:key:'"),
        (SHORT_DID, NOSTR, ZEROS, "did: the Ed25519 key is 31 bytes, not 32"),
        (DEVELOPER.did, NOSTR.upper(), ZEROS, BAD_NOSTR),
        (DEVELOPER.did, NOSTR[:-1], ZEROS, BAD_NOSTR),
        (DEVELOPER.did, NOSTR + "\n", ZEROS, BAD_NOSTR),
        (DEVELOPER.did, NOSTR, "00" * 63, BAD_SIGNATURE),
        (DEVELOPER.did, NOSTR, "AB" * 64, BAD_SIGNATURE),
        (DEVELOPER.did, NOSTR, ZEROS + "\n", BAD_SIGNATURE),
    ],
)
def test_a_malformed_binding_is_refused_with_its_reason(
    did: str, nostr: str, signature: str, problem: str
) -> None:
    assert binding_problem(did, nostr, signature) == problem


@pytest.mark.parametrize("nostr", [NOSTR.upper(), NOSTR[:-1], NOSTR + "0", "", NOSTR + "\n"])
def test_signing_a_binding_to_a_malformed_nostr_key_is_refused(nostr: str) -> None:
    with pytest.raises(ValueError) as refused:
        sign_binding(DEVELOPER, nostr)
    assert str(refused.value) == (
        "a Nostr public key is 64 lowercase hex digits (x-only secp256k1)"
    )


def test_a_revocation_holds_only_for_its_did_and_reason() -> None:
    signature = sign_revocation(DEVELOPER, "lost the key")
    assert len(signature) == 128
    assert verify_did_signature(
        DEVELOPER.did, bytes.fromhex(signature), revocation_statement(DEVELOPER.did, "lost the key")
    )
    assert revocation_problem(DEVELOPER.did, "lost the key", signature) is None
    assert revocation_problem(DEVELOPER.did, "another reason", signature) == (
        f"the revocation is not signed by {DEVELOPER.did}"
    )
    assert revocation_problem(OTHER.did, "lost the key", signature) == (
        f"the revocation is not signed by {OTHER.did}"
    )
    assert revocation_problem("did:key:x", "r", signature) == (
        "did: the identifier is not multibase base58btc (it must start with 'z')"
    )
    for malformed in ("00" * 63, "AB" * 64, "00" * 64 + "\n", ""):
        assert revocation_problem(DEVELOPER.did, "lost the key", malformed) == (
            "the revocation signature is not 128 lowercase hex digits"
        )
