"""The node's unit check: each unit or manifest the renderer would not have produced is
refused with one line naming the unit (or member) and the entry, and what it would have
produced passes, on the node's own data root too."""

from __future__ import annotations

from typing import Any

from catalog.manifest import Manifest
from catalog.unit_check import check_app_units, sandbox_problems, unit_header, unit_owner
from pipeline.render import render_app
from tests.support.app_manifests import manifest, manifest_document, with_changes

DEFAULT = "/var/lib/archipelago"
WEB = "archy-demo_web.container"
DB = "archy-demo_db.container"
NOT_ASKED = "not what the app's manifest asks for"


def _app(**top: Any) -> Manifest:
    return with_changes(
        manifest_document(
            db={"volumes": [{"name": "pg", "path": "/pg"}], "data_uid": 999},
            web={"command": ["httpd"], "depends_on": ["db"]},
        ),
        **top,
    )


def _edit(units: dict[str, str], name: str, old: str, new: str) -> dict[str, str]:
    assert old in units[name]
    return {**units, name: units[name].replace(old, new, 1)}


def test_a_units_first_line_names_its_app_and_nothing_else_does() -> None:
    assert unit_owner(unit_header("notes")) == "notes"
    assert unit_owner(unit_header("")) is None
    assert unit_owner("# Rendered by the Archipelago registry from the manifest of notes") is None
    assert unit_owner("# notes; do not edit.") is None
    no_end = unit_header("notes").removesuffix("; do not edit.") + "-and-a-longer-tail-than-the-end"
    assert unit_owner(no_end) is None


def test_what_the_manifest_asks_against_the_policy_is_named_member_by_member() -> None:
    members = {
        "a": {"privileged": True, "host_network": True,
              "cap_add": ["CAP_CHOWN", "SYS_ADMIN", "NET_ADMIN"],
              "devices": ["/dev/dri", "/dev/fuse"]},
        "b": {"volumes": [
            {"name": "own", "path": "/own"},
            {"name": "m", "path": "/m", "host_path": "/mnt/media"},
            {"name": "g", "path": "/g", "host_path": "/mnt/granted", "read_only": True},
            {"name": "n", "path": "/n", "host_path": "/srv/nodeX/other/d", "read_only": True},
            {"name": "w", "path": "/w", "host_path": f"{DEFAULT}/other/d"},
            {"name": "s", "path": "/s", "host_path": "/srv/node/demo/d"},
            {"name": "r", "path": "/r", "host_path": "/", "read_only": True},
        ]},
    }  # fmt: skip
    permissions = {"devices": ["/dev/dri"], "host_paths": [
        "/mnt/granted/", "/srv/nodeX/other/d", f"{DEFAULT}/other/d", "/"]}  # fmt: skip
    app = with_changes(manifest_document(**members), permissions=permissions)
    assert sandbox_problems(app, [DEFAULT, "/srv/node"]) == [
        "member a asks to run privileged",
        "member a asks for the host network without permissions.host_network",
        "member a adds capability SYS_ADMIN, which the policy forbids",
        "member a adds capability NET_ADMIN, which the policy forbids",
        "member a asks for device /dev/fuse, not in permissions.devices",
        "member b mounts /mnt/media, outside the app's data dir and not granted in "
        "permissions.host_paths",
        "member b mounts /mnt/granted, outside the node's data root",
        "member b mounts /srv/nodeX/other/d, outside the node's data root",
        f"member b mounts another app's data {DEFAULT}/other/d writable (only read-only)",
        "member b mounts /, outside the node's data root",
    ]
    granted = {"host_network": True, "net_admin": True}
    allowed = with_changes(
        manifest_document(a={"host_network": True, "cap_add": ["NET_ADMIN", "SYS_ADMIN"]}),
        permissions=granted,
    )
    assert sandbox_problems(allowed, [DEFAULT]) == [
        "member a adds capability SYS_ADMIN, which the policy forbids"
    ]
    # a root written with a trailing '/' or ending in the letter X is a root as written
    roots = {"/srv/node/": "/srv/node/other/d", "/srv/rootX": "/srv/root/other/d"}
    volumes = [{"name": f"v{i}", "path": f"/v{i}", "host_path": host, "read_only": True}
               for i, host in enumerate([*roots.values(), "/mnt/other"])]  # fmt: skip
    mounts = with_changes(manifest_document(a={"volumes": volumes}),
                          permissions={"host_paths": [*roots.values(), "/mnt/otherX"]})  # fmt: skip
    assert sandbox_problems(mounts, [DEFAULT, "/srv/node/"]) == [
        "member a mounts /srv/root/other/d, outside the node's data root",
        "member a mounts /mnt/other, outside the app's data dir and not granted in "
        "permissions.host_paths",
    ]
    assert sandbox_problems(mounts, [DEFAULT, "/srv/rootX"]) == [
        "member a mounts /srv/node/other/d, outside the node's data root",
        "member a mounts /srv/root/other/d, outside the node's data root",
        "member a mounts /mnt/other, outside the app's data dir and not granted in "
        "permissions.host_paths",
    ]


