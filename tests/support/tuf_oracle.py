"""Repositories written with python-tuf's Metadata API: the oracle our client is checked against.

Built with python-tuf (not with our signing code), so a bug shared by our
repository side and our client cannot hide.  One key generator for both:

``SimulatedRepository()``: kept in memory.  Tests change the metadata
objects, call ``publish`` to make a version public, then run the real
``archy-node tuf`` process against it served by
``tests.support.tuf_fixtures.SimulatedRepositoryServer``.  Each published
version is kept as the exact bytes served, so a test can compare them with
what the client stored.  Every request is recorded as ``(role, version)``
for metadata (``version`` is ``None`` for an unversioned name) and
``(path, hash_prefix)`` for artifacts.

``PythonTufRepository(directory)``: a consistent-snapshot repository written
to a directory (the interop oracle), its keys drawn from a session-wide pool.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote

from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")
KEY_TYPES = {
    "ed25519": CryptoSigner.generate_ed25519,
    "ecdsa": CryptoSigner.generate_ecdsa,
    "rsa-pss": CryptoSigner.generate_rsa,
    "rsa-pkcs1v15": lambda: CryptoSigner.generate_rsa(scheme="rsa-pkcs1v15-sha256"),
}


def days_from_now(days: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


def new_signer(key_type: str = "ed25519") -> CryptoSigner:
    return KEY_TYPES[key_type]()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Artifact:
    data: bytes
    info: TargetFile


class SimulatedRepository:
    def __init__(self, consistent_snapshot: bool = True) -> None:
        self.md: dict[str, Metadata] = {}
        self.signers: dict[str, dict[str, Signer]] = {}
        self.published: dict[str, list[bytes]] = {}  # every publication, oldest first
        self.by_version: dict[str, dict[int, bytes]] = {}  # what N.role.json serves
        self.artifacts: dict[str, Artifact] = {}
        self.metadata_requests: list[tuple[str, int | None]] = []
        self.artifact_requests: list[tuple[str, str | None]] = []
        self.metafile_hashes = False
        self.prefix_targets_with_hash = True
        self.serve_override: dict[str, bytes] = {}  # URL path -> bytes, for attacks
        expires = days_from_now(30)
        self.md["root"] = Metadata(Root(expires=expires, consistent_snapshot=consistent_snapshot))
        self.md["timestamp"] = Metadata(Timestamp(expires=expires))
        self.md["snapshot"] = Metadata(Snapshot(expires=expires))
        self.md["targets"] = Metadata(Targets(expires=expires))
        for role in TOP_LEVEL:
            self.add_key(role)
        self.publish(["targets", "snapshot", "timestamp", "root"])

    # --- the signed parts ---

    @property
    def root(self) -> Root:
        return self.md["root"].signed

    @property
    def timestamp(self) -> Timestamp:
        return self.md["timestamp"].signed

    @property
    def snapshot(self) -> Snapshot:
        return self.md["snapshot"].signed

    def targets(self, role: str = "targets") -> Targets:
        return self.md[role].signed

    # --- keys ---

    def add_key(
        self, role: str, signer: CryptoSigner | None = None, delegator: str = "root"
    ) -> CryptoSigner:
        """Trust one more key for ``role`` (in root or a delegator) and sign with it."""
        signer = signer or new_signer()
        if delegator == "root":
            self.root.add_key(signer.public_key, role)
        else:
            self.targets(delegator).add_key(signer.public_key, role)
        self.signers.setdefault(role, {})[signer.public_key.keyid] = signer
        return signer

    def replace_keys(self, role: str, key_type: str = "ed25519") -> None:
        """Drop every key of a top-level role, trust one new one (root must be published)."""
        for keyid in list(self.root.roles[role].keyids):
            self.root.revoke_key(keyid, role)
        self.signers[role] = {}
        self.add_key(role, new_signer(key_type))

    # --- publishing ---

    def publish(self, roles: Iterable[str], bump: bool = True) -> None:
        """Sign ``roles`` (bumping versions), serve them, update snapshot/timestamp meta."""
        for role in roles:
            md = self.md[role]
            if bump and role in self.published:
                md.signed.version += 1
            self.sign(role)
            data = md.to_bytes(JSONSerializer())
            self.serve(role, data)
            meta = self.metafile(role)
            if role == "snapshot":
                self.timestamp.snapshot_meta = meta
            elif role not in ("root", "timestamp"):
                self.snapshot.meta[f"{role}.json"] = meta

    def serve(self, role: str, data: bytes) -> None:
        """Serve ``data`` as the newest ``role`` and under its own version number."""
        self.published.setdefault(role, []).append(data)
        version = self.md[role].signed.version if role in self.md else len(self.published[role])
        self.by_version.setdefault(role, {})[version] = data

    def metafile(self, role: str) -> MetaFile:
        """What snapshot (or timestamp) says about the newest published ``role``."""
        data = self.published[role][-1]
        version = self.md[role].signed.version
        if self.metafile_hashes:
            return MetaFile(version, len(data), {"sha256": _sha256(data)})
        return MetaFile(version)

    def sign(self, role: str) -> None:
        md = self.md[role]
        md.signatures.clear()
        for signer in self.signers[role].values():
            md.sign(signer, append=True)

    def publish_targets(self, *roles: str) -> None:
        """The usual release: the targets roles, then snapshot and timestamp."""
        self.publish([*(roles or ("targets",)), "snapshot", "timestamp"])

    def bump_root(self) -> None:
        self.publish(["root"])

    # --- content ---

    def add_artifact(
        self, path: str, data: bytes, role: str = "targets", algorithms: Iterable[str] = ("sha256",)
    ) -> TargetFile:
        info = TargetFile.from_data(path, data, list(algorithms))
        self.targets(role).targets[path] = info
        self.artifacts[path] = Artifact(data, info)
        return info

    def delegate(self, delegator: str, role: DelegatedRole, key_count: int = 1) -> None:
        """Add ``role`` to ``delegator``'s delegations with fresh keys, and create its metadata."""
        targets = self.targets(delegator)
        if targets.delegations is None:
            targets.delegations = Delegations({}, roles={})
        assert targets.delegations.roles is not None
        targets.delegations.roles[role.name] = role
        for _ in range(key_count):
            self.add_key(role.name, delegator=delegator)
        self.md.setdefault(role.name, Metadata(Targets(expires=days_from_now(30))))

    def delegate_hash_bins(self, delegator: str, bit_length: int, prefix: str) -> list[str]:
        signer = new_signer()
        succinct = SuccinctRoles([], 1, bit_length, prefix)
        self.targets(delegator).delegations = Delegations({}, None, succinct)
        self.targets(delegator).add_key(signer.public_key)
        names = list(succinct.get_roles())
        for name in names:
            self.md[name] = Metadata(Targets(expires=days_from_now(30)))
            self.signers[name] = {signer.public_key.keyid: signer}
        return names

    # --- serving ---

    def fetch(self, url_path: str) -> bytes | None:
        """The bytes for a request path under the repository, or None (404).

        Root is always asked for as ``N.root.json``, timestamp always as
        ``timestamp.json``; other metadata is versioned only when root says
        ``consistent_snapshot``; artifacts then carry a hash prefix.
        """
        if url_path in self.serve_override:
            return self.serve_override[url_path]
        area, _, rest = url_path.partition("/")
        if area == "metadata" and rest.endswith(".json"):
            stem = rest[: -len(".json")]
            version_text, dot, role = stem.partition(".")
            if (
                dot
                and version_text.isdigit()
                and (self.root.consistent_snapshot or unquote(role) == "root")
            ):
                version: int | None = int(version_text)
            else:
                role, version = stem, None
            self.metadata_requests.append((role, version))  # as requested: still URL-quoted
            role = unquote(role)
            if version is None:
                if role == "root" or (self.root.consistent_snapshot and role != "timestamp"):
                    return None
                versions = self.published.get(role, [])
                return versions[-1] if versions else None
            if role == "timestamp":
                return None
            return self.by_version.get(role, {}).get(version)
        if area == "targets":
            directory, slash, name = rest.rpartition("/")
            prefix = None
            if self.root.consistent_snapshot and self.prefix_targets_with_hash:
                prefix, _, name = name.partition(".")
            path = unquote(f"{directory}{slash}{name}")
            self.artifact_requests.append((path, prefix))
            artifact = self.artifacts.get(path)
            if artifact is None or (
                prefix is not None and prefix not in artifact.info.hashes.values()
            ):
                return None
            return artifact.data
        return None


