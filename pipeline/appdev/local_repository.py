"""A one-app signed repository for a throwaway local node (``archy app run``).

The app folder goes through the production checks first: schema, per-app
policy and the cross-app rules against the other apps beside it
(:func:`pipeline.validation.validate_paths`); only this app's errors refuse it.
Its units are rendered by the production renderer, embedded in a catalog of
one app (the working tree as it is, uncommitted edits included: ``dirty``,
``dev_build``), and published with the production publisher
(:func:`pipeline.publish.signed_repository.publish_targets`) under an
ephemeral root: one key per role, generated here; only public metadata is written.
So a node pulls it through the same TUF client as any catalog.

The catalog also holds the apps that provide what the app requires (a node
refuses to install an app whose requirements no catalog app meets); only the
app itself is installed.

Public API: ``find_app_folder(apps_dir, app_id)``, ``checked_app(folder) -> CheckedApp``,
``publish_one_app(checked, repo_dir, now, data_root) -> Path`` (the root to trust),
``LocalRunRefused``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from catalog.address import blake3_hex
from catalog.catalog_model import (
    CATALOG_NAME,
    AppCatalog,
    AppImage,
    CatalogApp,
    ImagePin,
    SourceInfo,
    TargetFile,
    manifest_blake3,
)
from catalog.loader import ManifestSource
from catalog.manifest_fields import parse_image_reference
from catalog.problems import ManifestError
from catalog.runtime_names import DEFAULT_DATA_ROOT, NETWORK_NAME
from pipeline.appset import AppFolder
from pipeline.crossapp_requirements import providers
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.signed_repository import publish_targets
from pipeline.render import render_app
from pipeline.validation import validate_paths
from signing import repository as tuf
from signing.keys import SigningKey
from signing.metadata import Targets

LOCAL_COMMIT = "0" * 40


class LocalRunRefused(Exception):
    """One or more lines saying why the app cannot run; nothing was started."""

    def __init__(self, lines: list[str], problems: bool = False) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.problems = problems
        """True when the lines are manifest problems (each names its file and line)."""


def find_app_folder(apps_dir: Path, app_id: str, fallbacks: tuple[Path, ...] = ()) -> Path:
    for base in (apps_dir, *fallbacks):
        if (base / app_id / "manifest.yml").is_file():
            return base / app_id
    raise LocalRunRefused(
        [f"{app_id}: no such app (looked for {apps_dir / app_id / 'manifest.yml'})"]
    )


@dataclass(frozen=True)
class CheckedApp:
    """An app that passed the production checks, and the apps that provide what it requires."""

    app: AppFolder
    providers: list[AppFolder]

    @property
    def source(self) -> ManifestSource:
        return self.app.source


def _providers_of(app: AppFolder, apps: list[AppFolder]) -> list[AppFolder]:
    """Every app that meets a non-optional requirement of ``app``, and theirs in turn."""
    sources = [each.source for each in apps]
    by_id = {each.app_id: each for each in apps}
    found: dict[str, AppFolder] = {}
    pending = [app]
    while pending:
        current = pending.pop()
        for requirement in current.source.manifest.requires:
            if requirement.optional:
                continue
            for provider in providers(requirement, sources):
                provider_id = provider.manifest.id
                if provider_id not in found and provider_id != app.app_id:
                    found[provider_id] = by_id[provider_id]
                    pending.append(by_id[provider_id])
    return [found[key] for key in sorted(found)]


def checked_app(folder: Path) -> CheckedApp:
    """The app in ``folder``, after every production check that concerns it."""
    report = validate_paths([folder.parent])
    ours = [p for p in report.errors if Path(p.file).parent.name == folder.name]
    if ours:
        raise LocalRunRefused([str(problem) for problem in ours], problems=True)
    for app in report.apps:
        if app.app_id == folder.name:
            return CheckedApp(app, _providers_of(app, report.apps))
    raise LocalRunRefused([f"{folder / 'manifest.yml'}: did not load"])  # pragma: no cover


def _images(source: ManifestSource) -> tuple[list[AppImage], dict[str, ImagePin]]:
    images, pins = [], {}
    for member in source.manifest.containers:
        repository, tag, digest = parse_image_reference(member.image)
        reference = f"{repository}:{tag}"
        images.append(AppImage(member=member.name, reference=reference, digest=digest))
        pins[reference] = ImagePin(digest=digest)
    return images, pins


def _catalog_app(
    app: AppFolder,
    data_root: str,
    artifacts: dict[str, bytes],
    pins: dict[str, ImagePin],
    network: str = NETWORK_NAME,
) -> CatalogApp:
    source, manifest = app.source, app.source.manifest
    try:
        units = render_app(source, data_root, network)
    except ManifestError as error:
        raise LocalRunRefused([str(p) for p in error.problems], problems=True) from None
    icon = None
    icon_path = app.path / manifest.icon
    if icon_path.is_file() and not icon_path.is_symlink():
        data = icon_path.read_bytes()
        digest = blake3_hex(data)
        icon = TargetFile(
            target=f"icons/{digest}.{manifest.id}.svg", blake3=digest, length=len(data)
        )
        artifacts[icon.name] = data
    images, app_pins = _images(source)
    pins.update(app_pins)
    return CatalogApp(
        version=manifest.version,
        revision=manifest.revision,
        manifest=manifest,
        manifest_blake3=manifest_blake3(manifest),
        units=units,
        images=images,
        icon=icon,
    )


def one_app_catalog(
    checked: CheckedApp,
    now: datetime,
    data_root: str = DEFAULT_DATA_ROOT,
    network: str = NETWORK_NAME,
) -> tuple[AppCatalog, dict[str, bytes]]:
    """A catalog of the app and the providers its requirements need (so a node accepts it),
    its units on ``network`` (a developer's registry passes its own)."""
    artifacts: dict[str, bytes] = {}
    pins: dict[str, ImagePin] = {}
    apps = {
        each.app_id: _catalog_app(each, data_root, artifacts, pins, network)
        for each in [checked.app, *checked.providers]
    }
    catalog = AppCatalog(
        schema=1,
        source=SourceInfo(
            repository=None,
            commit=LOCAL_COMMIT,
            committed_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            dirty=True,
        ),
        dev_build=True,
        apps=dict(sorted(apps.items())),
        images=dict(sorted(pins.items())),
        node=None,
    )
    return catalog, artifacts


def publish_one_app(
    checked: CheckedApp,
    repo_dir: Path,
    now: datetime,
    data_root: str = DEFAULT_DATA_ROOT,
) -> Path:
    """Sign and publish the one-app catalog (units for ``data_root``) into ``repo_dir``;
    return the root file a node should trust."""
    now = now.replace(microsecond=0)
    catalog, artifacts = one_app_catalog(checked, now, data_root)
    artifacts[CATALOG_NAME] = catalog.to_canonical()
    keys = {role: SigningKey.generate() for role in ("root", "targets", "online")}
    root = tuf.sign(
        tuf.new_root(
            now + timedelta(days=7),
            {
                "root": [keys["root"].public_key],
                "targets": [keys["targets"].public_key],
                "snapshot": [keys["online"].public_key],
                "timestamp": [keys["online"].public_key],
            },
        ),
        [keys["root"]],
    )
    targets = Targets(1, now + timedelta(days=7))
    for name, data in sorted(artifacts.items()):
        targets = tuf.add_target(targets, tuf.target_file(name, data))
    repo_dir.mkdir(parents=True, exist_ok=True)
    publish_targets(
        FileOrigin(repo_dir),
        [root],
        tuf.sign(targets, [keys["targets"]]),
        artifacts,
        keys["online"],
        now,
        snapshot_expiry=timedelta(days=7),
        timestamp_expiry=timedelta(days=7),
    )
    return repo_dir / "metadata" / "1.root.json"