def test_a_host_network_member_passes_with_network_host() -> None:
    app = with_changes(manifest_document(web={"host_network": True}),
                       permissions={"host_network": True})  # fmt: skip
    units = render_app(app)
    assert "\nNetwork=host\n" in units[WEB]
    assert check_app_units(app, units, data_root=DEFAULT) == []


def test_the_catalogs_pinned_image_passes_once_and_nothing_else_stands_in() -> None:
    app = _app()
    units = render_app(app)
    image = app.containers[0].image
    pinned = "localhost/archy-test-busybox@sha256:" + "ab" * 32
    with_pin = _edit(units, DB, f"Image={image}\n", f"Image={pinned}\n")
    assert check_app_units(app, with_pin, data_root=DEFAULT, images=[pinned]) == []
    assert check_app_units(app, with_pin, data_root=DEFAULT) == [
        f"unit {DB}: [Container] Image={pinned}: {NOT_ASKED}",
        f"unit {DB}: [Container] Image={image} is missing",
    ]
    evil = _edit(units, DB, f"Image={image}\n", "Image=evil/image:1\n")
    assert check_app_units(app, evil, data_root=DEFAULT, images=[pinned]) == [
        f"unit {DB}: [Container] Image=evil/image:1: {NOT_ASKED}",
        f"unit {DB}: [Container] Image={image} is missing",
    ]
    twice = _edit(units, DB, f"Image={image}\n", f"Image={pinned}\nImage={pinned}\n")
    assert check_app_units(app, twice, data_root=DEFAULT, images=[pinned]) == [
        f"unit {DB}: [Container] Image={image}: {NOT_ASKED}"
    ]


def test_each_foreign_or_repeated_entry_is_one_line() -> None:
    app = _app()
    units = render_app(app)
    long = "X=" + "v" * 130  # values of 120 characters are shown whole, longer ones cut
    edited = _edit(units, WEB, "NoNewPrivileges=true\n",
                   "NoNewPrivileges=true\nNoNewPrivileges=true\n"
                   f'Environment="{long}"\nEnvironment="{long[:118]}"\n'
                   f'Environment="{long[:119]}"\n')  # fmt: skip
    edited = {**edited, WEB: edited[WEB] + "[X-Evil]\nFoo=bar\n[Service]\nTimeoutStartSec=1h\n"}
    assert check_app_units(app, edited, data_root=DEFAULT) == [
        f"unit {WEB}: [X-Evil] Foo=bar: a key the renderer never writes",
        f"unit {WEB}: [Service] TimeoutStartSec=1h: not a whole number of seconds",
        f'unit {WEB}: [Container] Environment="{long[:118]}": {NOT_ASKED}',
        f'unit {WEB}: [Container] Environment="{long[:116]}...: {NOT_ASKED}',
        f'unit {WEB}: [Container] Environment="{long[:116]}...: {NOT_ASKED}',
        f"unit {WEB}: [Container] NoNewPrivileges=true: {NOT_ASKED}",
    ]


def test_the_problems_of_the_catalogs_default_root_are_shown_when_both_roots_tie() -> None:
    app = _app()
    units = render_app(app)
    volume = next(line for line in units[DB].splitlines() if line.startswith("Volume="))
    label = next(line for line in units[DB].splitlines() if "archy.config-hash" in line)
    bare = _edit(_edit(units, DB, f"{volume}\n", ""), DB, f"{label}\n", "")
    assert check_app_units(app, bare, data_root="/srv/node") == [
        f"unit {DB}: [Container] {label} is missing",
        f"unit {DB}: [Container] {volume} is missing",
    ]


def test_every_member_is_checked_when_an_earlier_ones_unit_is_missing() -> None:
    app = _app()
    units = render_app(app)
    del units[DB]
    tampered = _edit(units, WEB, "[Container]\n", '[Container]\nPodmanArgs="--privileged"\n')
    assert check_app_units(app, tampered, data_root=DEFAULT) == [
        f"unit {DB} is missing",
        f'unit {WEB}: [Container] PodmanArgs="--privileged": {NOT_ASKED}',
    ]


def test_a_unit_our_parser_and_systemd_could_read_differently_is_refused() -> None:
    app = manifest(web={})
    units = render_app(app)
    assert check_app_units(
        app,
        _edit(units, WEB, "NoNewPrivileges=true\n", "NoNewPrivileges=true\rPodmanArgs=x\n"),
        data_root=DEFAULT,
    ) == [f"unit {WEB}: line 12 continues a line (the renderer never does)"]
    assert check_app_units(
        app, _edit(units, WEB, "[Service]\n", "[Service]\noops\n"), data_root=DEFAULT
    ) == [f"unit {WEB}: line 18: 'oops' is not Key=value"]
    assert check_app_units(
        app, _edit(units, WEB, "[Service]\n", " [Service]\n"), data_root=DEFAULT
    ) == [f"unit {WEB}: line 17 has leading or trailing whitespace"]
    network = "archy-net.network"
    assert check_app_units(
        app, {**units, network: "# mine\n" + units[network]}, data_root=DEFAULT
    ) == [
        f"unit {network}: its first line is not the renderer's header '# Rendered by the "
        "Archipelago registry; shared by every app; do not edit.'"
    ]