EXPIRES = days_from_now(30)
GENERATORS = {
    "ed25519": KEY_TYPES["ed25519"],
    "ecdsa": KEY_TYPES["ecdsa"],
    "rsa": KEY_TYPES["rsa-pss"],
}

# Key generation (RSA above all) is slow: keys are generated once per session
# and shared by every repository, each repository taking distinct ones.
_KEY_POOL: dict[str, list[CryptoSigner]] = {name: [] for name in GENERATORS}


class PythonTufRepository:
    def __init__(self, directory: Path, key_type: str = "ecdsa") -> None:
        self.directory = directory
        self.key_type = key_type
        self._keys_taken = 0
        (directory / "metadata").mkdir(parents=True)
        (directory / "targets").mkdir()
        self.signers: dict[str, list[CryptoSigner]] = {}
        self.md: dict[str, Metadata] = {  # type: ignore[type-arg]
            "root": Metadata(Root(expires=EXPIRES, consistent_snapshot=True)),
            "timestamp": Metadata(Timestamp(expires=EXPIRES)),
            "snapshot": Metadata(Snapshot(expires=EXPIRES)),
            "targets": Metadata(Targets(expires=EXPIRES)),
        }
        for role in ("root", "timestamp", "snapshot", "targets"):
            self.add_key(role)
        self.published: set[str] = set()
        self.publish_root()
        self.publish("targets", "snapshot", "timestamp")

    @property
    def root(self) -> Root:
        return self.md["root"].signed  # type: ignore[no-any-return]

    def new_signer(self) -> CryptoSigner:
        pool = _KEY_POOL[self.key_type]
        if self._keys_taken == len(pool):
            pool.append(GENERATORS[self.key_type]())
        self._keys_taken += 1
        return pool[self._keys_taken - 1]

    def add_key(self, role: str) -> CryptoSigner:
        signer = self.new_signer()
        self.root.add_key(signer.public_key, role)
        self.signers.setdefault(role, []).append(signer)
        return signer

    def rotate(self, role: str, count: int = 1, threshold: int = 1) -> None:
        """Replace every key of ``role`` with ``count`` new ones; publish the new root."""
        old_root_signers = list(self.signers["root"])
        for signer in self.signers.pop(role):
            self.root.revoke_key(signer.public_key.keyid, role)
        for _ in range(count):
            self.add_key(role)
        self.root.roles[role].threshold = threshold
        self.publish_root(extra_signers=old_root_signers if role == "root" else [])

    def set_threshold(self, role: str, threshold: int) -> None:
        self.root.roles[role].threshold = threshold
        self.publish_root()

    def publish_root(self, extra_signers: list[CryptoSigner] | None = None) -> None:
        md = self.md["root"]
        if "root" in self.published:
            md.signed.version += 1
        md.signatures.clear()
        for signer in [*(extra_signers or []), *self.signers["root"]]:
            md.sign(signer, append=True)
        self.published.add("root")
        self._write(f"{md.signed.version}.root.json", md)

    def add_target(self, path: str, data: bytes, role: str = "targets") -> None:
        self.md[role].signed.targets[path] = TargetFile.from_data(path, data, ["sha256"])
        digest = self.md[role].signed.targets[path].hashes["sha256"]
        directory, _, name = path.rpartition("/")
        target = self.directory / "targets" / directory / f"{digest}.{name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def delegate(self, role: str, paths: list[str], delegator: str = "targets") -> None:
        signer = self.new_signer()
        delegating = self.md[delegator].signed
        if delegating.delegations is None:
            delegating.delegations = Delegations(keys={}, roles={})
        delegating.delegations.roles[role] = DelegatedRole(role, [], 1, False, paths)
        delegating.add_key(signer.public_key, role)
        self.signers[role] = [signer]
        self.md[role] = Metadata(Targets(expires=EXPIRES))

    def publish(self, *roles: str) -> None:
        for role in roles:
            md = self.md[role]
            if role in self.published:
                md.signed.version += 1
            self.published.add(role)
            if role == "timestamp":
                md.signed.snapshot_meta = MetaFile(self.md["snapshot"].signed.version)
            elif role == "snapshot":
                for name, other in self.md.items():
                    if name not in ("root", "timestamp", "snapshot") and name in self.published:
                        md.signed.meta[f"{name}.json"] = MetaFile(other.signed.version)
            md.signatures.clear()
            for signer in self.signers[role]:
                md.sign(signer, append=True)
            if role == "timestamp":
                self._write("timestamp.json", md)
            else:
                self._write(f"{md.signed.version}.{quote(role, safe='')}.json", md)

    def _write(self, name: str, md: Metadata) -> None:  # type: ignore[type-arg]
        (self.directory / "metadata" / name).write_bytes(md.to_bytes(JSONSerializer()))

    def root_bytes(self, version: int = 1) -> bytes:
        return (self.directory / "metadata" / f"{version}.root.json").read_bytes()
