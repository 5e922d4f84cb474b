"""Which apps get an onion service, and the tor app's services.torrc for them (pure)."""

from __future__ import annotations

from typing import Any

from catalog.manifest import Manifest
from node_runtime.plan.onion_services import (
    onion_requests,
    render_services_torrc,
    valid_onion_hostname,
)
from tests.support.catalogs import simple_manifest

ONION = "a" * 52 + "2345.onion"


def with_ports(app_id: str, *ports: dict[str, Any]) -> Manifest:
    document = simple_manifest(app_id).to_document()
    document["containers"][0]["ports"] = list(ports)
    return Manifest.model_validate(document)


def test_only_tcp_ports_with_expose_tor_ask_for_a_service_one_per_app_in_id_order() -> None:
    apps = [
        with_ports("zeta", {"container": 80, "host": 18081, "expose": "tor"}),
        with_ports("alpha", {"container": 8080, "host": 18080, "expose": "tor"},
                   {"container": 9000, "host": 19000, "expose": "lan"},
                   {"container": 53, "host": 10053, "protocol": "udp", "expose": "tor"}),
        with_ports("plain", {"container": 8080, "host": 18082}),
    ]  # fmt: skip
    requests = onion_requests(apps)
    assert [r.app_id for r in requests] == ["alpha", "zeta"]
    assert [(p.virtual_port, p.member, p.container_port) for p in requests[0].ports] == [
        (18080, "alpha", 8080)
    ]


def test_the_file_names_one_service_dir_per_app_and_targets_each_members_address() -> None:
    requests = onion_requests([
        with_ports("alpha", {"container": 8080, "host": 18080, "expose": "tor"}),
        with_ports("beta", {"container": 3000, "host": 13000, "expose": "tor"}),
    ])  # fmt: skip
    text = render_services_torrc(requests, {"alpha": "10.89.0.5", "beta": "fd00::7"})
    assert text.splitlines()[2:] == [
        "HiddenServiceDir /var/lib/tor/onion-alpha",
        "HiddenServicePort 18080 10.89.0.5:8080",
        "HiddenServiceDir /var/lib/tor/onion-beta",
        "HiddenServicePort 13000 [fd00::7]:3000",
    ]


def test_an_app_without_an_address_or_with_a_hostile_one_is_left_out_whole() -> None:
    requests = onion_requests([
        with_ports("alpha", {"container": 8080, "host": 18080, "expose": "tor"}),
        with_ports("beta", {"container": 3000, "host": 13000, "expose": "tor"}),
    ])  # fmt: skip
    text = render_services_torrc(requests, {"beta": "10.0.0.1\nHiddenServiceDir /etc"})
    assert "HiddenService" not in text
    assert text.startswith("# Written by archy-node")


def test_only_a_v3_onion_name_is_read_back() -> None:
    assert valid_onion_hostname(ONION + "\n") == ONION
    for junk in ("", "example.org", "a" * 56 + ".onion.evil", "A" * 56 + ".onion", "secret"):
        assert valid_onion_hostname(junk) is None


def test_a_v3_name_may_use_every_base32_character() -> None:
    every = "abcdefghijklmnopqrstuvwxyz234567" + "a" * 24 + ".onion"
    assert valid_onion_hostname(every) == every


def test_a_port_whose_member_has_no_address_is_left_out_and_the_next_port_kept() -> None:
    document = simple_manifest("alpha").to_document()
    first = {**document["containers"][0], "name": "alpha-a"}
    second = {**document["containers"][0], "name": "alpha-b"}
    first["ports"] = [{"container": 8080, "host": 18080, "expose": "tor"}]
    second["ports"] = [{"container": 9090, "host": 19090, "expose": "tor"}]
    document["containers"] = [first, second]
    if document.get("ui"):
        document["ui"] = {**document["ui"], "container": "alpha-b"}
    requests = onion_requests([Manifest.model_validate(document)])
    text = render_services_torrc(requests, {"alpha-b": "10.89.0.9"})
    assert text.splitlines()[2:] == [
        "HiddenServiceDir /var/lib/tor/onion-alpha",
        "HiddenServicePort 19090 10.89.0.9:9090",
    ]
