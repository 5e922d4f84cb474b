"""Threshold signature checks: does a role's quorum vouch for some metadata?

Each key counts once: a keyid listed twice, two keyids for the same key
material, or several signatures by one key never add up to a threshold.
Invalid signatures beside valid ones are ignored, not fatal.

Public API:

- ``count_signing_keys(keys, keyids, signed_bytes, signatures) -> int``
- ``verify_threshold(role_name, keys, keyids, threshold, metadata)`` — raises
  :class:`UnsignedMetadataError`;
- ``verify_delegate(delegator, role_name, metadata)`` — the same with the keys
  and threshold that ``delegator`` (a ``Root`` or a ``Targets``) gives the role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from signing.errors import UnsignedMetadataError
from signing.keys import PublicKey, Signature, verify_signature
from signing.metadata import Metadata, Root, S, Targets


def count_signing_keys(
    keys: Mapping[str, PublicKey],
    keyids: Iterable[str],
    signed_bytes: bytes,
    signatures: Iterable[Signature],
) -> int:
    """How many distinct keys of ``keyids`` produced a valid signature."""
    signatures_by_keyid: dict[str, list[Signature]] = {}
    for signature in signatures:
        signatures_by_keyid.setdefault(signature.keyid, []).append(signature)
    signers: set[tuple[str, str, str]] = set()
    for keyid in dict.fromkeys(keyids):
        key = keys.get(keyid)
        if key is None or key.identity() in signers:
            continue
        if any(
            verify_signature(key, signature, signed_bytes)
            for signature in signatures_by_keyid.get(keyid, ())
        ):
            signers.add(key.identity())
    return len(signers)


def verify_threshold(
    role_name: str,
    keys: Mapping[str, PublicKey],
    keyids: Iterable[str],
    threshold: int,
    metadata: Metadata[S],
) -> None:
    found = count_signing_keys(keys, keyids, metadata.signed_bytes, metadata.signatures)
    if found < threshold:
        raise UnsignedMetadataError(
            f"{role_name}: signed by {found} of the {threshold} keys the threshold requires"
        )


def verify_delegate(delegator: Root | Targets, role_name: str, metadata: Metadata[S]) -> None:
    """Raise unless ``metadata`` meets the threshold ``delegator`` sets for ``role_name``."""
    if isinstance(delegator, Root):
        role = delegator.roles.get(role_name)
        if role is None:
            raise UnsignedMetadataError(f"root does not define the role {role_name!r}")
        verify_threshold(role_name, delegator.keys, role.keyids, role.threshold, metadata)
        return
    delegations = delegator.delegations
    found = None if delegations is None else delegations.keys_and_threshold(role_name)
    if delegations is None or found is None:
        raise UnsignedMetadataError(f"{role_name!r} is not delegated by this role")
    keyids, threshold = found
    verify_threshold(role_name, delegations.keys, keyids, threshold, metadata)
