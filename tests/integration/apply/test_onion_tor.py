"""Onion services with a real tor (Debian's ``tor``) that never reaches the network.

Tor runs inside ``unshare -n -m``: a network namespace with loopback only, and a private
mount namespace where the node's tor data dir is bind-mounted at ``/var/lib/tor`` (the
path the tor app's container sees), with ``DisableNetwork 1``.  Even so, tor makes each
service's keys and its ``hostname`` file, which is what the node reads back.

No tor image can be had here, so tor runs as a process: :class:`PodmanStandIn` stands in
for podman in front of it (named as such): ``inspect`` answers each member's address,
``kill --signal HUP tor`` sends SIGHUP to the real tor, ``unshare rm|mv`` run directly
(the test runs as root).  The node code under test is the real one:
``node_runtime.apply.onion_sync`` and ``PodmanEngine`` for the purge.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from catalog.manifest import Manifest
from node_runtime.apply.onion_sync import (
    keys_dir,
    onion_hostname,
    purge_onion_keys,
    services_file,
    sync_onion_services,
)
from node_runtime.engines.container_engine import CommandResult
from node_runtime.engines.podman_engine import PodmanEngine
from tests.realparts import REPO_ROOT
from tests.realparts.required import require_tool
from tests.realparts.wait import poll_until
from tests.support.catalogs import manifest_from_folder, simple_manifest

pytestmark = [pytest.mark.integration]

TOR_MOUNT = "/var/lib/tor"


def app_with_tor_port(app_id: str, host_port: int, revision: int = 1) -> Manifest:
    document = simple_manifest(app_id, revision=revision).to_document()
    document["containers"][0]["ports"] = [{"container": 8080, "host": host_port, "expose": "tor"}]
    return Manifest.model_validate(document)


class PodmanStandIn:
    """Stands in for podman in front of a tor process (see the module docstring)."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = addresses
        self.tor: subprocess.Popen[bytes] | None = None
        self.calls: list[list[str]] = []

    def __call__(
        self, args: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        args = list(args)
        self.calls.append(args)
        if args[0] == "inspect":
            address = self.addresses.get(args[-1])
            if address is None:
                return CommandResult(125, b"", f"no such container {args[-1]}".encode())
            return CommandResult(0, f"{address} \n".encode(), b"")
        if args[:4] == ["kill", "--signal", "HUP", "tor"]:
            if self.tor is None or self.tor.poll() is not None:
                return CommandResult(125, b"", b"no container with name or ID tor")
            self.tor.send_signal(signal.SIGHUP)
            return CommandResult(0, b"tor\n", b"")
        if args[0] == "unshare":
            done = subprocess.run(args[1:], capture_output=True, timeout=timeout, check=False)
            return CommandResult(done.returncode, done.stdout, done.stderr)
        raise AssertionError(f"unexpected podman call {args}")


@pytest.fixture
def tor_node(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A node data root with the tor app's two volumes, and a way to start tor on them."""
    require_tool("tor")
    require_tool("unshare")
    if not os.path.isdir(TOR_MOUNT):
        pytest.fail(f"{TOR_MOUNT} is missing (Debian's tor package makes it)", pytrace=False)
    data_root = tmp_path / "data"
    data = data_root / "tor" / "data"
    data.mkdir(parents=True, mode=0o700)
    (data_root / "tor" / "services").mkdir()
    log = tmp_path / "tor.log"
    torrc = tmp_path / "torrc"
    torrc.write_text(
        f"DataDirectory {TOR_MOUNT}\nDisableNetwork 1\nSocksPort 0\nControlPort 0\n"
        f"Log notice file {log}\n%include {services_file(str(data_root))}\n"
    )
    podman = PodmanStandIn({})
    script = f"mount --bind {data} {TOR_MOUNT} && ip link set lo up && exec tor -f {torrc} --quiet"

    def start_tor() -> None:
        podman.tor = subprocess.Popen(
            ["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip

    yield {"data_root": str(data_root), "podman": podman, "start_tor": start_tor, "log": log}
    if podman.tor is not None and podman.tor.poll() is None:
        podman.tor.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            podman.tor.wait(timeout=30)
        if podman.tor.poll() is None:
            podman.tor.kill()
            podman.tor.wait()


def wait_for_onion(app_id: str, data_root: str, podman: PodmanStandIn) -> str:
    found: list[str] = []

    def made() -> bool:
        if podman.tor is not None and podman.tor.poll() is not None:
            raise AssertionError(f"tor exited {podman.tor.returncode}")
        name = onion_hostname(app_id, data_root)
        found[:] = [name] if name else []
        return bool(found)

    poll_until(made, timeout=60, what=f"tor to make {app_id}'s hostname")
    return found[0]


def secret_key(app_id: str, data_root: str) -> bytes:
    return (keys_dir(app_id, data_root) / "hs_ed25519_secret_key").read_bytes()


def test_tor_without_network_makes_keys_and_hostnames_kept_across_updates_until_purge(
    tor_node: dict[str, Any],
) -> None:
    data_root, podman = tor_node["data_root"], tor_node["podman"]
    tor = manifest_from_folder(REPO_ROOT / "apps/tor")
    web, wiki = app_with_tor_port("web", 18080), app_with_tor_port("wiki", 18081)
    podman.addresses.update({"web": "10.89.0.5", "wiki": "10.89.0.6"})

    # Installed: tor and web.  The file is written; tor is not running yet: not reloaded.
    first = sync_onion_services([tor, web], data_root, podman)
    assert first.changed and not first.reloaded
    assert "tor was not reloaded" in (first.warning or "")
    assert services_file(data_root).read_text().splitlines()[2:] == [
        "HiddenServiceDir /var/lib/tor/onion-web",
        "HiddenServicePort 18080 10.89.0.5:8080",
    ]
    tor_node["start_tor"]()
    web_onion = wait_for_onion("web", data_root, podman)
    web_key = secret_key("web", data_root)

    # wiki is installed: tor is reloaded and makes wiki's service; web's keys stay.
    second = sync_onion_services([tor, web, wiki], data_root, podman)
    assert second.changed and second.reloaded and second.warning is None
    wiki_onion = wait_for_onion("wiki", data_root, podman)
    assert wiki_onion != web_onion
    assert onion_hostname("web", data_root) == web_onion
    assert secret_key("web", data_root) == web_key

    # An update of web (new revision, same port) changes nothing: no rewrite, no reload.
    hups = sum(call[:1] == ["kill"] for call in podman.calls)
    same = sync_onion_services([tor, app_with_tor_port("web", 18080, 2), wiki], data_root, podman)
    assert not same.changed and sum(call[:1] == ["kill"] for call in podman.calls) == hups

    # web is uninstalled: its entry goes, its keys stay (a reinstall gets the same address).
    removed = sync_onion_services([tor, wiki], data_root, podman)
    assert removed.changed and removed.reloaded
    assert "onion-web" not in services_file(data_root).read_text()
    assert podman.tor is not None and podman.tor.poll() is None, "tor survived the reload"
    assert onion_hostname("web", data_root) == web_onion
    assert sync_onion_services([tor, web, wiki], data_root, podman).changed
    assert wait_for_onion("web", data_root, podman) == web_onion
    assert secret_key("web", data_root) == web_key

    # --purge (after an uninstall) removes web's keys; wiki's are untouched.
    sync_onion_services([tor, wiki], data_root, podman)
    assert purge_onion_keys("web", data_root, PodmanEngine(podman)) is not None
    assert not keys_dir("web", data_root).exists()
    assert onion_hostname("wiki", data_root) == wiki_onion


def test_a_planted_symlink_is_not_followed(tor_node: dict[str, Any], tmp_path: Path) -> None:
    data_root, podman = tor_node["data_root"], tor_node["podman"]
    tor = manifest_from_folder(REPO_ROOT / "apps/tor")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not tor's\n")
    services_file(data_root).symlink_to(elsewhere)
    podman.addresses["web"] = "10.89.0.5"
    outcome = sync_onion_services([tor, app_with_tor_port("web", 18080)], data_root, podman)
    assert outcome.warning is not None and "symlink" in outcome.warning
    assert elsewhere.read_text() == "not tor's\n"
    hostname_dir = keys_dir("web", data_root)
    hostname_dir.mkdir()
    (hostname_dir / "hostname").symlink_to(elsewhere)
    assert onion_hostname("web", data_root) is None
