"""One node, two registries: the official one (from SeaweedFS, or a file origin) and a
developer's (a file origin), each with its own root, trust state and catalog."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.address import blake3_hex
from catalog.app_network import registry_network
from catalog.catalog_model import CATALOG_NAME, parse_catalog
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.keystore import KdfCost
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.cli import main as archy_main
from pipeline.market.identity import DeveloperIdentity, create_identity
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.s3_origin import publish_to_s3
from pipeline.publish.upload_planner import read_repository_dir
from signing import repository as tuf
from signing.metadata import Metadata, Root, Targets
from tests.integration.registries.conftest import (
    Node,
    developer_app,
    developer_registry,
    new_node,
    official_repository,
)
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.apprepo import AppRepo
from tests.support.ceremony_setup import NOW, make_ceremony
from tests.support.market import PASSPHRASE
from tests.support.repos import make_repository, manifest_yaml


def _blobs(node: Node) -> set[str]:
    return {path.name for path in (node.state_root / "blobs").iterdir()}


@pytest.mark.integration
def test_a_node_pulls_and_installs_from_the_official_registry_in_seaweedfs_and_a_developers(
    tmp_path: Path, seaweedfs: SeaweedFS, developer: DeveloperIdentity
) -> None:
    official = official_repository(tmp_path / "official")
    bucket = seaweedfs.new_bucket()
    publish_to_s3(
        read_repository_dir(official.directory), f"s3://{bucket}/repo",
        seaweedfs.endpoint_url, seaweedfs.session(),
    )  # fmt: skip
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    node = new_node(
        tmp_path, official, origin=f"s3://{bucket}/repo", s3_endpoint=seaweedfs.endpoint_url
    )

    code, out, err = node.run(
        "registry", "add", "dev", "--origin", dev.origin, "--root", str(dev.published.root_file)
    )
    assert (code, err) == (0, ""), out
    fingerprint = blake3_hex(dev.published.root_file.read_bytes())
    assert out.startswith(f"added registry dev: origin {dev.origin}, root {fingerprint[:16]}…")
    # its own trust state: its root, not the official one
    own_root = node.state_root / "registries" / "dev" / "trust" / "root.json"
    assert own_root.read_bytes() == dev.published.root_file.read_bytes()

    code, out, err = node.run("pull")
    assert (code, err) == (0, ""), out
    assert out.splitlines()[1] == "registry dev: new catalog, targets v1, downloaded 1 file(s)"
    code, out, err = node.run("pull", "--json")
    document = json.loads(out)
    assert (code, document["ok"], document["changed"]) == (0, True, False)
    [registry_pull] = document["registries"]
    assert (registry_pull["registry"], registry_pull["ok"], registry_pull["changed"]) == (
        "dev", True, False,
    )  # fmt: skip
    assert registry_pull["catalog"]["blake3"] == blake3_hex(dev.published.catalog_bytes)

    code, out, _ = node.run("list", "--registry", "dev")
    assert (code, out.split()[:2]) == (0, ["dev/demo-notes", "1.0.0-r1"])

    code, out, err = node.run("install", "dev/demo-notes")
    assert (code, err) == (0, ""), out
    assert out.startswith("demo-notes: installed (desired state)\napplied: staged")
    code, out, err = node.run("install", "web")
    assert (code, err) == (0, ""), out
    staged_units = node.state_root / "staged-units"
    staged = sorted(path.name for path in staged_units.iterdir())
    dev_network = registry_network(developer.public.did)
    assert staged == sorted([
        "archy-demo-notes_demo-notes.container",
        f"{dev_network}.network",
        "archy-net.network",
        "archy-web_web.container",
    ])  # fmt: skip
    # each registry's apps on a network of their own
    notes_unit = (staged_units / "archy-demo-notes_demo-notes.container").read_text()
    assert f"\nNetwork={dev_network}.network\n" in notes_unit
    assert "\nNetwork=archy-net.network\n" in (staged_units / "archy-web_web.container").read_text()
    code, out, _ = node.run("list")
    assert "* dev/demo-notes " in out and "* web " in out and "  notes " in out
    code, out, _ = node.run("status")
    assert [line.split()[0] for line in out.splitlines()[2:]] == ["dev/demo-notes", "web"]

    code, out, err = node.run("registry", "list", "--json")
    [record] = json.loads(out)
    assert (record["name"], record["root_blake3"], record["installed"]) == (
        "dev", fingerprint, ["demo-notes"],
    )  # fmt: skip

    code, out, err = node.run("registry", "remove", "dev")
    assert (code, out) == (1, "")
    assert err == (
        "error: registry 'dev' has installed apps (dev/demo-notes); uninstall them first "
        "(`archy-node uninstall dev/demo-notes`)\n"
    )
    assert (node.state_root / "registries" / "dev" / "registry.json").is_file()

    code, out, err = node.run("uninstall", "dev/demo-notes")
    assert (code, err) == (0, ""), out
    # the registry's network went with its last app; the official one stays
    assert sorted(path.name for path in staged_units.glob("*.network")) == ["archy-net.network"]
    code, out, err = node.run("registry", "remove", "dev")
    assert (code, err) == (0, "")
    assert not (node.state_root / "registries" / "dev").exists()
    # the id stays the registry's while its data is kept: the official app of that id,
    # or another registry's, cannot take its data and secrets
    owners = json.loads((node.state_root / "state" / "app-registries.json").read_text())
    assert owners["apps"] == {"demo-notes": "dev"}


@pytest.mark.integration
@pytest.mark.parametrize(
    "name", ["../escape", "Dev", "a", "dev/x", "official", "x" * 41, "dev\nx", ".hidden"]
)
def test_a_registry_name_that_could_be_a_path_trick_is_refused_and_nothing_is_written(
    tmp_path: Path, developer: DeveloperIdentity, name: str
) -> None:
    official = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    node = new_node(tmp_path, official)
    code, out, err = node.run(
        "registry", "add", name, "--origin", dev.origin, "--root", str(dev.published.root_file)
    )
    assert (code, out) == (1, "")
    assert err.startswith("error: registry name ") and err.count("\n") == 1
    assert not (node.state_root / "registries").exists()


@pytest.mark.integration
def test_a_root_that_is_not_self_signed_is_refused_and_nothing_is_written(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    official = official_repository(tmp_path / "official")
    node = new_node(tmp_path, official)
    bad = tmp_path / "root.json"
    bad.write_text('{"signed": {}, "signatures": []}')
    code, out, err = node.run("registry", "add", "dev", "--origin", official.origin,
                              "--root", str(bad))  # fmt: skip
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {bad}: not a trustworthy root")
    assert list((node.state_root / "registries").iterdir()) == []


@pytest.mark.integration
def test_a_catalog_without_developer_signatures_is_refused_whole_and_nothing_is_kept(
    tmp_path: Path,
) -> None:
    official = official_repository(tmp_path / "official")
    # a registry whose TUF chain is fine but whose entries no developer signed
    unsigned = make_repository(tmp_path / "unsigned", {"demo": manifest_yaml("demo")})
    node = new_node(tmp_path, official)
    assert node.run("pull")[0] == 0
    before = _blobs(node)
    code, _, err = node.run("registry", "add", "other", "--origin", unsigned.origin,
                            "--root", str(unsigned.root_path))  # fmt: skip
    assert code == 0, err
    code, out, err = node.run("pull")
    assert code == 1
    assert out.startswith("catalog unchanged")
    assert (
        err
        == (
            "error: registry other: pull failed, its current catalog is kept: catalog: refused "
            "whole, nothing kept: apps.demo.developer: missing (a third-party registry signs "
            "every entry)\n"
        )
        or "apps.demo.developer" in err
    ), err
    assert _blobs(node) == before  # the refused catalog's blob was removed again
    assert not (node.state_root / "registries" / "other" / "state" / "catalog.json").exists()
    code, out, err = node.run("install", "other/demo")
    assert (code, err) == (
        1, "error: registry 'other' has no verified catalog yet; run `archy-node pull`\n",
    )  # fmt: skip


@pytest.mark.integration
def test_a_catalog_signed_by_another_developer_than_the_pinned_did_is_refused(
    tmp_path: Path, developer: DeveloperIdentity, other_developer: DeveloperIdentity
) -> None:
    official = official_repository(tmp_path / "official")
    dev = developer_registry(
        tmp_path, other_developer, developer_app(tmp_path / "dev", "demo-notes")
    )
    node = new_node(tmp_path, official)
    root = str(dev.published.root_file)
    code, _, err = node.run(
        "registry", "add", "dev", "--origin", dev.origin, "--root", root, "--did",
        developer.public.did,
    )  # fmt: skip
    assert code == 0, err
    code, _, err = node.run("pull")
    assert code == 1
    assert (
        f"error: registry dev: pull failed, its current catalog is kept: catalog: refused "
        f"whole, nothing kept: apps.demo-notes.developer.did: {other_developer.public.did}, "
        f"expected {developer.public.did}\n"
    ) == err


@pytest.mark.integration
def test_a_leaked_online_key_cannot_get_a_catalog_past_the_registrys_threshold_root(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    official = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    node = new_node(tmp_path, official)
    node.run("registry", "add", "dev", "--origin", dev.origin, "--root",
             str(dev.published.root_file))  # fmt: skip
    assert node.run("pull")[0] == 0
    pointer = node.state_root / "registries" / "dev" / "state" / "catalog.json"
    held = pointer.read_bytes()

    # the attacker holds the online (snapshot/timestamp) key only: they sign targets v2
    # naming their own catalog with it, and publish snapshot and timestamp over it
    keys = dev.published.keys
    forged = parse_catalog(dev.published.catalog_bytes)
    app = forged.apps["demo-notes"]
    evil = forged.model_copy(update={"apps": {"demo-notes": app.model_copy(
        update={"version": "6.6.6"})}}).to_canonical()  # fmt: skip
    now = datetime.now(UTC).replace(microsecond=0)
    targets = tuf.add_target(Targets(2, now + timedelta(days=30)),
                             tuf.target_file(CATALOG_NAME, evil))  # fmt: skip
    root = Metadata.from_bytes(dev.published.root_file.read_bytes(), Root)
    signed_targets = tuf.sign(targets, [keys["online"]])
    snapshot = tuf.sign(
        tuf.snapshot_for(2, now + timedelta(days=7), {"targets": signed_targets}),
        [keys["online"]],
    )
    timestamp = tuf.sign(tuf.timestamp_for(2, now + timedelta(days=1), snapshot), [keys["online"]])
    files = tuf.consistent_snapshot_files(
        [root], {"targets": signed_targets}, snapshot, timestamp,
        [(targets.targets[CATALOG_NAME], evil)],
    )  # fmt: skip
    for relative, data in files.items():
        if relative != "metadata/1.root.json":
            (dev.published.repo_dir / relative).write_bytes(data)

    code, _, err = node.run("pull")
    assert code == 1
    assert err.startswith(
        "error: registry dev: pull failed, its current catalog is kept: trust: refused the "
        f"metadata from {dev.origin}"
    ), err
    assert err.endswith(
        ": targets: signed by 0 of the 1 keys the threshold requires (the current catalog is "
        "kept)\n"
    ), err
    assert pointer.read_bytes() == held
    assert blake3_hex(evil) not in _blobs(node)


@pytest.mark.integration
def test_the_node_side_unit_check_refuses_a_developer_signed_app_with_tampered_units(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    # the developer's signature covers the manifest, not the units: the registry (signed
    # to its threshold) ships units that escape the sandbox; the node re-derives them
    official = official_repository(tmp_path / "official")
    dev = developer_registry(tmp_path, developer, developer_app(tmp_path / "dev", "demo-notes"))
    catalog = parse_catalog(dev.published.catalog_bytes)
    app = catalog.apps["demo-notes"]
    [unit] = [name for name in app.units if name.endswith(".container")]
    hostile = {**app.units, unit: app.units[unit] + "PodmanArgs=--privileged\n"}
    tampered = catalog.model_copy(
        update={"apps": {"demo-notes": app.model_copy(update={"units": hostile})}}
    ).to_canonical()
    keys = dev.published.keys
    now = datetime.now(UTC).replace(microsecond=0)
    targets = tuf.add_target(Targets(2, now + timedelta(days=30)),
                             tuf.target_file(CATALOG_NAME, tampered))  # fmt: skip
    signed_targets = tuf.sign(targets, [keys["targets"]])  # the registry's own targets key
    snapshot = tuf.sign(
        tuf.snapshot_for(2, now + timedelta(days=7), {"targets": signed_targets}),
        [keys["online"]],
    )
    timestamp = tuf.sign(tuf.timestamp_for(2, now + timedelta(days=1), snapshot), [keys["online"]])
    root = Metadata.from_bytes(dev.published.root_file.read_bytes(), Root)
    files = tuf.consistent_snapshot_files(
        [root], {"targets": signed_targets}, snapshot, timestamp,
        [(targets.targets[CATALOG_NAME], tampered)],
    )  # fmt: skip
    for relative, data in files.items():
        (dev.published.repo_dir / relative).write_bytes(data)

    node = new_node(tmp_path, official)
    node.run("registry", "add", "dev", "--origin", dev.origin, "--root",
             str(dev.published.root_file))  # fmt: skip
    code, _, err = node.run("pull")
    assert (code, err) == (0, "")  # signed and developer-signed: the pull accepts it
    code, out, err = node.run("install", "dev/demo-notes")
    assert (code, out) == (1, "")
    assert err.startswith(
        "error: dev/demo-notes: its units are refused (not what the renderer writes for "
        "demo-notes): "
    ), err
    assert "PodmanArgs" in err
    assert not (node.state_root / "staged-units").exists()
    assert not (node.state_root / "state" / "app-registries.json").exists()


@pytest.mark.integration
def test_a_registry_built_from_a_developers_git_repository_with_the_real_pipeline_installs(
    tmp_path: Path, developer: DeveloperIdentity
) -> None:
    """The developer runs what the official registry runs: ``archy build --developer-dir``
    on their own repository, a ceremony with their own (2-of-3) root, a publish."""
    source = AppRepo(tmp_path / "devrepo")
    source.add_app("dev-web", port=18700)
    source.commit("first")
    identity_dir = tmp_path / "identity"
    identity = create_identity(identity_dir, PASSPHRASE, KdfCost.INTERACTIVE)
    dist = tmp_path / "dist"
    built = CliRunner().invoke(
        archy_main,
        ["build", "--repo", str(source.path), "--out", str(dist), "--developer-dir",
         str(identity_dir), "--passphrase-env", "DEV_PASSPHRASE"],
        env={"DEV_PASSPHRASE": PASSPHRASE.decode()},
    )  # fmt: skip
    assert built.exit_code == 0, built.stderr
    ceremony = make_ceremony(tmp_path / "ceremony")
    event, _review = open_catalog_event(ceremony.state, dist, NOW)
    for maintainer in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, maintainer, NOW)
    repo = tmp_path / "devregistry"
    repo.mkdir()
    publish_signing_event(
        ceremony.state, event.event_id, dist, FileOrigin(repo), ceremony.online, NOW
    )

    official = official_repository(tmp_path / "official")
    node = new_node(tmp_path, official)
    root = str(repo / "metadata" / "1.root.json")
    code, _, err = node.run(
        "registry", "add", "acme", "--origin", repo.as_uri(), "--root", root, "--did", identity.did
    )
    assert code == 0, err
    code, out, err = node.run("pull")
    assert (code, err) == (0, ""), out
    code, out, err = node.run("install", "acme/dev-web")
    assert (code, err) == (0, ""), out
    assert (node.state_root / "staged-units" / "archy-dev-web_dev-web.container").is_file()
    code, out, _ = node.run("info", "acme/dev-web", "--json")
    document = json.loads(out)
    assert (document["did"], document["installed"]) == (identity.did, True)
