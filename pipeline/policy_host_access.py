"""The per-app rules about what of the host an app may reach: P002, P003, P012, P013.

Nothing that controls the container engine or the service manager is ever mounted
(P002, not even with permissions); host paths stay in the app's data dir unless
granted exactly, and ``..`` appears nowhere (P003); devices only when listed (P012);
hooks act on the app's own members and copy only from allowlisted host dirs (P013).
Pure: each check yields problems for one parsed manifest.
"""

from __future__ import annotations

from collections.abc import Iterator

from catalog.loader import Location, ManifestSource
from catalog.problems import Problem
from pipeline.hostpaths import (
    HOOK_SOURCE_ROOTS,
    canonical,
    data_dir,
    engine_location,
    has_parent_reference,
    host_side,
    is_strictly_within,
    is_within,
)


def check_engine_mounts(app: ManifestSource) -> Iterator[Problem]:
    """P002: nothing that controls the container engine or the service manager, ever."""
    app_id = app.manifest.id
    for i, member in enumerate(app.manifest.containers):
        for j, volume in enumerate(member.volumes):
            location: Location = ("containers", i, "volumes", j)
            if volume.host_path is not None:
                found = engine_location(host_side(volume.host_path, app_id), containing=True)
                if found is not None:
                    yield app.problem(
                        (*location, "host_path"),
                        f"mounts {found}: control of the host's containers; refused even "
                        "with permissions, so remove this volume",
                        "P002",
                    )
            found = engine_location(volume.path, containing=False)
            if found is not None:
                yield app.problem(
                    (*location, "path"),
                    f"{volume.path} is where software looks for {found}; mount the volume "
                    "somewhere else",
                    "P002",
                )
    for k, host_path in enumerate(app.manifest.permissions.host_paths):
        found = engine_location(host_path, containing=True)
        if found is not None:
            yield app.problem(
                ("permissions", "host_paths", k),
                f"asks for {found}: control of the host's containers; this permission is "
                "never granted, so remove it",
                "P002",
            )


def check_host_paths(app: ManifestSource) -> Iterator[Problem]:
    """P003: host paths stay in the data dir unless listed exactly; '..' nowhere."""
    manifest = app.manifest
    home = data_dir(manifest.id)
    granted = {canonical(path) for path in manifest.permissions.host_paths}

    def parent_reference(location: Location, what: str) -> Problem:
        return app.problem(
            location,
            f"'..' is not allowed in {what}; write the path without it",
            "P003",
        )

    for i, member in enumerate(manifest.containers):
        for j, volume in enumerate(member.volumes):
            location: Location = ("containers", i, "volumes", j)
            if has_parent_reference(volume.path):
                yield parent_reference((*location, "path"), "volume paths")
            if volume.host_path is None or not volume.host_path.startswith("/"):
                continue  # a relative host_path is refused by the runtime spec (P003)
            if has_parent_reference(volume.host_path):
                yield parent_reference((*location, "host_path"), "host paths")
                continue
            resolved = host_side(volume.host_path, manifest.id)
            if not is_within(resolved, home) and resolved not in granted:
                yield app.problem(
                    (*location, "host_path"),
                    f"host path {resolved} is outside the app's data dir {home}/; use a path "
                    f"relative to the data dir (e.g. host_path: {volume.name}), or list "
                    f"{resolved} in permissions.host_paths for review",
                    "P003",
                )
        if member.build is not None and has_parent_reference(member.build.context):
            yield parent_reference(
                ("containers", i, "build", "context"), "build contexts (stay in the app folder)"
            )
    for k, host_path in enumerate(manifest.permissions.host_paths):
        if has_parent_reference(host_path):
            yield parent_reference(("permissions", "host_paths", k), "host paths")
    for phase, steps in (
        ("post_install", manifest.hooks.post_install),
        ("pre_start", manifest.hooks.pre_start),
    ):
        for k, step in enumerate(steps):
            if step.copy_from_host is not None and has_parent_reference(
                step.copy_from_host.destination
            ):
                yield parent_reference(
                    ("hooks", phase, k, "copy_from_host", "destination"), "hook paths"
                )
    for k, path in enumerate(manifest.migration.preserve):
        if has_parent_reference(path):
            yield parent_reference(
                ("migration", "preserve", k), "preserved paths (they are inside the data dir)"
            )


def check_devices(app: ManifestSource) -> Iterator[Problem]:
    """P012: devices only as listed in permissions.devices; paths stay in /dev."""
    granted = app.manifest.permissions.devices
    for k, device in enumerate(granted):
        if has_parent_reference(device):
            yield app.problem(
                ("permissions", "devices", k),
                "'..' is not allowed in device paths; name the device under /dev directly",
                "P012",
            )
    allowed = {canonical(device) for device in granted if not has_parent_reference(device)}
    for i, member in enumerate(app.manifest.containers):
        for k, device in enumerate(member.devices):
            location: Location = ("containers", i, "devices", k)
            if has_parent_reference(device):
                yield app.problem(
                    location,
                    "'..' is not allowed in device paths; name the device under /dev directly",
                    "P012",
                )
            elif canonical(device) not in allowed:
                yield app.problem(
                    location,
                    f"device {device} needs a reviewed permission; list it under "
                    "permissions.devices",
                    "P012",
                )


def check_hooks(app: ManifestSource) -> Iterator[Problem]:
    """P013: hooks act on this app's members and copy only from allowlisted host dirs."""
    manifest = app.manifest
    names = sorted(member.name for member in manifest.containers)
    roots = ", ".join(f"{root}/" for root in HOOK_SOURCE_ROOTS)
    for phase, steps in (
        ("post_install", manifest.hooks.post_install),
        ("pre_start", manifest.hooks.pre_start),
    ):
        for k, step in enumerate(steps):
            location: Location = ("hooks", phase, k)
            kind = "exec" if step.exec is not None else "copy_from_host"
            target = step.exec or step.copy_from_host
            assert target is not None  # the model guarantees exactly one kind
            if target.container not in names:
                yield app.problem(
                    (*location, kind, "container"),
                    f"{target.container!r} is not a member of this app; hooks run only in the "
                    f"app's own containers: {', '.join(names)}",
                    "P013",
                )
            if step.copy_from_host is None:
                continue
            source = step.copy_from_host.source
            if has_parent_reference(source):
                message = f"'..' is not allowed in hook sources; name a file under {roots}"
            elif not any(is_strictly_within(canonical(source), root) for root in HOOK_SOURCE_ROOTS):
                message = f"hooks may copy only from below {roots}; ship the file there"
            else:
                continue
            yield app.problem((*location, "copy_from_host", "source"), message, "P013")
