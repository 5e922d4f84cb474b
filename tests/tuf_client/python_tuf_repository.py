"""A consistent-snapshot repository written with python-tuf's metadata API (the interop oracle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

EXPIRES = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
GENERATORS = {
    "ed25519": CryptoSigner.generate_ed25519,
    "ecdsa": CryptoSigner.generate_ecdsa,
    "rsa": CryptoSigner.generate_rsa,
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
