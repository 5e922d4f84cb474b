"""An installed app the node can run: its catalog entry checked, its manifest pinned,
its members in start order; and the names, dirs and images it derives.

:func:`desired_app` is where the node checks a catalog's units: they must be
exactly what the renderer writes for the embedded manifest
(``catalog.unit_check``), else the app is refused with :class:`UnitsRefused`.  Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from catalog.app_network import app_network
from catalog.catalog_model import CatalogApp
from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.runtime_names import app_data_dir
from catalog.runtime_spec import app_runtime_specs, start_order
from catalog.secret_homes import secret_homes
from catalog.spec_problems import RuntimeSpecError, SpecProblem
from catalog.unit_check import check_app_units, container_unit_file
from catalog.unit_data_root import units_for_data_root


@dataclass(frozen=True)
class DesiredApp:
    """An installed app the node can run: its catalog entry, pinned manifest and specs."""

    app_id: str
    app: CatalogApp
    manifest: Manifest
    specs: tuple[MemberSpec, ...]
    units: tuple[tuple[str, str], ...] = ()
    """The catalog's units for this node's data root (``catalog.unit_data_root``), sorted."""

    @property
    def version_text(self) -> str:
        return f"{self.app.version}-r{self.app.revision}"


class UnitsRefused(RuntimeSpecError):
    """The catalog's units for an app are not what the renderer writes for its manifest."""

    def __init__(self, app_id: str, problems: Sequence[str]) -> None:
        super().__init__([SpecProblem(("units",), problem) for problem in problems])
        shown = "; ".join(problems[:3]) + (
            f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        self.message = f"its units are refused (not what the renderer writes for {app_id}): {shown}"

    def __str__(self) -> str:
        return self.message


def desired_app(app: CatalogApp, data_root: str) -> DesiredApp:
    """Raises RuntimeSpecError when no engine can run the manifest, UnitsRefused (one)
    when the catalog's units are not what the renderer writes for it (catalog.unit_check)
    on its registry's network (``catalog.app_network``)."""
    network = app_network(app)
    images = [image.pinned_reference for image in app.images]
    problems = check_app_units(
        app.manifest, app.units, data_root=data_root, images=images, network=network
    )
    if problems:
        raise UnitsRefused(app.manifest.id, problems)
    manifest = app.pinned_manifest()
    specs = start_order(app_runtime_specs(manifest, data_root, network))
    units = units_for_data_root(app.manifest, app.units, data_root, network)
    moved_problems = check_app_units(
        app.manifest, units, data_root=data_root, images=images, network=network
    )
    if moved_problems:  # never expected: the rewrite is derived from the same specs
        raise UnitsRefused(app.manifest.id, moved_problems)
    return DesiredApp(app.manifest.id, app, manifest, tuple(specs), tuple(sorted(units.items())))


def derived_names(desired: DesiredApp) -> set[tuple[str, str]]:
    """(kind, name) of everything the node names after the app: unit files, containers,
    Podman secrets.  Two apps must never share one (the node would hand one app's
    secret or unit to the other)."""
    app_id = desired.app_id
    names = {("unit", container_unit_file(app_id, spec.name)) for spec in desired.specs}
    names |= {("container", spec.name) for spec in desired.specs}
    # A capability alias answers like a container name on the network (P025 across the catalog).
    names |= {("container", alias) for spec in desired.specs for alias in spec.network_aliases}
    # A capability's exported secret is shared by design (one per node, P026 keeps one
    # provider installed); only the app's own secrets are names it alone may hold.
    names |= {
        ("podman secret", home.podman_name)
        for home in secret_homes(desired.manifest)
        if not home.exported
    }
    return names


def app_data_dirs(desired: DesiredApp, data_root: str) -> list[tuple[str, int | None]]:
    """(path, container uid that owns it) for the app dir and every volume dir under it."""
    app_dir = app_data_dir(desired.app_id, data_root)
    dirs: dict[str, int | None] = {app_dir: None}
    for spec in desired.specs:
        for mount in spec.mounts:
            if mount.host_path.startswith(app_dir + "/"):
                dirs.setdefault(mount.host_path, spec.data_uid)
    return sorted(dirs.items())
