"""The attacks of the TUF specification, each staged on a real repository on disk.

Given a repository written by our repository side and a client that trusts
its first root, the attacker changes the files the client fetches; the client
must refuse, and must not store what it refused.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from node_runtime.fetch.fetcher import DownloadLengthError
from node_runtime.fetch.tuf_client import Updater, UpdaterConfig
from signing import repository as repo_side
from signing.errors import (
    BadVersionNumberError,
    ExpiredMetadataError,
    LengthOrHashMismatchError,
    MetadataFormatError,
    RepositoryError,
    UnknownHashAlgorithmError,
    UnsignedMetadataError,
)
from signing.keys import SigningKey
from signing.metadata import Targets
from tests.support.client_setup import fresh_client, trust_root, updater_for
from tests.support.repos import LATER, NOW, LiveRepository
from tests.support.tuf_fixtures import RepositoryServer


def stored(client_dir: Path, name: str) -> bytes:
    return (client_dir / "metadata" / name).read_bytes()


def test_arbitrary_installation_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    target = live_repo.add_artifact("app-catalog.json", b"the real catalog")
    live_repo.publish()
    digest = target.hashes["blake3"]
    (live_repo.directory / "targets" / f"{digest}.app-catalog.json").write_bytes(
        b"evil catalog!!!!"
    )
    updater = fresh_client(live_repo, client_dir)
    info = updater.get_targetinfo("app-catalog.json")
    assert info is not None
    with pytest.raises(LengthOrHashMismatchError):
        updater.download_target(info)
    assert list((client_dir / "targets").iterdir()) == []


def test_wrong_software_another_signed_file_is_refused(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    wanted = live_repo.add_artifact("node/archy-node", b"node binary v2")
    live_repo.add_artifact("node/archy-node-old", b"node binary v1")  # vulnerable, signed
    live_repo.publish()
    digest = wanted.hashes["blake3"]
    (live_repo.directory / "targets" / "node" / f"{digest}.archy-node").write_bytes(
        b"node binary v1"
    )
    updater = fresh_client(live_repo, client_dir)
    info = updater.get_targetinfo("node/archy-node")
    assert info is not None
    with pytest.raises(LengthOrHashMismatchError):
        updater.download_target(info)


def test_extraneous_dependencies_outside_the_delegated_paths_are_not_found(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.delegate("targets", "companions", paths=("companions/*",))
    live_repo.add_artifact("companions/ok.tar", b"fine", role="companions")
    live_repo.add_artifact("node/archy-node", b"not yours to sign", role="companions")
    live_repo.publish()
    updater = fresh_client(live_repo, client_dir)
    assert updater.get_targetinfo("companions/ok.tar") is not None
    assert updater.get_targetinfo("node/archy-node") is None


@pytest.mark.parametrize("role", ["timestamp", "snapshot"])
def test_fast_forward_attack_is_recovered_after_key_rotation(
    live_repo: LiveRepository, client_dir: Path, role: str
) -> None:
    # The attacker holds the online key and pushes the version far ahead.
    if role == "timestamp":
        live_repo.sign_timestamp(version=1000)
    else:
        live_repo.sign_snapshot(version=1000)
        live_repo.sign_timestamp()
    live_repo.write()
    fresh_client(live_repo, client_dir).refresh()
    # The maintainers rotate the compromised key and publish normal versions again.
    live_repo.rotate_keys(role)
    if role == "timestamp":
        live_repo.sign_timestamp(version=2)
    else:
        live_repo.sign_snapshot(version=2)
        live_repo.sign_timestamp()
    live_repo.write()
    updater = updater_for(live_repo, client_dir)
    updater.refresh()
    assert updater.trusted_set.timestamp.version == (2 if role == "timestamp" else 3)
    assert updater.trusted_set.snapshot.version == (1 if role == "timestamp" else 2)


def test_fast_forward_without_rotation_blocks_older_versions(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.sign_timestamp(version=1000)
    live_repo.write()
    fresh_client(live_repo, client_dir).refresh()
    live_repo.sign_timestamp(version=2)
    live_repo.write()
    with pytest.raises(BadVersionNumberError):
        updater_for(live_repo, client_dir).refresh()


@pytest.mark.parametrize("role", ["root", "timestamp", "snapshot", "targets"])
def test_indefinite_freeze_expired_metadata_is_refused(
    live_repo: LiveRepository, client_dir: Path, role: str
) -> None:
    """The repository keeps serving metadata that expired: the client refuses it."""
    expiries = {"root": LATER, "timestamp": LATER, "snapshot": LATER, "targets": LATER}
    expiries[role] = NOW + timedelta(days=1)
    if role == "root":
        live_repo.new_root(dataclasses.replace(live_repo.root, expires=expiries["root"]))
    live_repo.unsigned_targets["targets"] = dataclasses.replace(
        live_repo.unsigned_targets["targets"], expires=expiries["targets"]
    )
    live_repo.publish(roles=("targets",))
    live_repo.sign_snapshot(expires=expiries["snapshot"])
    live_repo.sign_timestamp(expires=expiries["timestamp"])
    live_repo.write()
    fresh_client(live_repo, client_dir).refresh()  # fine today
    with pytest.raises(ExpiredMetadataError, match=role):
        updater_for(live_repo, client_dir, reference_time=NOW + timedelta(days=2)).refresh()


def test_indefinite_freeze_locally_trusted_expired_timestamp_still_blocks_rollback(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.sign_timestamp(version=5, expires=NOW + timedelta(days=1))
    live_repo.write()
    fresh_client(live_repo, client_dir).refresh()
    live_repo.sign_timestamp(version=3)  # current expiry, but older than what we saw
    live_repo.write()
    with pytest.raises(BadVersionNumberError):
        updater_for(live_repo, client_dir, reference_time=NOW + timedelta(days=2)).refresh()


def test_malicious_mirror_serving_metadata_signed_by_its_own_key(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    mirror_key = SigningKey.generate()
    forged = repo_side.sign(
        repo_side.timestamp_for(2, LATER, live_repo.snapshot),  # type: ignore[arg-type]
        [mirror_key],
    )
    live_repo.metadata_path("timestamp.json").write_bytes(forged.to_bytes())
    with pytest.raises(UnsignedMetadataError):
        fresh_client(live_repo, client_dir).refresh()
    assert not (client_dir / "metadata" / "timestamp.json").exists()


def test_mix_and_match_targets_from_another_snapshot_is_refused(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    old_targets = live_repo.targets["targets"].to_bytes()
    live_repo.add_artifact("app-catalog.json", b"v2")
    live_repo.publish()
    # The attacker serves the old targets under the new version's name.
    live_repo.metadata_path("2.targets.json").write_bytes(old_targets)
    with pytest.raises(RepositoryError):
        fresh_client(live_repo, client_dir).refresh()


def test_rollback_of_root_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    live_repo.new_root(live_repo.root)
    live_repo.new_root(live_repo.root)
    (client_dir / "metadata" / "root.json").write_bytes(live_repo.root_bytes(2))
    # 3.root.json replaced by a re-signed copy of version 2
    live_repo.metadata_path("3.root.json").write_bytes(live_repo.root_bytes(2))
    with pytest.raises(BadVersionNumberError):
        updater_for(live_repo, client_dir).refresh()


def test_rollback_of_timestamp_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    old = live_repo.metadata_path("timestamp.json").read_bytes()
    live_repo.publish()  # timestamp v2
    fresh_client(live_repo, client_dir).refresh()
    live_repo.metadata_path("timestamp.json").write_bytes(old)
    with pytest.raises(BadVersionNumberError):
        updater_for(live_repo, client_dir).refresh()
    assert b'"version":2' in stored(client_dir, "timestamp.json")


def test_rollback_of_snapshot_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    live_repo.publish()  # snapshot v2
    fresh_client(live_repo, client_dir).refresh()
    live_repo.sign_snapshot(version=1)
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(BadVersionNumberError):
        updater_for(live_repo, client_dir).refresh()


def test_rollback_of_targets_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    live_repo.add_artifact("a", b"a")
    live_repo.publish()  # targets v2
    fresh_client(live_repo, client_dir).refresh()
    live_repo.targets["targets"] = repo_side.sign(
        dataclasses.replace(live_repo.targets["targets"].signed, version=1),
        live_repo.keys["targets"],
    )
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(BadVersionNumberError, match=r"targets\.json"):
        updater_for(live_repo, client_dir).refresh()


def test_rollback_of_a_delegated_role_is_refused(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.delegate("targets", "apps")
    live_repo.publish()
    live_repo.add_artifact("x", b"x", role="apps")
    live_repo.publish()  # apps v2
    fresh_client(live_repo, client_dir).get_targetinfo("x")
    live_repo.targets["apps"] = repo_side.sign(
        dataclasses.replace(live_repo.targets["apps"].signed, version=1), live_repo.keys["apps"]
    )
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(BadVersionNumberError, match="apps"):
        updater_for(live_repo, client_dir).refresh()


def test_key_compromise_below_threshold_is_refused(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.rotate_keys("targets", count=3, threshold=2)
    live_repo.add_artifact("app-catalog.json", b"honest")
    live_repo.publish()
    fresh_client(live_repo, client_dir).refresh()
    # One stolen key signs a new targets version on its own.
    stolen = live_repo.keys["targets"][0]
    forged = dataclasses.replace(live_repo.unsigned_targets["targets"], version=3)
    live_repo.targets["targets"] = repo_side.sign(forged, [stolen])
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(UnsignedMetadataError, match="1 of the 2"):
        updater_for(live_repo, client_dir).refresh()


def test_duplicate_signatures_of_one_key_do_not_meet_a_threshold(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.rotate_keys("targets", count=2, threshold=2)
    live_repo.publish()
    one_key = live_repo.keys["targets"][0]
    signed = live_repo.targets["targets"]
    doubled = dataclasses.replace(
        signed, signatures=(one_key.sign(signed.signed_bytes), one_key.sign(signed.signed_bytes))
    )
    live_repo.targets["targets"] = doubled
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(MetadataFormatError, match="signs more than once"):
        fresh_client(live_repo, client_dir).refresh()


def test_duplicate_keyids_for_one_key_do_not_meet_a_threshold(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    key = live_repo.keys["snapshot"][0]
    root = live_repo.root
    twin_keyid = "ab" * 32
    roles = dict(root.roles)
    roles["snapshot"] = dataclasses.replace(
        roles["snapshot"], keyids=(key.keyid, twin_keyid), threshold=2
    )
    live_repo.new_root(
        dataclasses.replace(root, keys={**root.keys, twin_keyid: key.public_key}, roles=roles)
    )
    signed = repo_side.sign(repo_side.snapshot_for(2, LATER, live_repo.targets), [key])
    twin = dataclasses.replace(signed.signatures[0], keyid=twin_keyid)
    live_repo.snapshot = dataclasses.replace(signed, signatures=(*signed.signatures, twin))
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(UnsignedMetadataError, match="1 of the 2"):
        fresh_client(live_repo, client_dir).refresh()


def test_invalid_signatures_beside_valid_ones_are_ignored(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    # Two targets keys, threshold 1: the second key's signature is garbage, the first valid.
    live_repo.rotate_keys("targets", count=2, threshold=1)
    live_repo.publish()
    good_key, other_key = live_repo.keys["targets"]
    signed = live_repo.targets["targets"]
    valid = good_key.sign(signed.signed_bytes)
    bogus = dataclasses.replace(other_key.sign(signed.signed_bytes), sig="00" * 64)
    stranger = SigningKey.generate().sign(signed.signed_bytes)
    live_repo.targets["targets"] = dataclasses.replace(signed, signatures=(bogus, stranger, valid))
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    fresh_client(live_repo, client_dir).refresh()


def test_unknown_hash_algorithm_is_a_failure(live_repo: LiveRepository, client_dir: Path) -> None:
    target = live_repo.add_artifact("a.txt", b"data")
    hashes = {**target.hashes, "md5": "8d777f385d3dfec8815d20f7496026dc"}
    live_repo.unsigned_targets["targets"] = repo_side.add_target(
        live_repo.unsigned_targets["targets"], dataclasses.replace(target, hashes=hashes)
    )
    live_repo.publish()
    updater = fresh_client(live_repo, client_dir)
    info = updater.get_targetinfo("a.txt")
    assert info is not None
    with pytest.raises(UnknownHashAlgorithmError):
        updater.download_target(info)


@pytest.mark.parametrize("name", ["timestamp.json", "2.root.json"])
def test_endless_data_top_level_metadata_over_its_cap(
    live_repo: LiveRepository, client_dir: Path, name: str
) -> None:
    if name == "2.root.json":
        live_repo.new_root(live_repo.root)
        live_repo.write()
    cap = {"timestamp.json": 16_384, "2.root.json": 512_000}[name]
    path = live_repo.metadata_path(name)
    path.write_bytes(path.read_bytes() + b" " * cap)
    with pytest.raises(DownloadLengthError):
        fresh_client(live_repo, client_dir).refresh()


def test_endless_data_snapshot_longer_than_timestamp_says(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    path = live_repo.metadata_path("1.snapshot.json")
    path.write_bytes(path.read_bytes() + b" ")
    with pytest.raises(DownloadLengthError):
        fresh_client(live_repo, client_dir).refresh()


@pytest.mark.parametrize("role", ["snapshot", "targets"])
def test_endless_data_metadata_without_length_over_the_default_cap(
    live_repo: LiveRepository, client_dir: Path, role: str
) -> None:
    assert live_repo.snapshot is not None
    if role == "snapshot":  # a timestamp that does not give the snapshot's length
        live_repo.timestamp = repo_side.sign(
            dataclasses.replace(
                live_repo.timestamp.signed,  # type: ignore[union-attr]
                version=2,
                snapshot_meta=repo_side.meta_file(1),
            ),
            live_repo.keys["timestamp"],
        )
        live_repo.write()
    cap = UpdaterConfig().snapshot_max_length if role == "snapshot" else 5_000_000
    path = live_repo.metadata_path(f"1.{role}.json")
    path.write_bytes(path.read_bytes() + b" " * cap)
    with pytest.raises(DownloadLengthError):
        fresh_client(live_repo, client_dir).refresh()


def test_endless_data_target_longer_than_its_length(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    target = live_repo.add_artifact("big.bin", b"12345")
    live_repo.publish()
    path = live_repo.directory / "targets" / f"{target.hashes['blake3']}.big.bin"
    path.write_bytes(b"12345" * 100_000)
    updater = fresh_client(live_repo, client_dir)
    info = updater.get_targetinfo("big.bin")
    assert info is not None
    with pytest.raises(DownloadLengthError):
        updater.download_target(info)
    assert list((client_dir / "targets").iterdir()) == []


@pytest.mark.parametrize("role_name", ["../x", "/x", "?", "#", "..", "a/../../b"])
def test_role_names_never_reach_outside_the_metadata_directory(
    live_repo: LiveRepository,
    client_dir: Path,
    http_server: RepositoryServer,
    role_name: str,
) -> None:
    live_repo.delegate("targets", role_name)
    live_repo.add_artifact("file.txt", b"from an oddly named role", role=role_name)
    live_repo.publish()
    trust_root(client_dir, live_repo.root_bytes(1))
    updater = Updater(client_dir / "metadata", f"{http_server.url}/metadata")
    assert updater.get_targetinfo("file.txt") is not None
    assert f"/metadata/1.{quote(role_name, safe='')}.json" in http_server.requests
    written = list((client_dir / "metadata").iterdir())
    assert len(written) == 5
    assert all(path.parent == client_dir / "metadata" for path in written)
    assert sorted(p.name for p in client_dir.iterdir()) == ["metadata", "targets"]


def test_metadata_of_the_wrong_type_is_refused(live_repo: LiveRepository, client_dir: Path) -> None:
    snapshot = live_repo.metadata_path("1.snapshot.json").read_bytes()
    live_repo.metadata_path("timestamp.json").write_bytes(snapshot)
    with pytest.raises(MetadataFormatError, match="timestamp"):
        fresh_client(live_repo, client_dir).refresh()


def test_delegation_cycle_terminates(live_repo: LiveRepository, client_dir: Path) -> None:
    live_repo.delegate("targets", "a")
    live_repo.delegate("a", "b")
    live_repo.publish()
    b_keys = live_repo.keys["b"]
    live_repo.delegate("b", "a")
    live_repo.keys["b"] = b_keys
    live_repo.publish()
    assert fresh_client(live_repo, client_dir).get_targetinfo("missing") is None


def test_terminating_delegation_stops_the_search(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.delegate("targets", "first", terminating=True, paths=("pkg/*",))
    live_repo.delegate("targets", "second", paths=("pkg/*",))
    live_repo.add_artifact("pkg/x", b"second's", role="second")
    live_repo.publish()
    assert fresh_client(live_repo, client_dir).get_targetinfo("pkg/x") is None


def test_visit_limit_bounds_a_long_delegation_chain(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    parent = "targets"
    for index in range(6):
        live_repo.delegate(parent, f"level{index}")
        parent = f"level{index}"
    live_repo.add_artifact("deep", b"deep", role=parent)
    live_repo.publish()
    shallow = fresh_client(live_repo, client_dir, config=UpdaterConfig(max_delegations=3))
    assert shallow.get_targetinfo("deep") is None
    assert updater_for(live_repo, client_dir).get_targetinfo("deep") is not None


def test_unsigned_delegated_role_in_a_chain_is_refused(
    live_repo: LiveRepository, client_dir: Path
) -> None:
    live_repo.delegate("targets", "apps")
    live_repo.publish()
    live_repo.targets["apps"] = repo_side.sign(Targets(2, LATER), [SigningKey.generate()])
    live_repo.sign_snapshot()
    live_repo.sign_timestamp()
    live_repo.write()
    with pytest.raises(UnsignedMetadataError, match="apps"):
        fresh_client(live_repo, client_dir).get_targetinfo("anything")
