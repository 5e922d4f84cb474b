"""Push what an origin serves to HTTP seeds that accept uploads (``archy publish --seed``).

After a publish, the origin's current targets (by the signed targets metadata
the timestamp leads to, delegated roles such as ``app-files`` included) and its
metadata are offered to each seed in the publish order: every blob the seed
does not hold yet (``HEAD /blobs/<blake3>`` answers 404) is uploaded with
``PUT /blobs/<blake3>``, then the versioned metadata, then ``timestamp.json``
last — so a node reading the seed's metadata never meets a target the seed
lacks.  The seed checks every blob's BLAKE3 itself before storing it; uploads
carry the seed's token (``Authorization: Bearer``).  See
``docs/seed-protocol.md``.

Public API: ``SeedPushError``, ``SeedPushReport``, ``push_to_seed(origin,
seed_url, token, client=None) -> SeedPushReport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from catalog.refusal import Refused
from pipeline.publish.layout import TIMESTAMP_PATH, publish_order, root_path, targets_metadata_path
from pipeline.publish.origin import Origin, PublishError
from pipeline.publish.signed_repository import read_origin_state
from signing.errors import TufError
from signing.metadata import Metadata, Targets

UPLOAD_TIMEOUT_SECONDS = 120.0


class SeedPushError(Refused):
    """A seed refused an upload or could not be reached; one line says which and why."""


@dataclass
class SeedPushReport:
    seed: str
    uploaded: list[str] = field(default_factory=list)
    """Origin paths uploaded (targets/… and metadata/…)."""
    already_held: int = 0
    bytes_uploaded: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "uploaded": self.uploaded,
            "already_held": self.already_held,
            "bytes_uploaded": self.bytes_uploaded,
        }


def _seed_root(seed_url: str) -> str:
    if not seed_url.startswith(("http://", "https://")):
        raise SeedPushError(
            f"seed {seed_url!r}: uploads go to an HTTP seed (http(s)://HOST:PORT); an iroh seed "
            "fills its store with `archy seed sync` or shares the HTTP seed's store"
        )
    return seed_url.rstrip("/").removesuffix("/targets")


def _read_role(origin: Origin, path: str) -> Metadata[Targets]:
    data = origin.read(path)
    if data is None:
        raise SeedPushError(f"{origin.describe(path)}: missing, but the snapshot names it")
    try:
        return Metadata.from_bytes(data, Targets)
    except TufError as error:
        raise SeedPushError(f"{origin.describe(path)}: not valid metadata ({error})") from None


def _target_blobs(origin: Origin) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """``{blake3: (origin path, target name)}`` of the current targets, and the metadata paths.

    The targets are the top-level role's and every delegated role's the snapshot
    names (``app-files`` holds the icons and companion archives).
    """
    state = read_origin_state(origin)
    if state.snapshot is None:
        raise SeedPushError(f"{origin.describe()} serves no repository yet: nothing to push")
    role_paths = [
        f"metadata/{meta.version}.{name}"
        for name, meta in sorted(state.snapshot.signed.meta.items())
    ]
    if targets_metadata_path(state.targets_version) not in role_paths:
        raise SeedPushError(f"{origin.describe()}: the snapshot names no targets metadata")
    blobs: dict[str, tuple[str, str]] = {}
    for role_path in role_paths:
        for name, info in _read_role(origin, role_path).signed.targets.items():
            blake3 = info.hashes.get("blake3")
            if blake3 is None:
                continue
            directory, separator, plain = name.rpartition("/")
            blobs[blake3] = (f"targets/{directory}{separator}{blake3}.{plain}", name)
    metadata = [*role_paths, f"metadata/{state.snapshot_version}.snapshot.json", TIMESTAMP_PATH]
    version = 1
    while origin.read(root_path(version)) is not None:
        metadata.append(root_path(version))
        version += 1
    return blobs, publish_order(metadata)


def _put(client: httpx.Client, url: str, data: bytes, token: str) -> None:
    try:
        answer = client.put(url, content=data, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise SeedPushError(f"{url}: {type(error).__name__}: {error}") from None
    if answer.status_code not in (200, 201):
        reason = answer.text.strip()[:200] or answer.reason_phrase
        raise SeedPushError(
            f"{url}: the seed refused the upload (HTTP {answer.status_code}: {reason})"
        )


def push_to_seed(
    origin: Origin, seed_url: str, token: str, client: httpx.Client | None = None
) -> SeedPushReport:
    """Upload to ``seed_url`` what it lacks of what ``origin`` serves; metadata last."""
    root = _seed_root(seed_url)
    try:
        blobs, metadata = _target_blobs(origin)
    except PublishError as error:
        raise SeedPushError(str(error)) from None
    report = SeedPushReport(seed=root)
    active = client or httpx.Client(timeout=UPLOAD_TIMEOUT_SECONDS, follow_redirects=False)
    try:
        for blake3, (path, name) in sorted(blobs.items(), key=lambda item: item[1]):
            url = f"{root}/blobs/{blake3}"
            try:
                held = active.head(url).status_code == 200
            except httpx.HTTPError as error:
                raise SeedPushError(f"{url}: {type(error).__name__}: {error}") from None
            if held:
                report.already_held += 1
                continue
            data = origin.read(path)
            if data is None:
                raise SeedPushError(f"{origin.describe(path)}: missing, but {name} is signed")
            _put(active, url, data, token)
            report.uploaded.append(path)
            report.bytes_uploaded += len(data)
        for path in metadata:
            data = origin.read(path)
            if data is None:
                raise SeedPushError(f"{origin.describe(path)}: missing while pushing metadata")
            _put(active, f"{root}/{path}", data, token)
            report.uploaded.append(path)
    finally:
        if client is None:
            active.close()
    return report
