"""A TUF repository kept in memory with python-tuf's Metadata API, served over HTTP.

Tests change the metadata objects, call ``publish`` to make a version
public, then run the real ``archy-node tuf`` process against the server.
Each published version is kept as the exact bytes served, so a test can
compare them with what the client stored.  Every request is recorded as
``(role, version)`` for metadata (``version`` is ``None`` for an
unversioned name) and ``(path, hash_prefix)`` for artifacts.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

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


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


class RepositoryServer:
    """One SimulatedRepository on a loopback HTTP server, in a thread."""

    def __init__(self, repository: SimulatedRepository) -> None:
        self.repository = repository
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                data = server.repository.fetch(self.path.lstrip("/"))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.metadata_url = f"{base}/metadata/"
        self.targets_url = f"{base}/targets/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
