"""``archy build --developer-dir``: a third-party registry's build signs every app entry
with the developer's did:key, and an official build carries no developer field at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.app_network import app_network, registry_network
from catalog.catalog_model import parse_catalog
from catalog.runtime_names import DEFAULT_DATA_ROOT
from catalog.unit_check import check_app_units
from pipeline.ceremony.keystore import KdfCost
from pipeline.cli import main
from pipeline.market.identity import create_identity
from signing.developer import third_party_catalog_problems, verify_developer_signature
from tests.support.apprepo import AppRepo

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def source(tmp_path: Path) -> AppRepo:
    repo = AppRepo(tmp_path / "repo")
    repo.add_app("demo-one")
    repo.add_app("demo-two", port=18081)
    repo.commit("first")
    return repo


def build(source: AppRepo, *extra: str, passphrase: bytes = PASSPHRASE) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main,
        ["build", "--repo", str(source.path), "--out", str(source.path / "dist"), *extra],
        env={"DEV_PASSPHRASE": passphrase.decode()},
    )
    return result.exit_code, result.stdout, result.stderr


def test_every_entry_of_a_developer_build_carries_a_valid_signature(
    source: AppRepo, tmp_path: Path
) -> None:
    identity = create_identity(tmp_path / "developer", PASSPHRASE, KdfCost.INTERACTIVE)

    code, _stdout, stderr = build(
        source, "--developer-dir", str(tmp_path / "developer"), "--passphrase-env", "DEV_PASSPHRASE"
    )

    assert code == 0, stderr
    catalog = parse_catalog((source.path / "dist" / "app-catalog.json").read_bytes())
    assert sorted(catalog.apps) == ["demo-one", "demo-two"]
    for app in catalog.apps.values():
        assert app.developer is not None and app.developer.did == identity.did
        assert verify_developer_signature(app) is None
    assert third_party_catalog_problems(catalog, identity.did) == []


def test_a_developer_build_renders_every_app_on_the_registrys_own_network(
    source: AppRepo, tmp_path: Path
) -> None:
    identity = create_identity(tmp_path / "developer", PASSPHRASE, KdfCost.INTERACTIVE)
    assert build(source)[0] == 0  # an official build first: its cached units must not leak
    code, _stdout, stderr = build(
        source, "--developer-dir", str(tmp_path / "developer"), "--passphrase-env", "DEV_PASSPHRASE"
    )

    assert code == 0, stderr
    catalog = parse_catalog((source.path / "dist" / "app-catalog.json").read_bytes())
    network = registry_network(identity.did)
    for app_id, app in catalog.apps.items():
        assert f"{network}.network" in app.units and "archy-net.network" not in app.units
        assert f"\nNetwork={network}.network\n" in app.units[f"archy-{app_id}_{app_id}.container"]
        problems = check_app_units(app.manifest, app.units, data_root=DEFAULT_DATA_ROOT,
                                   network=app_network(app))  # fmt: skip
        assert problems == []


def test_an_official_build_has_no_developer_field(source: AppRepo) -> None:
    code, _stdout, stderr = build(source)

    assert code == 0, stderr
    document = json.loads((source.path / "dist" / "app-catalog.json").read_bytes())
    assert all("developer" not in app for app in document["apps"].values())
    assert all("archy-net.network" in app["units"] for app in document["apps"].values())


def test_a_wrong_passphrase_refuses_the_build_and_writes_nothing(
    source: AppRepo, tmp_path: Path
) -> None:
    create_identity(tmp_path / "developer", PASSPHRASE, KdfCost.INTERACTIVE)

    code, stdout, stderr = build(
        source,
        "--developer-dir",
        str(tmp_path / "developer"),
        "--passphrase-env",
        "DEV_PASSPHRASE",
        passphrase=b"not the passphrase at all",
    )

    assert (code, stdout) == (1, "")
    assert stderr.startswith("error: ") and len(stderr.splitlines()) == 1
    assert "Traceback" not in stderr
    assert not (source.path / "dist" / "app-catalog.json").exists()
