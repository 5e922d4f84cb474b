"""A developer's registry: every app entry signed with the developer's did:key.

:func:`publish_developer_registry` builds a small registry from app folders
with the production pieces — the checks and catalog of
:mod:`pipeline.appdev.local_repository`, the production publisher
(:func:`pipeline.publish.signed_repository.publish_targets`) — under a fresh 1-of-1
root, for the marketplace tests and demo; a real registry runs ``archy build``,
the ceremony and ``archy publish`` instead.  ``rotate=True`` publishes the next version
with every key replaced: root v(N+1) signed by the old root key and the new one (the TUF
rule a client checks when it follows the chain), new targets and online keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from catalog.app_network import registry_network
from catalog.catalog_model import CATALOG_NAME
from pipeline.appdev.local_repository import checked_app, one_app_catalog
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.signed_repository import publish_targets
from signing import repository as tuf
from signing.developer import sign_catalog_apps
from signing.did_key import DidKeySigner
from signing.keys import SigningKey
from signing.metadata import Metadata, Root, Targets


@dataclass(frozen=True)
class PublishedRegistry:
    repo_dir: Path
    root_file: Path
    catalog_bytes: bytes
    targets_version: int
    keys: dict[str, SigningKey] = field(repr=False)
    root_version: int = 1
    """root, targets and online keys, kept in memory only (a real registry's offline keys
    live in the ceremony's key files)."""


def _root(keys: dict[str, SigningKey], now: datetime, version: int = 1) -> Root:
    root = tuf.new_root(
        now + timedelta(days=365),
        {
            "root": [keys["root"].public_key],
            "targets": [keys["targets"].public_key],
            "snapshot": [keys["online"].public_key],
            "timestamp": [keys["online"].public_key],
        },
    )
    return replace(root, version=version)


def _new_keys() -> dict[str, SigningKey]:
    return {role: SigningKey.generate() for role in ("root", "targets", "online")}


def _published_roots(repo_dir: Path, count: int) -> list[Metadata[Root]]:
    return [
        Metadata.from_bytes((repo_dir / "metadata" / f"{n}.root.json").read_bytes(), Root)
        for n in range(1, count + 1)
    ]


def publish_developer_registry(
    app_folder: Path,
    signer: DidKeySigner,
    repo_dir: Path,
    now: datetime,
    previous: PublishedRegistry | None = None,
    rotate: bool = False,
) -> PublishedRegistry:
    """Check, sign and publish the app in ``app_folder`` (and the providers it needs) to
    ``repo_dir``: under a new 1-of-1 root, or as the next targets version of ``previous``
    (same origin; same keys, or with ``rotate`` new keys under the next root version).
    Only public metadata is written."""
    now = now.replace(microsecond=0)
    network = registry_network(signer.did)
    catalog, artifacts = one_app_catalog(checked_app(app_folder), now, network=network)
    catalog = sign_catalog_apps(catalog, signer)
    catalog_bytes = catalog.to_canonical()
    artifacts[CATALOG_NAME] = catalog_bytes
    if previous is None:
        keys, version, root_version = _new_keys(), 1, 1
        roots = [tuf.sign(_root(keys, now), [keys["root"]])]
    else:
        version, root_version = previous.targets_version + 1, previous.root_version
        roots = _published_roots(repo_dir, root_version)
        keys = previous.keys
        if rotate:
            keys, root_version = _new_keys(), root_version + 1
            roots.append(tuf.rotate_root(roots[-1].signed, _root(keys, now, root_version),
                                         [previous.keys["root"]], [keys["root"]]))  # fmt: skip
    targets = Targets(version, now + timedelta(days=90))
    for name, data in sorted(artifacts.items()):
        targets = tuf.add_target(targets, tuf.target_file(name, data))
    repo_dir.mkdir(parents=True, exist_ok=True)
    publish_targets(
        FileOrigin(repo_dir),
        roots,
        tuf.sign(targets, [keys["targets"]]),
        artifacts,
        keys["online"],
        now,
        snapshot_expiry=timedelta(days=7),
        timestamp_expiry=timedelta(days=1),
    )
    root_file = repo_dir / "metadata" / "1.root.json"
    return PublishedRegistry(repo_dir, root_file, catalog_bytes, version, keys, root_version)
