"""Our canonical JSON and metadata models agree byte for byte with python-tuf's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from securesystemslib.formats import encode_canonical as sslib_encode_canonical
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import DelegatedRole, Delegations
from tuf.api.metadata import Metadata as TufMetadata
from tuf.api.metadata import Root as TufRoot
from tuf.api.metadata import TargetFile as TufTargetFile
from tuf.api.metadata import Targets as TufTargets
from tuf.api.serialization.json import CanonicalJSONSerializer, JSONSerializer

from catalog.canonical import encode_canonical
from signing import repository
from signing.keys import SigningKey
from signing.metadata import Metadata, Root, Targets
from signing.threshold import verify_delegate

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(value=json_values)
@settings(max_examples=500)
def test_canonical_encoding_matches_securesystemslib(value: object) -> None:
    try:
        expected = sslib_encode_canonical(value).encode("utf-8")  # type: ignore[union-attr]
    except UnicodeEncodeError:
        return  # lone surrogates: neither side can produce UTF-8
    assert encode_canonical(value) == expected


def test_python_tuf_metadata_round_trips_through_our_models() -> None:
    signer = CryptoSigner.generate_ecdsa()
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    root = TufRoot(expires=expires)
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.add_key(signer.public_key, role)
    root.unrecognized_fields["x-custom"] = {"nested": [1, "two"]}
    targets = TufTargets(expires=expires)
    targets.targets["a/b"] = TufTargetFile.from_data("a/b", b"data", ["sha256", "sha512"])
    targets.targets["a/b"].unrecognized_fields["custom"] = {"app": "x"}
    targets.delegations = Delegations({}, roles={"d": DelegatedRole("d", [], 1, True, ["a/*"])})
    for signed, model in ((root, Root), (targets, Targets)):
        md = TufMetadata(signed)
        md.sign(signer)
        ours = Metadata.from_bytes(md.to_bytes(JSONSerializer()), model)
        assert ours.signed_bytes == CanonicalJSONSerializer().serialize(md.signed)
        assert encode_canonical(ours.signed.to_dict()) == ours.signed_bytes
    parsed_root = Metadata.from_bytes(TufMetadata(root).to_bytes(), Root)
    assert parsed_root.signed.extra == {"x-custom": {"nested": [1, "two"]}}


def test_our_metadata_is_read_and_verified_by_python_tuf() -> None:
    key = SigningKey.generate()
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    root = repository.new_root(
        expires, {r: [key.public_key] for r in ("root", "timestamp", "snapshot", "targets")}
    )
    signed = repository.sign(root, [key])
    theirs = TufMetadata.from_bytes(signed.to_bytes())
    theirs.signed.verify_delegate("root", theirs.signed_bytes, theirs.signatures)
    assert next(iter(theirs.signed.keys)) == key.keyid  # same keyid rule
    verify_delegate(root, "root", Metadata.from_bytes(theirs.to_bytes(), Root))
