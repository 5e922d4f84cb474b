"""Publishing to a file origin: order, skipping, refusals, interruption and recovery."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from node_runtime.fetch.tuf_client import Updater
from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.ceremony.steps import open_catalog_event, sign_event
from pipeline.cli import main
from pipeline.publish.file_origin import FileOrigin
from pipeline.publish.origin import OriginError, PublishError
from pipeline.publish.signed_repository import refresh_timestamp
from signing.keys import SigningKey
from signing.metadata import Metadata, Timestamp
from tests.support.ceremony_setup import NOW, PASSPHRASE, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp, write_build


class RecordingOrigin(FileOrigin):
    """A real file origin that also remembers the order of its writes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writes: list[str] = []
        self.attempts: list[str] = []  # every create/replace, also those that find the file

    def create(self, path: str, data: bytes) -> bool:
        self.attempts.append(path)
        created = super().create(path, data)
        if created:
            self.writes.append(path)
        return created

    def replace(self, path: str, data: bytes) -> None:
        self.attempts.append(path)
        super().replace(path, data)
        self.writes.append(path)


class FailingAfterWritesOrigin(FileOrigin):
    """Fault injection: a file origin whose connection drops after ``allowed`` writes."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed
        self.failed_at: str | None = None

    def _spend(self, path: str) -> None:
        if self.allowed == 0:
            self.failed_at = path
            raise OriginError(f"{self.describe(path)}: connection lost (injected fault)")
        self.allowed -= 1

    def create(self, path: str, data: bytes) -> bool:
        self._spend(path)
        return super().create(path, data)

    def replace(self, path: str, data: bytes) -> None:
        self._spend(path)
        super().replace(path, data)


def signed_event(ceremony: ThrowawayCeremony, dist: Path, apps: list[SmallApp], commit: str):
    write_build(dist, apps, commit=commit)
    event, _review = open_catalog_event(ceremony.state, dist, NOW)
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[1], NOW)
    return event


def node_sees(node: Path, repo: Path) -> tuple[int, str]:
    """(targets version, catalog text) as a node refreshing from ``repo`` sees them."""
    updater = Updater(node, f"file://{repo}/metadata", node / "t", f"file://{repo}/targets")
    updater.refresh()
    info = updater.get_targetinfo("app-catalog.json")
    assert info is not None
    path = updater.find_cached_target(info) or updater.download_target(info)
    return updater.trusted_set.targets.version, path.read_text()


@pytest.fixture
def ceremony(tmp_path: Path) -> ThrowawayCeremony:
    return make_ceremony(tmp_path)


def test_a_publish_writes_targets_then_metadata_then_the_timestamp_last(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    origin = RecordingOrigin(tmp_path / "repo")
    publish_signing_event(
        ceremony.state, event.event_id, tmp_path / "dist", origin, ceremony.online, NOW
    )
    kinds = [
        "target" if path.startswith("targets/") else path.split("/")[-1].split(".")[-2]
        for path in origin.writes
    ]
    assert kinds == ["target", "target", "app-files", "targets", "snapshot", "root", "timestamp"]
    assert origin.writes[-1] == "metadata/timestamp.json"


def test_a_second_publish_skips_unchanged_immutable_files_and_keeps_every_root(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    first = signed_event(ceremony, tmp_path / "d1", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state, first.event_id, tmp_path / "d1", FileOrigin(repo), ceremony.online, NOW
    )
    second = signed_event(
        ceremony, tmp_path / "d2", [SmallApp("demo-web", version="1.0.1")], "b" * 40
    )
    report = publish_signing_event(
        ceremony.state, second.event_id, tmp_path / "d2", FileOrigin(repo), ceremony.online, NOW
    )
    assert any(path.startswith("targets/icons/") for path in report.skipped)  # same icon
    assert "metadata/1.root.json" in report.skipped
    assert "metadata/2.targets.json" in report.written
    assert (repo / "metadata/1.targets.json").is_file()
    again = publish_signing_event(
        ceremony.state, second.event_id, tmp_path / "d2", FileOrigin(repo), ceremony.online, NOW
    )
    assert again.up_to_date and not again.written


def test_a_publish_below_threshold_is_refused_and_writes_nothing(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    sign_event(ceremony.state, event.event_id, ceremony.maintainers[0], NOW)
    with pytest.raises(PublishError, match="has not met its threshold"):
        publish_signing_event(
            ceremony.state,
            event.event_id,
            tmp_path / "dist",
            FileOrigin(tmp_path / "repo"),
            ceremony.online,
            NOW,
        )
    assert not (tmp_path / "repo").exists()


def test_a_build_that_differs_from_what_was_signed_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    write_build(tmp_path / "dist", [SmallApp("demo-web", version="6.6.6")], commit="c" * 40)
    signed_elsewhere = r"app-catalog.json is not the catalog the targets metadata \(v1\) signs"
    with pytest.raises(PublishError, match=signed_elsewhere):
        publish_signing_event(
            ceremony.state,
            event.event_id,
            tmp_path / "dist",
            FileOrigin(tmp_path / "repo"),
            ceremony.online,
            NOW,
        )
    assert not (tmp_path / "repo").exists()


def test_a_key_that_is_not_the_online_key_is_refused(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    with pytest.raises(PublishError, match="is not the snapshot key"):
        publish_signing_event(
            ceremony.state,
            event.event_id,
            tmp_path / "dist",
            FileOrigin(tmp_path / "repo"),
            SigningKey.generate(),
            NOW,
        )


# the second publish below makes 9 create/replace calls (some find the file already there:
# the catalog, its delta, two icons, app-files, targets, snapshot, root, timestamp); a fault
# before each one of them, the last being the timestamp replace that makes the new catalog
# visible
FAULT_POINTS = range(9)
SECOND_PUBLISH_APPS = [SmallApp("demo-web", version="2.0.0"), SmallApp("new-app", host_port=18081)]


def test_the_fault_points_cover_every_write_of_the_second_publish(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    first = signed_event(ceremony, tmp_path / "d1", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state, first.event_id, tmp_path / "d1", FileOrigin(repo), ceremony.online, NOW
    )
    second = signed_event(ceremony, tmp_path / "d2", SECOND_PUBLISH_APPS, "b" * 40)
    recording = RecordingOrigin(repo)
    publish_signing_event(
        ceremony.state, second.event_id, tmp_path / "d2", recording, ceremony.online, NOW
    )
    assert len(recording.attempts) == len(FAULT_POINTS)
    assert recording.attempts[-1] == recording.writes[-1] == "metadata/timestamp.json"


@pytest.mark.parametrize("allowed_writes", FAULT_POINTS)
def test_an_interrupted_publish_keeps_the_old_repository_and_a_rerun_completes_it(
    ceremony: ThrowawayCeremony, tmp_path: Path, allowed_writes: int
) -> None:
    repo = tmp_path / "repo"
    first = signed_event(ceremony, tmp_path / "d1", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state, first.event_id, tmp_path / "d1", FileOrigin(repo), ceremony.online, NOW
    )
    node = tmp_path / "node"
    node.mkdir()
    (node / "root.json").write_bytes((repo / "metadata/1.root.json").read_bytes())
    assert node_sees(node, repo)[0] == 1
    old_timestamp = (repo / "metadata/timestamp.json").read_bytes()

    second = signed_event(ceremony, tmp_path / "d2", SECOND_PUBLISH_APPS, "b" * 40)
    failing = FailingAfterWritesOrigin(repo, allowed_writes)
    with pytest.raises(OriginError, match="injected fault"):
        publish_signing_event(
            ceremony.state, second.event_id, tmp_path / "d2", failing, ceremony.online, NOW
        )
    assert failing.failed_at is not None
    if allowed_writes == FAULT_POINTS[-1]:
        assert failing.failed_at == "metadata/timestamp.json"  # the replace itself fails
    assert (repo / "metadata/timestamp.json").read_bytes() == old_timestamp
    assert not [p for p in repo.rglob(".tmp-*")]
    version, catalog = node_sees(node, repo)
    assert version == 1 and "new-app" not in catalog

    report = publish_signing_event(
        ceremony.state, second.event_id, tmp_path / "d2", FileOrigin(repo), ceremony.online, NOW
    )
    assert "metadata/timestamp.json" in report.written
    version, catalog = node_sees(node, repo)
    assert version == 2 and "new-app" in catalog


def test_refresh_timestamp_re_signs_the_timestamp_and_an_expiring_snapshot(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state, event.event_id, tmp_path / "dist", FileOrigin(repo), ceremony.online, NOW
    )
    report = refresh_timestamp(
        FileOrigin(repo), ceremony.online, NOW, timedelta(days=7), timedelta(days=1)
    )
    assert report.written == ["metadata/timestamp.json"] and report.snapshot_version == 1
    later = NOW + timedelta(days=6, hours=12)
    report = refresh_timestamp(
        FileOrigin(repo), ceremony.online, later, timedelta(days=7), timedelta(days=1)
    )
    assert report.written == ["metadata/2.snapshot.json", "metadata/timestamp.json"]
    timestamp = Metadata.from_bytes((repo / "metadata/timestamp.json").read_bytes(), Timestamp)
    assert timestamp.signed.version == 3 and timestamp.signed.snapshot_meta.version == 2
    node = tmp_path / "node"
    node.mkdir()
    (node / "root.json").write_bytes((repo / "metadata/1.root.json").read_bytes())
    assert node_sees(node, repo)[0] == 1


def test_the_publish_command_takes_the_online_key_from_the_environment(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    env = {
        "ONLINE_KEY": ceremony.key_files["online"].read_text(),
        "ONLINE_PASSPHRASE": PASSPHRASE.decode(),
    }
    args = [
        "publish",
        "--to",
        f"file://{tmp_path}/repo",
        "--ceremony",
        str(ceremony.state.path),
        "--event",
        event.event_id,
        "--dist",
        str(tmp_path / "dist"),
        "--online-key-env",
        "ONLINE_KEY",
        "--passphrase-env",
        "ONLINE_PASSPHRASE",
    ]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    assert "published to" in result.stdout and "targets v1" in result.stdout
    assert PASSPHRASE.decode() not in result.output
    result = CliRunner().invoke(main, args, env={**env, "ONLINE_PASSPHRASE": "nope"})
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: $ONLINE_KEY: wrong passphrase")
    assert os.path.isfile(tmp_path / "repo/metadata/timestamp.json")
