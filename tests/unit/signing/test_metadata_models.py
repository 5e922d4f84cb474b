"""signing/metadata.py's models written and read back: the bytes python-tuf writes for the
same metadata (the interop oracle), every optional field present and absent, the envelope's
own refusals, and the strict JSON and date readers of signing/metadata_fields.py."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api import metadata as oracle
from tuf.api.serialization.json import CanonicalJSONSerializer, JSONSerializer

from catalog.canonical import encode_canonical
from signing.errors import MetadataFormatError
from signing.keys import PublicKey, Signature
from signing.metadata import (
    SPECIFICATION_VERSION,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
    is_expired,
)
from signing.metadata_fields import format_expires, parse_expires, parse_json

EXPIRES = datetime(2030, 1, 31, 12, 30, 5, tzinfo=UTC)
SIGNER = CryptoSigner.generate_ed25519()


def _signed(signed: oracle.Signed) -> bytes:
    metadata = oracle.Metadata(signed)
    metadata.sign(SIGNER)
    return metadata.to_bytes(JSONSerializer())


def _same_as_python_tuf(data: bytes, model: type[Root | Timestamp | Snapshot | Targets]) -> None:
    """Our reading of ``data`` writes back the bytes python-tuf writes for it."""
    ours = Metadata.from_bytes(data, model)  # type: ignore[type-var]
    theirs = oracle.Metadata.from_bytes(data)
    canonical = CanonicalJSONSerializer().serialize(theirs.signed)
    assert ours.signed_bytes == canonical
    assert encode_canonical(ours.signed.to_dict()) == canonical
    assert json.loads(ours.to_bytes()) == json.loads(theirs.to_bytes(JSONSerializer()))


def test_root_with_and_without_consistent_snapshot_and_with_unknown_fields() -> None:
    root = oracle.Root(expires=EXPIRES, consistent_snapshot=False)
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.add_key(SIGNER.public_key, role)
    root.roles["targets"].unrecognized_fields["x-role"] = [1]
    root.unrecognized_fields["x-custom"] = {"a": 1}
    data = _signed(root)
    _same_as_python_tuf(data, Root)
    parsed = Metadata.from_bytes(data, Root).signed
    assert parsed.consistent_snapshot is False
    assert parsed.roles["targets"].extra == {"x-role": [1]}
    assert parsed.roles["root"].keyids == (SIGNER.public_key.keyid,)
    assert parsed.roles["root"].threshold == 1
    assert parsed.extra == {"x-custom": {"a": 1}}
    assert parsed.spec_version == root.spec_version
    document = json.loads(data)
    del document["signed"]["consistent_snapshot"]
    without = Metadata.from_bytes(json.dumps(document).encode(), Root).signed
    assert without.consistent_snapshot is None
    assert "consistent_snapshot" not in without.to_dict()
    assert without.to_dict()["roles"]["targets"] == {
        "keyids": [SIGNER.public_key.keyid],
        "threshold": 1,
        "x-role": [1],
    }


def test_timestamp_and_snapshot_meta_with_and_without_length_and_hashes() -> None:
    timestamp = oracle.Timestamp(expires=EXPIRES, version=7)
    timestamp.snapshot_meta = oracle.MetaFile(3, 120, {"sha256": "AB" * 32})
    timestamp.snapshot_meta.unrecognized_fields["x-meta"] = "kept"
    _same_as_python_tuf(_signed(timestamp), Timestamp)
    parsed = Metadata.from_bytes(_signed(timestamp), Timestamp).signed
    assert parsed.version == 7
    assert parsed.snapshot_meta == MetaFile(3, 120, {"sha256": "AB" * 32}, {"x-meta": "kept"})

    snapshot = oracle.Snapshot(expires=EXPIRES, version=2)
    snapshot.meta["targets.json"] = oracle.MetaFile(4)
    snapshot.meta["apps.json"] = oracle.MetaFile(5, length=0)
    snapshot.meta["more.json"] = oracle.MetaFile(6, hashes={"sha512": "00"})
    _same_as_python_tuf(_signed(snapshot), Snapshot)
    meta = Metadata.from_bytes(_signed(snapshot), Snapshot).signed.meta
    assert meta["targets.json"] == MetaFile(4)
    assert meta["targets.json"].to_dict() == {"version": 4}
    assert meta["apps.json"].to_dict() == {"version": 5, "length": 0}
    assert meta["more.json"].to_dict() == {"version": 6, "hashes": {"sha512": "00"}}


def test_targets_with_custom_fields_and_delegations() -> None:
    targets = oracle.Targets(expires=EXPIRES, version=3)
    target = oracle.TargetFile.from_data("apps/x.json", b"data", ["sha256", "sha512"])
    target.unrecognized_fields["custom"] = {"app": "x"}
    targets.targets["apps/x.json"] = target
    targets.targets["empty"] = oracle.TargetFile(0, {"sha256": "00"}, "empty")
    targets.delegations = oracle.Delegations(
        {}, roles={"d": oracle.DelegatedRole("d", [], 1, True, ["apps/*"])}
    )
    targets.unrecognized_fields["x-targets"] = None
    _same_as_python_tuf(_signed(targets), Targets)
    parsed = Metadata.from_bytes(_signed(targets), Targets).signed
    assert parsed.targets["apps/x.json"].custom == {"app": "x"}
    assert parsed.targets["apps/x.json"].path == "apps/x.json"
    assert parsed.targets["apps/x.json"].length == 4
    assert parsed.targets["empty"].custom is None
    assert parsed.targets["empty"].to_dict() == {"length": 0, "hashes": {"sha256": "00"}}
    assert parsed.delegations is not None and parsed.extra == {"x-targets": None}
    plain = oracle.Targets(expires=EXPIRES)
    assert Metadata.from_bytes(_signed(plain), Targets).signed.delegations is None
    assert "delegations" not in Metadata.from_bytes(_signed(plain), Targets).signed.to_dict()


def test_models_made_here_are_read_by_python_tuf() -> None:
    key = PublicKey.from_dict(SIGNER.public_key.to_dict())
    keyid = SIGNER.public_key.keyid
    role = Role((keyid,), 1)
    root = Root(
        1, EXPIRES, {keyid: key}, dict.fromkeys(("root", "timestamp", "snapshot", "targets"), role)
    )
    assert root.spec_version == SPECIFICATION_VERSION == "1.0.31"
    assert root.consistent_snapshot is True
    timestamp = Timestamp(2, EXPIRES, MetaFile(1))
    snapshot = Snapshot(3, EXPIRES, {"targets.json": MetaFile(1)})
    targets = Targets(4, EXPIRES, {"a": TargetFile("a", 1, {"sha256": "ab"})})
    assert Targets(4, EXPIRES).targets == {} and Targets(4, EXPIRES).delegations is None
    for signed in (root, timestamp, snapshot, targets):
        unsigned = Metadata.unsigned(signed)
        assert unsigned.signatures == ()
        theirs = oracle.Metadata.from_bytes(unsigned.to_bytes())
        assert CanonicalJSONSerializer().serialize(theirs.signed) == unsigned.signed_bytes
        assert theirs.signed.version == signed.version
        assert theirs.signed.expires == EXPIRES


def test_signatures_keep_their_unknown_fields_and_one_keyid_signs_once() -> None:
    data = json.loads(_signed(oracle.Timestamp(expires=EXPIRES)))
    first = data["signatures"][0]
    data["signatures"] = [{**first, "x-sig": 1}, {"keyid": "other", "sig": "00"}]
    parsed = Metadata.from_bytes(json.dumps(data).encode(), Timestamp)
    assert parsed.signatures == (
        Signature(first["keyid"], first["sig"], {"x-sig": 1}),
        Signature("other", "00"),
    )
    assert parsed.to_dict()["signatures"][0] == {**first, "x-sig": 1}
    data["signatures"].append(dict(first))
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(json.dumps(data).encode(), Timestamp)
    assert (
        str(refused.value)
        == f"timestamp.signatures[2].keyid: {first['keyid']!r} signs more than once"
    )


def test_a_signed_part_that_cannot_be_canonicalised_is_refused() -> None:
    data = json.loads(_signed(oracle.Timestamp(expires=EXPIRES)))
    text = json.dumps(data).replace('"_type"', '"x-bad": "\\ud800", "_type"')
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(text.encode(), Timestamp)
    assert str(refused.value).startswith("timestamp.signed: cannot be canonicalised (")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1.5}', "root: not valid JSON metadata (number 1.5 is not an integer)"),
        (b'{"a": 1e3}', "root: not valid JSON metadata (number 1e3 is not an integer)"),
        (b'{"a": NaN}', "root: not valid JSON metadata (NaN is not allowed)"),
        (b'{"a": -Infinity}', "root: not valid JSON metadata (-Infinity is not allowed)"),
    ],
)
def test_json_metadata_holds_integers_only(data: bytes, message: str) -> None:
    with pytest.raises(MetadataFormatError) as refused:
        parse_json(data, "root")
    assert str(refused.value) == message
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(data, Root)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "data", [b"\xff{}", b'{"a": "\xc3"}', b"[" * 100_000 + b"]" * 100_000, b"", b"{"]
)
def test_bytes_that_are_not_json_are_refused_as_such(data: bytes) -> None:
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(data, Snapshot)
    assert str(refused.value).startswith("snapshot: not valid JSON metadata (")
    assert "\n" not in str(refused.value)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(b"[]", Targets)
    assert str(refused.value) == "targets: must be an object"


def test_expiry_dates_are_read_and_written_in_utc() -> None:
    assert parse_expires("2030-01-31T12:30:05Z") == EXPIRES
    assert parse_expires("2030-01-31T12:30:05Z").tzinfo is UTC
    later = datetime(2030, 1, 31, 14, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert format_expires(later) == "2030-01-31T12:30:05Z"
    with pytest.raises(MetadataFormatError) as refused:
        parse_expires("2030-1-31T12:30:05Z")
    assert str(refused.value) == "expires: must look like 2030-01-31T00:00:00Z"


def test_metadata_expires_at_its_expiry_time_exactly() -> None:
    timestamp = Timestamp(1, EXPIRES, MetaFile(1))
    assert not is_expired(timestamp, EXPIRES - timedelta(seconds=1))
    assert is_expired(timestamp, EXPIRES)
    assert is_expired(timestamp, EXPIRES + timedelta(seconds=1))


def test_expiry_is_written_in_utc_whatever_the_machines_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+05:30, no daylight saving
    time.tzset()
    try:
        assert datetime(2030, 1, 31, 12, 30, 5).astimezone().utcoffset() == timedelta(
            hours=5, minutes=30
        )
        assert format_expires(EXPIRES) == "2030-01-31T12:30:05Z"
        naive_local = datetime(2030, 1, 31, 18, 0, 5)  # read as local time: 12:30:05 UTC
        assert format_expires(naive_local) == "2030-01-31T12:30:05Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_control_character_in_a_signed_string_survives_writing_the_file() -> None:
    targets = oracle.Targets(expires=EXPIRES)
    target = oracle.TargetFile(1, {"sha256": "00"}, "notes")
    target.unrecognized_fields["custom"] = {"note": "line one\nline two\ttab"}
    targets.targets["notes"] = target
    data = _signed(targets)
    ours = Metadata.from_bytes(data, Targets)
    assert b"line one\nline two\ttab" in ours.signed_bytes  # canonical JSON keeps them raw
    assert json.loads(ours.to_bytes()) == json.loads(data)
    assert ours.to_dict()["signed"]["targets"]["notes"]["custom"] == {
        "note": "line one\nline two\ttab"
    }


def test_snapshot_keeps_its_spec_version_and_unknown_fields() -> None:
    snapshot = oracle.Snapshot(expires=EXPIRES, spec_version="1.0.0")
    snapshot.unrecognized_fields["x-snapshot"] = {"kept": True}
    data = _signed(snapshot)
    _same_as_python_tuf(data, Snapshot)
    parsed = Metadata.from_bytes(data, Snapshot).signed
    assert parsed.spec_version == "1.0.0"
    assert parsed.extra == {"x-snapshot": {"kept": True}}
    assert parsed.to_dict()["spec_version"] == "1.0.0"


@pytest.mark.parametrize("model", [Root, Timestamp, Snapshot, Targets])
def test_a_signed_part_read_alone_is_named_signed(
    model: type[Root | Timestamp | Snapshot | Targets],
) -> None:
    with pytest.raises(MetadataFormatError) as refused:
        model.from_dict([])
    assert str(refused.value) == "signed: must be an object"
    with pytest.raises(MetadataFormatError) as refused:
        model.from_dict({"_type": "mirrors"})
    assert str(refused.value) == f"signed._type: expected {model.type!r}, got 'mirrors'"
