"""A third-party developer's signatures: on app entries, and on the did:key <-> Nostr binding.

Two statements, each signed by the developer's Ed25519 did:key, each with its own
domain-separation prefix so a signature made for one can never be read as the other:

* the **manifest signature** covers ``MANIFEST_DOMAIN`` + the manifest's canonical
  JSON (:func:`catalog.catalog_model.manifest_canonical`, the bytes its BLAKE3 covers);
  it sits in the catalog entry's optional ``developer`` field;
* the **binding statement** — the canonical JSON (RFC 8785,
  :func:`catalog.canonical.encode_canonical_json`) of
  ``{"type": "archy-developer-binding/1", "did": DID, "nostr_pubkey": HEX}`` — says
  "the Nostr key HEX (x-only secp256k1, 64 lowercase hex) announces for me".  Anyone
  can check it from public data: the did:key is the public key;
* the **revocation statement** — the canonical JSON of ``{"type":
  "archy-developer-revocation/1", "did": DID, "reason": TEXT}`` — says "DID is revoked,
  for this reason"; signed by the did:key it revokes (like an OpenPGP revocation
  certificate), so only its holder can make one, and it can be made in advance.

Pure (bytes in, verdicts out); nothing here opens a file or a socket.

Public API: ``sign_manifest(signer, manifest) -> DeveloperSignature``,
``verify_developer_signature(app) -> str | None`` (a one-line problem or None),
``third_party_catalog_problems(catalog, did=None) -> list[str]`` (every entry signed),
``binding_statement(did, nostr_pubkey) -> bytes``, ``sign_binding(signer, nostr_pubkey)
-> str`` (hex), ``binding_problem(did, nostr_pubkey, signature_hex) -> str | None``,
``revocation_statement(did, reason) -> bytes``, ``sign_revocation(signer, reason) -> str``
(hex), ``revocation_problem(did, reason, signature_hex) -> str | None``.
"""

from __future__ import annotations

import re

from catalog.canonical import encode_canonical_json
from catalog.catalog_model import AppCatalog, CatalogApp, DeveloperSignature, manifest_canonical
from catalog.manifest import Manifest
from signing.did_key import DidKeyError, DidKeySigner, parse_did_key, verify_did_signature

MANIFEST_DOMAIN = b"archy-developer-manifest/1\n"
BINDING_TYPE = "archy-developer-binding/1"
REVOCATION_TYPE = "archy-developer-revocation/1"
_NOSTR_PUBKEY = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE_HEX = re.compile(r"^[0-9a-f]{128}$")


def manifest_message(manifest: Manifest) -> bytes:
    """The bytes a developer signs for ``manifest``."""
    return MANIFEST_DOMAIN + manifest_canonical(manifest)


def sign_manifest(signer: DidKeySigner, manifest: Manifest) -> DeveloperSignature:
    return DeveloperSignature(
        did=signer.did, signature=signer.sign(manifest_message(manifest)).hex()
    )


def verify_developer_signature(app: CatalogApp) -> str | None:
    """Why ``app``'s developer signature does not hold, or None when it does.

    An entry without a ``developer`` field is a problem here: call this only for apps
    that must be a developer's (every app of a third-party registry)."""
    where = f"apps.{app.manifest.id}.developer"
    if app.developer is None:
        return f"{where}: the entry carries no developer signature"
    try:
        parse_did_key(app.developer.did)
    except DidKeyError as error:
        return f"{where}.did: {error}"
    signature = bytes.fromhex(app.developer.signature)
    if not verify_did_signature(app.developer.did, signature, manifest_message(app.manifest)):
        return f"{where}.signature: not a signature of this manifest by {app.developer.did}"
    return None


def sign_catalog_apps(catalog: AppCatalog, signer: DidKeySigner) -> AppCatalog:
    """``catalog`` with every app entry carrying ``signer``'s signature over its manifest."""
    apps = {
        app_id: app.model_copy(update={"developer": sign_manifest(signer, app.manifest)})
        for app_id, app in catalog.apps.items()
    }
    return catalog.model_copy(update={"apps": apps})


def third_party_catalog_problems(catalog: AppCatalog, did: str | None = None) -> list[str]:
    """Every reason ``catalog`` is not a valid third-party catalog: each entry must carry a
    valid developer signature, all by one did:key (by ``did`` when given): the registry's
    network is named after it (``catalog.app_network``).  What ``archy build`` checks for a
    developer's registry and what a node checks for every catalog of a third-party one."""
    problems = []
    first: tuple[str, str] | None = None
    for app_id in sorted(catalog.apps):
        app = catalog.apps[app_id]
        problem = verify_developer_signature(app)
        signed_by = None if app.developer is None else app.developer.did
        if problem is None and did is not None and signed_by != did:
            problem = f"apps.{app_id}.developer.did: {signed_by}, expected {did}"
        if problem is None and signed_by is not None:
            if first is None:
                first = (app_id, signed_by)
            elif signed_by != first[1]:
                problem = (
                    f"apps.{app_id}.developer.did: {signed_by}, but apps.{first[0]} is signed "
                    f"by {first[1]}; every entry of a registry is signed by one did:key"
                )
        if problem is not None:
            problems.append(problem)
    return problems


def binding_statement(did: str, nostr_pubkey: str) -> bytes:
    """The canonical bytes of "``nostr_pubkey`` announces for ``did``"."""
    document = {"type": BINDING_TYPE, "did": did, "nostr_pubkey": nostr_pubkey}
    return encode_canonical_json(document)


def sign_binding(signer: DidKeySigner, nostr_pubkey: str) -> str:
    if not _NOSTR_PUBKEY.fullmatch(nostr_pubkey):
        raise ValueError("a Nostr public key is 64 lowercase hex digits (x-only secp256k1)")
    return signer.sign(binding_statement(signer.did, nostr_pubkey)).hex()


def binding_problem(did: str, nostr_pubkey: str, signature_hex: str) -> str | None:
    """Why the binding of ``did`` to ``nostr_pubkey`` does not hold, or None when it does."""
    try:
        parse_did_key(did)
    except DidKeyError as error:
        return f"did: {error}"
    if not _NOSTR_PUBKEY.fullmatch(nostr_pubkey):
        return "the Nostr public key is not 64 lowercase hex digits"
    if not _SIGNATURE_HEX.fullmatch(signature_hex):
        return "the binding signature is not 128 lowercase hex digits"
    message = binding_statement(did, nostr_pubkey)
    if not verify_did_signature(did, bytes.fromhex(signature_hex), message):
        return f"the binding is not signed by {did} for Nostr key {nostr_pubkey[:16]}…"
    return None


def revocation_statement(did: str, reason: str) -> bytes:
    """The canonical bytes of "``did`` is revoked, because ``reason``"."""
    return encode_canonical_json({"type": REVOCATION_TYPE, "did": did, "reason": reason})


def sign_revocation(signer: DidKeySigner, reason: str) -> str:
    """The signer's revocation of its own did:key, as 128 hex digits."""
    return signer.sign(revocation_statement(signer.did, reason)).hex()


def revocation_problem(did: str, reason: str, signature_hex: str) -> str | None:
    """Why the revocation of ``did`` does not hold, or None when ``did`` signed it."""
    try:
        parse_did_key(did)
    except DidKeyError as error:
        return f"did: {error}"
    if not _SIGNATURE_HEX.fullmatch(signature_hex):
        return "the revocation signature is not 128 lowercase hex digits"
    message = revocation_statement(did, reason)
    if not verify_did_signature(did, bytes.fromhex(signature_hex), message):
        return f"the revocation is not signed by {did}"
    return None
