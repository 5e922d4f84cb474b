"""Malformed TUF metadata, one field at a time: the exact refusal a client prints
(signing/metadata.py and signing/metadata_fields.py name the field's path), checked against
python-tuf (the interop oracle) - which refuses each of these too, unless the case says
our reader is the stricter one.

Each case starts from a valid document made by python-tuf and breaks one thing."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api import metadata as oracle
from tuf.api.serialization import DeserializationError
from tuf.api.serialization.json import JSONSerializer

from signing.errors import MetadataFormatError
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp

EXPIRES = datetime(2030, 1, 31, tzinfo=UTC)
SIGNER = CryptoSigner.generate_ed25519()
KEYID = SIGNER.public_key.keyid
MODELS: dict[str, type[Root] | type[Timestamp] | type[Snapshot] | type[Targets]] = {
    "root": Root,
    "timestamp": Timestamp,
    "snapshot": Snapshot,
    "targets": Targets,
}


def _documents() -> dict[str, dict[str, Any]]:
    root = oracle.Root(expires=EXPIRES)
    for role in ("root", "timestamp", "snapshot", "targets"):
        root.add_key(SIGNER.public_key, role)
    snapshot = oracle.Snapshot(expires=EXPIRES)
    snapshot.meta["targets.json"] = oracle.MetaFile(1, 10, {"sha256": "ab" * 32})
    targets = oracle.Targets(expires=EXPIRES)
    targets.targets["a/b"] = oracle.TargetFile.from_data("a/b", b"data", ["sha256"])
    timestamp = oracle.Timestamp(expires=EXPIRES)
    documents = {}
    for name, signed in (
        ("root", root),
        ("timestamp", timestamp),
        ("snapshot", snapshot),
        ("targets", targets),
    ):
        metadata = oracle.Metadata(signed)
        metadata.sign(SIGNER)
        documents[name] = json.loads(metadata.to_bytes(JSONSerializer()))
    return documents


DOCUMENTS = _documents()

Edit = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Edit:
    """Set (or with ``...``, delete) the field at a dotted path of the document."""

    def edit(document: dict[str, Any]) -> None:
        *parents, last = path.split("|")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


S = "signed"
R = f"{S}|roles"
ROOT_KEY = f"{S}|keys|{KEYID}"

# role, edit, exact message, whether python-tuf accepts it (True: ours is the stricter reader)
CASES: list[tuple[str, Edit, str, bool]] = [
    # the envelope
    ("root", _set("signatures", {}), "root.signatures: must be a list", True),
    ("root", _set("signatures", None), "root.signatures: must be a list", False),
    ("root", _set("signatures|0", "sig"), "root.signatures[0]: must be an object", False),
    ("root", _set("signatures|0|keyid", 1), "root.signatures[0].keyid: must be a string", True),
    ("root", _set("signatures|0|sig", None), "root.signatures[0].sig: must be a string", True),
    ("root", _set(S, []), "root.signed: must be an object", False),
    # the common fields
    (
        "root",
        _set(f"{S}|_type", "targets"),
        "root.signed._type: expected 'root', got 'targets'",
        False,
    ),
    ("root", _set(f"{S}|_type", ...), "root.signed._type: expected 'root', got None", False),
    (
        "timestamp",
        _set(f"{S}|version", 0),
        "timestamp.signed.version: must be an integer ≥ 1",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|version", True),
        "timestamp.signed.version: must be an integer ≥ 1",
        True,
    ),
    (
        "timestamp",
        _set(f"{S}|version", "1"),
        "timestamp.signed.version: must be an integer ≥ 1",
        False,
    ),
    ("snapshot", _set(f"{S}|expires", 1), "snapshot.signed.expires: must be a string", False),
    (
        "snapshot",
        _set(f"{S}|expires", "2030-01-31T00:00:00+00:00"),
        "snapshot.signed.expires: must look like 2030-01-31T00:00:00Z",
        False,
    ),
    (
        "snapshot",
        _set(f"{S}|expires", "2030-01-31 00:00:00Z"),
        "snapshot.signed.expires: must look like 2030-01-31T00:00:00Z",
        False,
    ),
    (
        "snapshot",
        _set(f"{S}|expires", "2030-02-30T00:00:00Z"),
        "snapshot.signed.expires: '2030-02-30T00:00:00Z' is not a date",
        False,
    ),
    (
        "snapshot",
        _set(f"{S}|expires", "2030-01-31T24:00:00Z"),
        "snapshot.signed.expires: '2030-01-31T24:00:00Z' is not a date",
        False,
    ),
    (
        "targets",
        _set(f"{S}|spec_version", "2.0.0"),
        "targets.signed.spec_version: unsupported specification version '2.0.0'",
        False,
    ),
    (
        "targets",
        _set(f"{S}|spec_version", "1"),
        "targets.signed.spec_version: unsupported specification version '1'",
        False,
    ),
    (
        "targets",
        _set(f"{S}|spec_version", "1.0.0.0"),
        "targets.signed.spec_version: unsupported specification version '1.0.0.0'",
        False,
    ),
    (
        "targets",
        _set(f"{S}|spec_version", "1.x.0"),
        "targets.signed.spec_version: unsupported specification version '1.x.0'",
        False,
    ),
    (
        "targets",
        _set(f"{S}|spec_version", 1),
        "targets.signed.spec_version: must be a string",
        False,
    ),
    # root
    (
        "root",
        _set(f"{R}|mirror", {"keyids": [], "threshold": 1}),
        "root.signed.roles: must define exactly ('root', 'timestamp', 'snapshot', 'targets')",
        False,
    ),
    (
        "root",
        _set(f"{R}|snapshot", ...),
        "root.signed.roles: must define exactly ('root', 'timestamp', 'snapshot', 'targets')",
        False,
    ),
    ("root", _set(R, ["root"]), "root.signed.roles: must be an object", False),
    ("root", _set(f"{R}|timestamp", 1), "root.signed.roles.timestamp: must be an object", False),
    (
        "root",
        _set(f"{R}|timestamp|threshold", 0),
        "root.signed.roles.timestamp.threshold: must be an integer ≥ 1",
        False,
    ),
    (
        "root",
        _set(f"{R}|timestamp|threshold", False),
        "root.signed.roles.timestamp.threshold: must be an integer ≥ 1",
        False,
    ),
    (
        "root",
        _set(f"{R}|timestamp|keyids", KEYID),
        "root.signed.roles.timestamp.keyids: must be a list of strings",
        False,
    ),
    (
        "root",
        _set(f"{R}|timestamp|keyids", [KEYID, 1]),
        "root.signed.roles.timestamp.keyids: must be a list of strings",
        True,
    ),
    (
        "root",
        _set(f"{R}|timestamp|keyids", [KEYID, KEYID]),
        "root.signed.roles.timestamp.keyids: must not repeat an entry",
        False,
    ),
    (
        "root",
        _set(f"{S}|consistent_snapshot", "yes"),
        "root.signed.consistent_snapshot: must be true or false",
        True,
    ),
    ("root", _set(f"{S}|keys", []), "root.signed.keys: must be an object", False),
    ("root", _set(ROOT_KEY, "key"), f"root.signed.keys.{KEYID}: must be an object", False),
    (
        "root",
        _set(f"{ROOT_KEY}|keytype", 7),
        f"root.signed.keys.{KEYID}: keytype and scheme must be strings",
        False,
    ),
    (
        "root",
        _set(f"{ROOT_KEY}|keyval", {}),
        f"root.signed.keys.{KEYID}: keyval must be an object with a string 'public'",
        False,
    ),
    # timestamp and snapshot
    ("timestamp", _set(f"{S}|meta", ...), "timestamp.signed.meta: must be an object", False),
    (
        "timestamp",
        _set(f"{S}|meta", {}),
        "timestamp.signed.meta: must describe exactly 'snapshot.json'",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|targets.json", {"version": 1}),
        "timestamp.signed.meta: must describe exactly 'snapshot.json'",
        True,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|snapshot.json", 1),
        "timestamp.signed.meta.snapshot.json: must be an object",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|snapshot.json|version", 0),
        "timestamp.signed.meta.snapshot.json.version: must be an integer ≥ 1",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|snapshot.json|length", -1),
        "timestamp.signed.meta.snapshot.json.length: must be an integer ≥ 0",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|snapshot.json|hashes", {}),
        "timestamp.signed.meta.snapshot.json.hashes: must list at least one hash",
        False,
    ),
    (
        "timestamp",
        _set(f"{S}|meta|snapshot.json|hashes", []),
        "timestamp.signed.meta.snapshot.json.hashes: must be an object",
        False,
    ),
    ("snapshot", _set(f"{S}|meta", []), "snapshot.signed.meta: must be an object", False),
    (
        "snapshot",
        _set(f"{S}|meta|targets.json|length", "10"),
        "snapshot.signed.meta.targets.json.length: must be an integer ≥ 0",
        False,
    ),
    (
        "snapshot",
        _set(f"{S}|meta|targets.json|hashes|sha256", "xyz"),
        "snapshot.signed.meta.targets.json.hashes.sha256: must be a hex digest",
        True,
    ),
    (
        "snapshot",
        _set(f"{S}|meta|targets.json|hashes|sha256", ""),
        "snapshot.signed.meta.targets.json.hashes.sha256: must be a hex digest",
        True,
    ),
    (
        "snapshot",
        _set(f"{S}|meta|targets.json|hashes|sha256", 12),
        "snapshot.signed.meta.targets.json.hashes.sha256: must be a hex digest",
        False,
    ),
    # targets
    ("targets", _set(f"{S}|targets", ...), "targets.signed.targets: must be an object", False),
    (
        "targets",
        _set(f"{S}|targets|a/b", []),
        "targets.signed.targets.a/b: must be an object",
        False,
    ),
    (
        "targets",
        _set(f"{S}|targets|a/b|hashes", ...),
        "targets.signed.targets.a/b.hashes: required",
        False,
    ),
    (
        "targets",
        _set(f"{S}|targets|a/b|hashes", {}),
        "targets.signed.targets.a/b.hashes: must list at least one hash",
        False,
    ),
    (
        "targets",
        _set(f"{S}|targets|a/b|length", ...),
        "targets.signed.targets.a/b.length: must be an integer ≥ 0",
        False,
    ),
    (
        "targets",
        _set(f"{S}|targets|a/b|length", -4),
        "targets.signed.targets.a/b.length: must be an integer ≥ 0",
        False,
    ),
    (
        "targets",
        _set(f"{S}|delegations", []),
        "targets.signed.delegations: must be an object",
        False,
    ),
]


@pytest.mark.parametrize(
    ("role", "edit", "message", "python_tuf_accepts"),
    CASES,
    ids=[f"{case[0]}:{case[2][:60]}" for case in CASES],
)
def test_each_malformed_field_is_refused_by_its_path(
    role: str, edit: Edit, message: str, python_tuf_accepts: bool
) -> None:
    document = copy.deepcopy(DOCUMENTS[role])
    edit(document)
    data = json.dumps(document).encode()
    with pytest.raises(MetadataFormatError) as refused:
        Metadata.from_bytes(data, MODELS[role])
    assert str(refused.value) == message
    try:
        oracle.Metadata.from_bytes(data)
    except (DeserializationError, ValueError, TypeError, KeyError):
        accepted = False
    else:
        accepted = True
    assert accepted == python_tuf_accepts


@pytest.mark.parametrize("role", sorted(DOCUMENTS))
def test_each_valid_document_of_python_tuf_is_read(role: str) -> None:
    data = json.dumps(DOCUMENTS[role]).encode()
    parsed = Metadata.from_bytes(data, MODELS[role])
    assert parsed.signed.version == 1
    assert parsed.signed.expires == EXPIRES
    assert parsed.signed_bytes == oracle.Metadata.from_bytes(data).signed_bytes
