"""The developer's did:key signature on a catalog entry, and the optional `developer` field."""

from __future__ import annotations

import json

import pytest

from catalog.catalog_model import CatalogError, parse_catalog
from pipeline.market.identity import DeveloperIdentity
from signing.developer import (
    MANIFEST_DOMAIN,
    binding_statement,
    third_party_catalog_problems,
    verify_developer_signature,
)
from signing.did_key import DidKeySigner, verify_did_signature
from tests.support.market import Registry


def test_every_entry_of_the_developer_registry_verifies(registry: Registry) -> None:
    catalog = parse_catalog(registry.published.catalog_bytes)
    assert catalog.to_canonical() == registry.published.catalog_bytes
    for app in catalog.apps.values():
        assert app.developer is not None
        assert app.developer.did == registry.identity.public.did
        assert verify_developer_signature(app) is None


def test_a_changed_manifest_or_another_did_does_not_verify(
    registry: Registry, other_developer: DeveloperIdentity
) -> None:
    app = parse_catalog(registry.published.catalog_bytes).apps["demo-notes"]
    assert app.developer is not None
    changed = app.model_copy(
        update={"manifest": app.manifest.model_copy(update={"summary": "something else"})}
    )
    assert verify_developer_signature(changed) == (
        f"apps.demo-notes.developer.signature: not a signature of this manifest by "
        f"{app.developer.did}"
    )
    swapped = app.model_copy(
        update={"developer": app.developer.model_copy(update={"did": other_developer.public.did})}
    )
    assert "not a signature of this manifest" in (verify_developer_signature(swapped) or "")
    official = app.model_copy(update={"developer": None})
    assert verify_developer_signature(official) == (
        "apps.demo-notes.developer: the entry carries no developer signature"
    )


def test_official_entries_have_no_developer_key_and_keep_their_bytes(registry: Registry) -> None:
    document = json.loads(registry.published.catalog_bytes)
    for app in document["apps"].values():
        del app["developer"]
    official = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    catalog = parse_catalog(official)
    assert all(app.developer is None for app in catalog.apps.values())
    assert b'"developer"' not in catalog.to_canonical()


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"did": "did:web:example.org", "signature": "00" * 64}, "developer.did"),
        ({"did": "did:key:z6Mk" + "1" * 44, "signature": "zz" * 64}, "developer.signature"),
        ({"did": "did:key:z6Mk" + "1" * 44}, "developer.signature"),
        ({"did": "did:key:z6Mk" + "1" * 44, "signature": "00" * 64, "x": 1}, "developer.x"),
    ],
)
def test_a_malformed_developer_field_is_refused_naming_it(
    registry: Registry, value: dict[str, object], field: str
) -> None:
    document = json.loads(registry.published.catalog_bytes)
    document["apps"]["demo-notes"]["developer"] = value
    with pytest.raises(CatalogError) as refused:
        parse_catalog(json.dumps(document).encode())
    assert str(refused.value).startswith(f"apps.demo-notes.{field}: ")


def test_a_binding_signature_is_never_a_manifest_signature_and_back() -> None:
    signer = DidKeySigner.from_seed(b"\7" * 32)
    statement = binding_statement(signer.did, "ab" * 32)
    assert statement.startswith(b'{"did":') and not statement.startswith(MANIFEST_DOMAIN)
    binding_signature = signer.sign(statement)
    assert not verify_did_signature(signer.did, binding_signature, MANIFEST_DOMAIN + statement)
    manifest_signature = signer.sign(MANIFEST_DOMAIN + statement)
    assert not verify_did_signature(signer.did, manifest_signature, statement)


def test_a_third_party_catalog_needs_every_entry_signed_by_its_developer(
    registry: Registry, other_developer: DeveloperIdentity
) -> None:
    catalog = parse_catalog(registry.published.catalog_bytes)
    assert third_party_catalog_problems(catalog) == []
    assert third_party_catalog_problems(catalog, registry.identity.public.did) == []
    assert third_party_catalog_problems(catalog, other_developer.public.did) == [
        f"apps.demo-notes.developer.did: {registry.identity.public.did}, expected "
        f"{other_developer.public.did}"
    ]
    unsigned = catalog.model_copy(
        update={
            "apps": {k: a.model_copy(update={"developer": None}) for k, a in catalog.apps.items()}
        }
    )
    assert third_party_catalog_problems(unsigned) == [
        "apps.demo-notes.developer: the entry carries no developer signature"
    ]
