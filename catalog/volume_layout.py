"""Policy P021: the host dirs of an app's volumes sit side by side, never one inside another.

A container that mounts a dir holding another volume's dir could replace the inner
dir with a symlink and redirect the other mount, so no volume may be the data root,
an app's data dir itself, or hold (or lie inside) another volume's host dir.  Pure.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from catalog.manifest import Manifest
from catalog.problems import format_field_path
from catalog.runtime_names import (
    DEFAULT_DATA_ROOT,
    app_data_dir,
    normalise_path,
    path_is_within,
    volume_host_path,
)
from catalog.spec_problems import Location, ProblemCollector


def volume_host_sides(manifest: Manifest, data_root: str = DEFAULT_DATA_ROOT) -> list[VolumeHost]:
    """Every volume's normalised host dir and the field that decides it, in manifest order.

    A relative ``host_path`` (refused, P003) is left out: it names no dir yet.
    """
    found: list[VolumeHost] = []
    for i, member in enumerate(manifest.containers):
        for j, volume in enumerate(member.volumes):
            if volume.host_path is not None and not volume.host_path.startswith("/"):
                continue
            field = "name" if volume.host_path is None else "host_path"
            host = volume_host_path(manifest.id, volume.name, volume.host_path, data_root)
            found.append(VolumeHost(("containers", i, "volumes", j, field), host))
    return found


@dataclass(frozen=True)
class VolumeHost:
    """Where a volume's host dir is decided (the field) and which dir that is."""

    location: Location
    host: str


def check_volume_layout(manifest: Manifest, data_root: str, collect: ProblemCollector) -> None:
    """P021: no volume's host dir is a dir the node keeps, or holds another volume's dir.

    A container that mounts a dir holding another volume's host dir can replace
    that inner dir with a symlink; Podman follows it at the next start and the
    app writes wherever the link points.  So host dirs sit side by side: never
    the data root, never an app's data dir itself, never one inside another
    (the same dir for several volumes is fine: one dir, shared).
    """
    root = normalise_path(data_root)
    own = app_data_dir(manifest.id, root)
    volumes = volume_host_sides(manifest, root)
    refused: set[str] = set()
    for volume in volumes:
        if volume.host == own:
            message = (
                f"host path {volume.host} is the app's data dir itself, which holds the "
                "node's files for the app and every other volume; mount a sub-directory "
                "(leave host_path out: the volume name is the sub-directory)"
            )
        elif path_is_within(root, volume.host):
            message = (
                f"host path {volume.host} holds the data dir of every app ({root}); "
                "mount a sub-directory of the app's own data dir"
            )
        elif posixpath.dirname(volume.host) == root:
            message = (
                f"host path {volume.host} is the data dir of the app "
                f"{posixpath.basename(volume.host)!r}, not a volume of it; mount one of "
                "its volume dirs (read-only) if the permission is granted"
            )
        else:
            continue
        collect.add(volume.location, message, "P021")
        refused.add(volume.host)
    side_by_side = "give every volume a dir of its own, side by side in the app's data dir"
    for volume in volumes:
        for other in volumes:
            if other.host == volume.host or {volume.host, other.host} & refused:
                continue
            where = format_field_path(other.location)
            if path_is_within(other.host, volume.host):
                collect.add(
                    volume.location,
                    f"host path {volume.host} holds {other.host}, the host path of {where}: "
                    "this container could replace that dir with a symlink and redirect the "
                    f"other mount; {side_by_side}",
                    "P021",
                )
            elif path_is_within(volume.host, other.host):
                collect.add(
                    volume.location,
                    f"host path {volume.host} lies inside {other.host}, the host path of "
                    f"{where}, whose container could replace it with a symlink; {side_by_side}",
                    "P021",
                )
