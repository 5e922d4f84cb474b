"""Mapping Compose volumes: bind mounts into the app's data dir, named volumes, host paths.

A host path inside the store's data dir becomes a volume of the app's own data dir;
any other host path is kept as it is (policy judges it) and a provider's data is
asked for as a permission, never granted here.  Time files are dropped with a note.
"""

from __future__ import annotations

from typing import Any

from pipeline.hostpaths import canonical, is_within
from pipeline.importer.compose import Service
from pipeline.importer.compose_values import VolumeSpec
from pipeline.importer.mapper_base import MapperBase, safe_name
from pipeline.importer.reasons import refuse

TIME_FILES = ("/etc/localtime", "/etc/timezone")


class VolumeMapping(MapperBase):
    """The volume steps of :class:`~pipeline.importer.mapping.Mapper`."""

    def volume(
        self, spec: VolumeSpec, service: Service, path: str, used: set[str]
    ) -> dict[str, Any] | None:
        where = f"{service.name}: volume {spec.target}"
        if spec.kind == "tmpfs":
            self.say(
                "I004",
                f"{where}: tmpfs has no equivalent; dropped (the path is part of the "
                "container's own file system)",
                "warning",
                spec.line,
            )
            return None
        if spec.kind not in ("bind", "volume"):
            raise refuse(
                "I005", f"{where}: volume type {spec.kind!r} is not supported", self.file, spec.line
            )
        volume: dict[str, Any] = {"path": spec.target}
        if spec.kind == "volume":
            base = spec.source or spec.target.strip("/").replace("/", "-") or "data"
            name = safe_name(base)
            self.note_named_volume(spec, where)
        else:
            source = spec.source or ""
            if source.startswith((".", "~")) or not source.startswith("/"):
                relative = source.removeprefix("./").strip("/")
                self.say(
                    "I012",
                    f"{where}: mounts {source} from the app's own folder; here it is "
                    "an empty directory in the data dir: ship its content in a companion image "
                    "or create it in a hook",
                    "warning",
                    spec.line,
                )
                name = safe_name(relative or "data")
            else:
                host = canonical(source)
                inside = self.inside_data_dir(host)
                if host in TIME_FILES:
                    self.say(
                        "I004",
                        f"{where}: the host's {host} is not mounted; set TZ instead",
                        "warning",
                        spec.line,
                    )
                    return None
                if inside is not None:
                    name = safe_name(inside.replace("/", "-") or "data")
                    if inside != name:
                        # Each volume is one sub-directory of the data dir: a nested path or
                        # the data dir itself would let one mount reach another's (P021).
                        self.say(
                            "I015",
                            f"{where}: {source} becomes the data dir's sub-directory {name!r} "
                            "(volumes are side by side, never nested or the data dir itself); "
                            "move existing data there",
                            "warning",
                            spec.line,
                        )
                    self.check_seeded(inside, where, spec.line)
                else:
                    name = safe_name(spec.target.rstrip("/").rsplit("/", 1)[-1] or "root")
                    volume["host_path"] = host
                    self.provider_permission(host, where, spec)
        unique, suffix = name, 2
        while unique in used:
            unique, suffix = f"{name}-{suffix}", suffix + 1
        used.add(unique)
        volume = {"name": unique, **volume}
        if spec.read_only:
            volume["read_only"] = True
        self.origin(path, spec.line)
        return volume

    def note_named_volume(self, spec: VolumeSpec, where: str) -> None:
        definitions = self.project.top_level.get("volumes")
        if spec.source and isinstance(definitions, dict):
            definition = definitions.get(spec.source)
            if isinstance(definition, dict) and (
                definition.get("driver")
                or definition.get("external")
                or definition.get("driver_opts")
            ):
                self.say(
                    "I004",
                    f"{where}: named volume {spec.source!r} sets a driver or is "
                    "external; here it is a directory in the app's data dir",
                    "warning",
                    self.project.top_lines.get("volumes"),
                )

    def inside_data_dir(self, host: str) -> str | None:
        """The part of ``host`` below the app's data dir (or the store's name for it), or None."""
        for home in (self.home, *self.source.data_dir_aliases):
            home = canonical(home)
            if is_within(host, home):
                return host[len(home) :].strip("/")
        return None

    def check_seeded(self, inside: str, where: str, line: int | None) -> None:
        if self.source.store != "umbrel" or not inside:
            return
        shipped = self.source.folder / inside
        if shipped.exists() and not shipped.is_symlink():
            self.say(
                "I012",
                f"{where}: Umbrel seeds {inside} from the app folder; the node "
                "starts with it empty (ship it in a companion image or a hook)",
                "warning",
                line,
            )

    def provider_permission(self, host: str, where: str, spec: VolumeSpec) -> None:
        for name in self.source.variables.used:
            variable = self.source.variables.platform[name]
            if variable.provider_path and is_within(host, canonical(variable.value)):
                self.permissions.setdefault("host_paths", [])
                if host not in self.permissions["host_paths"]:
                    self.permissions["host_paths"].append(host)
                self.origin("permissions.host_paths", spec.line)
                self.say("I009", f"{where}: {variable.attention}", "warning", spec.line)
                if not spec.read_only:
                    self.say(
                        "I009",
                        f"{where}: another app's data is mounted writable; make it "
                        "read-only unless the app must write there",
                        "warning",
                        spec.line,
                    )
                return
