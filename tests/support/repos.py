"""The one factory of signed repositories for the tests: signed by our own code, on disk.

Two layers, one set of keys and one root-making rule (``signed_root``):

``LiveRepository(directory)``: a bare TUF repository built with our
repository side (``signing.repository``): one key per top-level role.
Tests change it (add artifacts, rotate keys, delegate), publish, and then
tamper with the written files to stage attacks.

``make_repository(directory, apps)``: a registry with a real catalog for the
node agent's tests.  It builds an ``app-catalog.json`` from manifest YAML
(units rendered by the publisher's renderer, an icon per app, optional
companion archives), signs it as a TUF target and publishes it with the
publisher's own file-origin code (``pipeline.publish``), in the publish
order.  ``handle.publish(apps)`` publishes the next catalog version.

    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    repository.origin        # file:// URL to give `archy-node init --origin`
    repository.root_path     # metadata/1.root.json, for `archy-node init --root`
    repository.publish({"demo": manifest_yaml("demo", version="1.1.0")})

Its keys are in ``handle.keys`` (one per role; ``online`` signs snapshot and
timestamp), so a test can also sign things the repository should not serve.

Repositories written with python-tuf (the interop oracle) are in
``tests/support/tuf_oracle.py``; servers and fixtures in ``tests/support/tuf_fixtures.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import (
    CATALOG_NAME,
    AppCatalog,
    AppImage,
    CatalogApp,
    Companion,
    ImagePin,
    SourceInfo,
    TargetFile,
    manifest_blake3,
)
from catalog.loader import parse_manifest_source
from catalog.manifest_fields import parse_image_reference
from pipeline.publish.catalog_deltas import delta_artifacts, previous_catalogs
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.signed_repository import publish_targets, read_published_role
from pipeline.publish.targets_layout import APP_FILES_ROLE, split_targets
from pipeline.render import render_app
from signing import repository as repo
from signing.keys import SigningKey
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from signing.metadata import TargetFile as TufTargetFile
from signing.metadata_fields import TOP_LEVEL_ROLES

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(days=30)


def signed_root(
    keys: Mapping[str, list[SigningKey]], expires: datetime, consistent_snapshot: bool = True
) -> Metadata[Root]:
    """Version 1 of root naming ``keys`` (role -> keys), signed by the root keys."""
    root = repo.new_root(
        expires,
        {role: [k.public_key for k in role_keys] for role, role_keys in keys.items()},
        consistent_snapshot=consistent_snapshot,
    )
    return repo.sign(root, keys["root"])


class LiveRepository:
    def __init__(self, directory: Path, consistent_snapshot: bool = True) -> None:
        self.directory = directory
        self.keys: dict[str, list[SigningKey]] = {
            r: [SigningKey.generate()] for r in TOP_LEVEL_ROLES
        }
        self.roots: list[Metadata[Root]] = [signed_root(self.keys, LATER, consistent_snapshot)]
        self.unsigned_targets: dict[str, Targets] = {"targets": Targets(1, LATER)}
        self.targets: dict[str, Metadata[Targets]] = {}
        self.artifacts: list[tuple[TufTargetFile, bytes]] = []
        self.snapshot: Metadata[Snapshot] | None = None
        self.timestamp: Metadata[Timestamp] | None = None
        self.publish()

    @property
    def root(self) -> Root:
        return self.roots[-1].signed

    def root_bytes(self, version: int = 1) -> bytes:
        return self.roots[version - 1].to_bytes()

    # --- changes ---

    def add_artifact(
        self, path: str, data: bytes, role: str = "targets", hashes=("blake3",)
    ) -> TufTargetFile:
        target = repo.target_file(path, data, hashes)
        self.unsigned_targets[role] = repo.add_target(self.unsigned_targets[role], target)
        self.artifacts.append((target, data))
        return target

    def delegate(
        self, delegator: str, role: str, paths=("*",), terminating=False, threshold=1, key_count=1
    ) -> None:
        self.keys[role] = [SigningKey.generate() for _ in range(key_count)]
        self.unsigned_targets[delegator] = repo.delegate(
            self.unsigned_targets[delegator],
            role,
            [k.public_key for k in self.keys[role]],
            paths,
            threshold,
            terminating,
        )
        self.unsigned_targets.setdefault(role, Targets(1, LATER))

    def new_root(self, root: Root, new_root_keys: list[SigningKey] | None = None) -> None:
        """Publish ``root`` as the next version, cross-signed by the old and new root keys."""
        old_keys = self.keys["root"]
        if new_root_keys is not None:
            self.keys["root"] = new_root_keys
        bumped = dataclasses.replace(root, version=self.root.version + 1)
        self.roots.append(repo.rotate_root(self.root, bumped, old_keys, self.keys["root"]))

    def rotate_keys(self, role: str, count: int = 1, threshold: int = 1) -> None:
        """Replace every key of a top-level role with ``count`` fresh ones (root changes)."""
        fresh = [SigningKey.generate() for _ in range(count)]
        root = self.root
        for key in fresh:
            root = repo.add_key(root, role, key.public_key)
        root = dataclasses.replace(
            root, roles={**root.roles, role: dataclasses.replace(root.roles[role], threshold=1)}
        )
        for old in self.keys[role]:
            root = repo.remove_key(root, role, old.keyid)
        root = repo.set_threshold(root, role, threshold)
        if role == "root":
            self.new_root(root, fresh)
        else:
            self.keys[role] = fresh
            self.new_root(root)

    # --- publishing ---

    def publish(self, roles: tuple[str, ...] | None = None, expires: datetime = LATER) -> None:
        """Sign the given (default: changed) targets roles, snapshot, timestamp; write."""
        for name, signed in self.unsigned_targets.items():
            published = self.targets.get(name)
            if roles is not None and name not in roles and published is not None:
                continue
            if published is not None:
                if published.signed == signed:
                    continue
                signed = dataclasses.replace(signed, version=published.signed.version + 1)
            self.unsigned_targets[name] = signed
            self.targets[name] = repo.sign(signed, self.keys[name])
        self.sign_snapshot(expires)
        self.sign_timestamp(expires)
        self.write()

    def sign_snapshot(self, expires: datetime = LATER, version: int | None = None) -> None:
        version = version or (1 if self.snapshot is None else self.snapshot.signed.version + 1)
        self.snapshot = repo.sign(
            repo.snapshot_for(version, expires, self.targets), self.keys["snapshot"]
        )

    def sign_timestamp(self, expires: datetime = LATER, version: int | None = None) -> None:
        assert self.snapshot is not None
        version = version or (1 if self.timestamp is None else self.timestamp.signed.version + 1)
        self.timestamp = repo.sign(
            repo.timestamp_for(version, expires, self.snapshot), self.keys["timestamp"]
        )

    def write(self) -> None:
        assert self.snapshot is not None and self.timestamp is not None
        files = repo.consistent_snapshot_files(
            self.roots, self.targets, self.snapshot, self.timestamp, self.artifacts
        )
        for relative, data in files.items():
            path = self.directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if not self.root.consistent_snapshot:
            for name, md in self.targets.items():
                (self.directory / "metadata" / f"{name}.json").write_bytes(md.to_bytes())
            (self.directory / "metadata" / "snapshot.json").write_bytes(self.snapshot.to_bytes())
            for target, data in self.artifacts:
                path = self.directory / "targets" / target.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)

    def metadata_path(self, name: str) -> Path:
        return self.directory / "metadata" / name


# Edits an app's rendered units ({file name: text}) before the catalog is signed.
UnitTamper = Callable[[dict[str, str]], dict[str, str]]

PLACEHOLDER_DIGEST = "sha256:" + "ab" * 32
DEFAULT_DATA_ROOT = "/var/lib/archipelago"


def manifest_yaml(
    app_id: str,
    *,
    version: str = "1.0.0",
    revision: int = 1,
    image: str = "docker.io/library/busybox:1.36",
    host_port: int | None = None,
    requires: str = "",
    provides: tuple[str, ...] = (),
    settings: str = "",
    extra_yaml: str = "",
) -> str:
    """A small valid manifest; ``requires``/``settings`` are YAML list/mapping bodies.

    e.g. ``requires="  - {app: bitcoin, version: '>=25'}\\n"``.
    """
    ports = (
        f"    ports:\n      - container: 8080\n        host: {host_port}\n        expose: lan\n"
        if host_port is not None
        else ""
    )
    text = f"""\
