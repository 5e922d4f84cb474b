"""How a cross-app problem points at the other app: its file and line, values as in YAML.

A problem lands in the file that has to change and names the other app with
``'id' (apps/id/manifest.yml:LINE)``, so the author knows whom the clash is with.
Pure string helpers over parsed manifests.
"""

from __future__ import annotations

import json

from catalog.loader import Location, ManifestSource
from catalog.manifest import Port
from catalog.manifest_fields import SettingValue


def port_location(member_index: int, port_index: int, port: Port) -> Location:
    """The field that sets a port's host side: ``host`` when given, else ``container``."""
    field = "host" if port.host is not None else "container"
    return ("containers", member_index, "ports", port_index, field)


def place(source: ManifestSource, location: Location) -> str:
    """``apps/bitcoin-knots/manifest.yml:25``, for messages."""
    line = source.line_of(*location)
    return source.filename if line is None else f"{source.filename}:{line}"


def where(source: ManifestSource, location: Location) -> str:
    """``'bitcoin-knots' (apps/bitcoin-knots/manifest.yml:25)``, for messages."""
    return f"{source.manifest.id!r} ({place(source, location)})"


def setting_text(value: SettingValue) -> str:
    """A setting value as it is written in YAML: true, 0, "full"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)
