"""The real app set under ``apps/``: every manifest loads, passes the policy, has an icon."""

from __future__ import annotations

import importlib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from pipeline.appset import AppFolder, load_app_folders

APPS_DIR = Path(__file__).resolve().parents[3] / "apps"
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"

REQUIRED_IDS = frozenset(
    {
        "bitcoin-core",
        "bitcoin-knots",
        "lnd",
        "core-lightning",
        "electrs",
        "electrumx",
        "mempool",
        "btcpay-server",
        "fedimint-guardian",
        "lnbits",
        "thunderhub",
        "ride-the-lightning",
        "alby-hub",
        "nostr-relay",
        "tailscale",
        "netbird",
        "tor",
        "immich",
        "indeedhub",
        "nextcloud",
        "vaultwarden",
        "jellyfin",
        "home-assistant",
        "syncthing",
        "uptime-kuma",
        "gitea",
        "searxng",
        "paperless-ngx",
        "photoprism",
        "navidrome",
        "filebrowser",
        "adguard-home",
        "meshtastic-web",
        "ollama",
        "open-webui",
        "audiobookshelf",
        "mealie",
        "archy-bitcoin-ui",
        "archy-lnd-ui",
        "archy-electrs-ui",
        "archy-fedimint-ui",
    }
)


@pytest.fixture(scope="module")
def app_set() -> dict[str, AppFolder]:
    apps, problems = load_app_folders([APPS_DIR])
    assert not problems, "\n".join(str(problem) for problem in problems)
    return {app.app_id: app for app in apps}


def test_every_manifest_loads_and_there_are_at_least_forty(app_set: dict[str, AppFolder]) -> None:
    folders = [child for child in APPS_DIR.iterdir() if child.is_dir()]
    assert len(app_set) == len(folders)
    assert len(app_set) >= 40


def test_every_id_equals_its_folder(app_set: dict[str, AppFolder]) -> None:
    for app_id, app in app_set.items():
        assert app.path.name == app_id


def test_the_required_apps_are_present(app_set: dict[str, AppFolder]) -> None:
    assert sorted(REQUIRED_IDS - set(app_set)) == []


def test_every_app_has_an_svg_icon(app_set: dict[str, AppFolder]) -> None:
    for app_id, app in app_set.items():
        icon = app.path / app.source.manifest.icon
        assert icon.is_file(), f"{app_id}: {icon} is missing"
        data = icon.read_bytes()
        assert len(data) < 1024, f"{app_id}: icon is {len(data)} bytes; keep it under 1 KiB"
        # Entity declarations are refused first, so the stdlib parser never expands any.
        assert b"<!DOCTYPE" not in data and b"<!ENTITY" not in data, f"{app_id}: DTD in icon"
        root = ElementTree.fromstring(data)  # noqa: S314 - checked above: no DTD, no entities
        assert root.tag in ("svg", f"{SVG_NAMESPACE}svg"), f"{app_id}: root is {root.tag}"


def test_immich_keeps_the_live_container_names(app_set: dict[str, AppFolder]) -> None:
    manifest = app_set["immich"].source.manifest
    names = {"immich_server", "immich_postgres", "immich_redis"}
    assert {member.name for member in manifest.containers} == names
    assert set(manifest.migration.adopt) == names
    assert manifest.member("immich_postgres").data_uid == 999


def test_indeedhub_is_the_seven_member_stack_with_its_hook(
    app_set: dict[str, AppFolder],
) -> None:
    manifest = app_set["indeedhub"].source.manifest
    assert len(manifest.containers) == 7
    assert manifest.ui is not None
    frontend = manifest.ui.container
    steps = manifest.hooks.post_install
    copies = [step.copy_from_host for step in steps if step.copy_from_host is not None]
    assert [copy.source for copy in copies] == [
        "/usr/share/archipelago/nostr-provider/nostr-provider.js"
    ]
    assert all(copy.container == frontend for copy in copies)
    execs = [step.exec for step in steps if step.exec is not None]
    assert execs and all(step.container == frontend for step in execs)
    assert {secret.name for secret in manifest.generated_secrets} == {
        "indeedhub-db-password",
        "indeedhub-jwt",
        "indeedhub-minio-password",
    }


def test_bitcoin_alternatives_run_full_nodes(app_set: dict[str, AppFolder]) -> None:
    for app_id in ("bitcoin-core", "bitcoin-knots"):
        manifest = app_set[app_id].source.manifest
        assert "bitcoin" in manifest.capabilities
        assert manifest.settings["txindex"] is True
        assert manifest.settings["prune"] == 0


def test_companions_build_from_their_own_context(app_set: dict[str, AppFolder]) -> None:
    for app_id in ("archy-bitcoin-ui", "archy-lnd-ui", "archy-electrs-ui", "archy-fedimint-ui"):
        app = app_set[app_id]
        (member,) = app.source.manifest.containers
        assert member.build is not None
        assert member.image.startswith(f"localhost/{app_id}:")
        assert (app.path / member.build.context / member.build.containerfile).is_file()
        assert app.source.manifest.requires


def test_the_policy_finds_no_errors(app_set: dict[str, AppFolder]) -> None:
    try:
        policy = importlib.import_module("pipeline.policy")
    except ModuleNotFoundError as error:
        pytest.fail(f"pipeline.policy is not there yet, so the app set is unchecked: {error}")
    problems = policy.check_all([app.source for app in app_set.values()])
    errors = [problem for problem in problems if problem.severity == "error"]
    assert errors == [], "\n".join(str(problem) for problem in errors)
