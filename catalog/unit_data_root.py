"""The catalog's units, moved to a node's data root: ``Volume=`` host sides and the labels.

CI renders units for the default data root (``/var/lib/archipelago``).  A node set up
with another one (``archy-node init --data-root /srv/x``) must mount ``/srv/x/<app>/…``:
a drop-in cannot do that (Quadlet's ``Volume=`` only adds mounts), so the node rewrites
exactly the ``Volume=`` and ``Label=`` lines (the config hash covers the mounts) the
renderer wrote from the default root's specs into the lines it writes from the node's
(``catalog.runtime_spec``, the one place both read), member by member, mount by mount.
Every other byte stays the catalog's, and ``catalog.unit_check`` accepts the result for
the node's root as it accepted the catalog's.  Pure: text in, text out.
"""

from __future__ import annotations

from collections.abc import Mapping

from catalog.manifest import Manifest
from catalog.runtime_names import DEFAULT_DATA_ROOT, NETWORK_NAME, member_unit_name
from catalog.runtime_spec import app_runtime_specs
from catalog.systemd_syntax import quote_word, raw_value


def units_for_data_root(
    manifest: Manifest, units: Mapping[str, str], data_root: str, network: str = NETWORK_NAME
) -> dict[str, str]:
    """``units`` with each member's ``Volume=`` lines for ``data_root`` instead of the default.

    A unit line that is not exactly the default root's line for that mount is left as it
    is (a catalog rendered for another root stays what the unit check accepted).
    """
    if data_root == DEFAULT_DATA_ROOT:
        return dict(units)
    default_specs = app_runtime_specs(manifest, DEFAULT_DATA_ROOT, network)
    node_specs = app_runtime_specs(manifest, data_root, network)
    moved = dict(units)
    for default, node in zip(default_specs, node_specs, strict=True):
        name = f"{member_unit_name(manifest.id, default.name)}.container"
        if name not in moved:
            continue
        lines = {
            f"Volume={raw_value(old.volume_argument)}": f"Volume={raw_value(new.volume_argument)}"
            for old, new in zip(default.mounts, node.mounts, strict=True)
        }
        lines.update(
            (f"Label={quote_word(f'{n}={v}')}", f"Label={quote_word(f'{m}={w}')}")
            for (n, v), (m, w) in zip(default.labels, node.labels, strict=True)
        )
        moved[name] = "".join(
            lines.get(line.rstrip("\n"), line.rstrip("\n")) + ("\n" if line.endswith("\n") else "")
            for line in moved[name].splitlines(keepends=True)
        )
    return moved
