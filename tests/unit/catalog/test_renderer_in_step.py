"""The node's unit allowlist (catalog.unit_check) accepts everything the renderer writes.

Every app in apps/, rendered for the default data root and for another one, and a
manifest that uses every key the template can write, must pass; each key the template
holds must be in the allowlist.  This is what keeps the node's check and the renderer
in step: a new key in the template fails here until the allowlist learns it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.systemd_syntax import parse_unit
from catalog.unit_check import (
    ALLOWED_CAPABILITIES,
    ALLOWED_KEYS,
    NET_ADMIN_CAPABILITIES,
    check_app_units,
)
from pipeline import policy
from pipeline.appset import find_app_folders, load_app_folder
from pipeline.render import render_app
from tests.realparts import REPO_ROOT
from tests.support.app_manifests import manifest

APP_FOLDERS = find_app_folders([REPO_ROOT / "apps"])
TEMPLATE = REPO_ROOT / "pipeline/templates/member.container.j2"


@pytest.mark.parametrize("folder", APP_FOLDERS, ids=[f.name for f in APP_FOLDERS])
@pytest.mark.parametrize("data_root", ["/var/lib/archipelago", "/srv/node-data"])
def test_every_app_in_the_app_set_passes_the_nodes_unit_check(folder: Path, data_root: str) -> None:
    model = load_app_folder(folder).source.manifest
    units = render_app(model, data_root)
    assert check_app_units(model, units, data_root=data_root) == []
    # units rendered for the catalog's default root pass on a node with another root
    assert check_app_units(model, render_app(model), data_root=data_root) == []


def test_a_member_using_every_template_key_passes() -> None:
    model = manifest(
        db={"volumes": [{"name": "db", "path": "/var/lib/db"}], "data_uid": 999},
        web={
            "entrypoint": ["/bin/sh", "-c"],
            "command": ["httpd -f %s $HOME", "x y"],
            "env": {"A": "1 2", "PW": {"secret": "db-password"}},
            "ports": [{"container": 80, "host": 18080}],
            "volumes": [{"name": "db", "path": "/db", "read_only": True}],
            "depends_on": ["db"],
            "user": "1000:1000",
            "read_only_rootfs": True,
            "cap_add": ["NET_BIND_SERVICE", "CHOWN"],
            "resources": {"memory": "256m", "cpus": "0.5", "pids": 100},
            "health": {"http": {"port": 80, "path": "/"}},
        },
    )
    units = render_app(model)
    keys = {key for text in units.values() for _, key, in
            [(e.section, e.key) for e in parse_unit(text)]}  # fmt: skip
    assert {"PodmanArgs", "AddCapability", "Entrypoint", "HealthCmd", "Requires"} <= keys
    assert check_app_units(model, units, data_root="/var/lib/archipelago") == []


def test_every_key_of_the_member_template_is_in_the_allowlist() -> None:
    section = ""
    written: set[tuple[str, str]] = set()
    for line in TEMPLATE.read_text().splitlines():
        if match := re.fullmatch(r"\[(\w+)\]", line):
            section = match.group(1)
        elif match := re.fullmatch(r"([A-Za-z]+)=.*", line):
            written.add((section, match.group(1)))
    allowed = {(s, k) for s, keys in ALLOWED_KEYS.items() for k in keys}
    assert written == allowed


def test_the_nodes_capability_allowlist_is_the_policys() -> None:
    """One rule in one place: the policy and the node read the same sets."""
    assert policy.ALLOWED_CAPABILITIES is ALLOWED_CAPABILITIES
    assert policy.NET_ADMIN_CAPABILITIES is NET_ADMIN_CAPABILITIES
    assert "SYS_ADMIN" not in ALLOWED_CAPABILITIES | NET_ADMIN_CAPABILITIES