schema: 1
id: {app_id}
name: {app_id.title()}
version: "{version}"
revision: {revision}
summary: A small test app
description: Does very little.
category: developer
license: MIT
homepage: https://example.org/{app_id}
source: https://example.org/{app_id}/src
architectures: [amd64, arm64]
containers:
  - name: {app_id}
    image: {image}
    command: ["sleep", "infinity"]
{ports}"""
    if provides:
        text += f"provides: [{', '.join(provides)}]\n"
    if requires:
        text += f"requires:\n{requires}"
    if settings:
        text += f"settings:\n{settings}"
    return text + extra_yaml


def icon_bytes(app_id: str) -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg"><title>{app_id}</title></svg>\n'.encode()


def _target(directory: str, name: str, data: bytes) -> TargetFile:
    digest = blake3_hex(data)
    return TargetFile(target=f"{directory}/{digest}.{name}", blake3=digest, length=len(data))


@dataclass
class RepositoryHandle:
    directory: Path
    keys: dict[str, SigningKey]
    data_root: str = DEFAULT_DATA_ROOT
    pin_images: bool = True
    roots: list[Metadata[Root]] = field(default_factory=list)
    catalog: AppCatalog | None = None
    catalog_bytes: bytes = b""
    targets_version: int = 0
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def origin(self) -> str:
        return self.directory.as_uri()

    @property
    def root_path(self) -> Path:
        return self.directory / "metadata" / "1.root.json"

    def path(self, relative: str) -> Path:
        """A file of the published repository, e.g. ``metadata/timestamp.json``."""
        return self.directory / relative

    def catalog_file(self) -> Path:
        """The published ``targets/<blake3>.app-catalog.json`` of the current catalog."""
        return self.path(f"targets/{blake3_hex(self.catalog_bytes)}.{CATALOG_NAME}")

    def publish(
        self,
        apps: Mapping[str, str],
        *,
        commit: str | None = None,
        companions: Mapping[str, Mapping[str, bytes]] | None = None,
        tamper_units: Mapping[str, UnitTamper] | None = None,
        render_as: Mapping[str, str] | None = None,
        deltas_keep: int = 0,
        extra_artifacts: Mapping[str, bytes] | None = None,
        split_app_files: bool = False,
    ) -> AppCatalog:
        """Build a catalog of ``apps`` (id -> manifest YAML) and publish it as the next version.

        ``companions`` maps an app id to {member name: OCI archive bytes}; such a member's
        image is ``localhost/<member>:latest``, left unpinned (the archive is the image).
        ``tamper_units`` maps an app id to a function that edits its rendered units before
        the catalog is signed: a hostile catalog that is still validly signed.
        ``render_as`` maps an app id to the manifest YAML its units are rendered from, for
        a hostile manifest the renderer refuses (its units come from a harmless twin).
        ``deltas_keep``: also sign and publish catalog deltas from the last K catalogs
        (the publisher's ``pipeline.publish.catalog_deltas``); ``extra_artifacts`` are
        signed and published as they are.  ``split_app_files``: icons and companion
        archives go to the delegated ``app-files`` role (``pipeline.publish.targets_layout``),
        re-signed only when they change.
        """
        catalog, artifacts = self._build_catalog(
            apps,
            commit or f"{self.targets_version + 1:040x}",
            companions or {},
            tamper_units or {},
            render_as or {},
        )
        return self.publish_catalog(
            catalog,
            artifacts,
            deltas_keep=deltas_keep,
            extra_artifacts=extra_artifacts,
            split_app_files=split_app_files,
        )

    def publish_catalog(
        self,
        catalog: AppCatalog,
        artifacts: dict[str, bytes],
        *,
        deltas_keep: int = 0,
        extra_artifacts: Mapping[str, bytes] | None = None,
        split_app_files: bool = False,
    ) -> AppCatalog:
        """Sign and publish a built catalog and the files it names, as the next version."""
        self.targets_version += 1
        self.catalog = catalog
        self.catalog_bytes = catalog.to_canonical()
        artifacts[CATALOG_NAME] = self.catalog_bytes
        if deltas_keep:
            previous = previous_catalogs(FileOrigin(self.directory), deltas_keep)
            artifacts.update(delta_artifacts(previous, self.catalog_bytes))
        artifacts.update(extra_artifacts or {})
        origin = FileOrigin(self.directory)
        expires = self.now + timedelta(days=90)
        delegated: dict[str, Metadata[Targets]] = {}
        if split_app_files:
            published = read_published_role(origin, APP_FILES_ROLE)
            split = split_targets(
                artifacts,
                self.targets_version,
                expires,
                [self.keys["targets"].public_key],
                1,
                None if published is None else published.signed,
                renew_before=self.now + timedelta(days=30),
            )
            targets = split.top_level
            delegated[APP_FILES_ROLE] = (
                repo.sign(split.app_files, [self.keys["targets"]])
                if split.app_files_changed or published is None
                else published
            )
        else:
            targets = Targets(self.targets_version, expires)
            for name, data in sorted(artifacts.items()):
                targets = repo.add_target(targets, repo.target_file(name, data))
        signed_targets: Metadata[Targets] = repo.sign(targets, [self.keys["targets"]])
        publish_targets(
            origin,
            self.roots,
            signed_targets,
            artifacts,
            self.keys["online"],
            self.now,
            snapshot_expiry=timedelta(days=7),
            timestamp_expiry=timedelta(days=1),
            delegated=delegated,
        )
        return catalog

    def _build_catalog(
        self,
        apps: Mapping[str, str],
        commit: str,
        companions: Mapping[str, Mapping[str, bytes]],
        tamper_units: Mapping[str, UnitTamper],
        render_as: Mapping[str, str],
    ) -> tuple[AppCatalog, dict[str, bytes]]:
        entries: dict[str, CatalogApp] = {}
        pins: dict[str, ImagePin] = {}
        artifacts: dict[str, bytes] = {}
        for app_id, text in sorted(apps.items()):
            source = parse_manifest_source(text.encode(), f"apps/{app_id}/manifest.yml", app_id)
            manifest = source.manifest
            images = []
            for member in manifest.containers:
                repository, tag, digest = parse_image_reference(member.image)
                reference = f"{repository}:{tag}"
                if member.name in companions.get(app_id, {}) or not self.pin_images:
                    # shipped as an archive, or a local test image: no registry digest
                    images.append(AppImage(member=member.name, reference=reference, digest=None))
                    continue
                images.append(
                    AppImage(
                        member=member.name,
                        reference=reference,
                        digest=digest or PLACEHOLDER_DIGEST,
                    )
                )
                pins[reference] = ImagePin(digest=digest or PLACEHOLDER_DIGEST)
            icon_data = icon_bytes(app_id)
            icon = _target("icons", f"{app_id}.svg", icon_data)
            artifacts[icon.name] = icon_data
            app_companions = []
            for member_name, archive_data in sorted(companions.get(app_id, {}).items()):
                archive = _target("companions", f"{member_name}.oci.tar", archive_data)
                artifacts[archive.name] = archive_data
                app_companions.append(
                    Companion(
                        member=member_name,
                        image=f"localhost/{member_name}:latest",
                        context_blake3=blake3_hex(member_name.encode()),
                        image_id=blake3_hex(archive_data),
                        archive=archive,
                    )
                )
            rendered = manifest
            if app_id in render_as:
                twin = render_as[app_id].encode()
                rendered = parse_manifest_source(twin, f"apps/{app_id}/manifest.yml", app_id)
                rendered = rendered.manifest
            units = render_app(rendered, self.data_root)
            if app_id in tamper_units:
                units = tamper_units[app_id](dict(units))
            entries[app_id] = CatalogApp(
                version=manifest.version,
                revision=manifest.revision,
                manifest=manifest,
                manifest_blake3=manifest_blake3(manifest),
                units=units,
                images=images,
                icon=icon,
                companions=app_companions,
            )
        catalog = AppCatalog(
            schema=1,
            source=SourceInfo(
                repository=self.origin,
                commit=commit,
                committed_at="2026-01-01T00:00:00Z",
                dirty=False,
            ),
            dev_build=False,
            apps=entries,
            images=dict(sorted(pins.items())),
            node=None,
        )
        return catalog, artifacts


def make_repository(
    directory: Path,
    apps: Mapping[str, str],
    *,
    companions: Mapping[str, Mapping[str, bytes]] | None = None,
    data_root: str = DEFAULT_DATA_ROOT,
    tamper_units: Mapping[str, UnitTamper] | None = None,
    render_as: Mapping[str, str] | None = None,
    pin_images: bool = True,
) -> RepositoryHandle:
    """A new signed repository in ``directory`` serving a catalog of ``apps``.

    ``pin_images=False`` leaves every image at its tag (local test images have no digest).
    """
    keys = {
        "root": SigningKey.generate(),
        "targets": SigningKey.generate(),
        "online": SigningKey.generate(),
    }
    handle = RepositoryHandle(
        directory=directory, keys=keys, data_root=data_root, pin_images=pin_images
    )
    role_keys = {"root": [keys["root"]], "targets": [keys["targets"]]}
    role_keys |= {"snapshot": [keys["online"]], "timestamp": [keys["online"]]}
    handle.roots = [signed_root(role_keys, handle.now + timedelta(days=365))]
    directory.mkdir(parents=True, exist_ok=True)
    handle.publish(apps, companions=companions, tamper_units=tamper_units, render_as=render_as)
    return handle
