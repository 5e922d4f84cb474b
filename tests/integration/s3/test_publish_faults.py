"""Crashes, failing S3 calls and racing publishers: nodes only ever see a whole repository.

The store is real (SeaweedFS).  Two faults cannot be caused against it on
demand, so they are injected by fakes that wrap the real boto3 client and are
named as such: ``CrashAfterWritesFake`` (the publisher process dies after its
n-th successful upload) and ``FailNthCallFake`` (the n-th S3 call fails as if
the store answered 500 after botocore's own retries).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline.publish.origin import PublishConflictError, PublishError
from pipeline.publish.s3_client import parse_s3_url
from pipeline.publish.s3_origin import S3Origin, publish_to_s3
from pipeline.publish.upload_executor import execute_plan
from pipeline.publish.upload_planner import plan_publish
from tests.integration.s3.node import Node
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.repository_builder import RepositoryBuilder

pytestmark = pytest.mark.integration

WRITE_OPERATIONS = frozenset({"put_object", "complete_multipart_upload"})


class SimulatedCrash(BaseException):
    """The publisher process died (not an Exception: nothing may catch it)."""


class CrashAfterWritesFake:
    """FAKE: the real client, except that the process "dies" after ``writes`` uploads."""

    def __init__(self, client: Any, writes: int) -> None:
        self._client = client
        self._writes_left = writes

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)
        if name not in WRITE_OPERATIONS:
            return operation

        def write(**arguments: Any) -> Any:
            if self._writes_left == 0:
                raise SimulatedCrash(f"killed before {name} {arguments.get('Key')}")
            answer = operation(**arguments)
            self._writes_left -= 1
            return answer

        return write


class FailNthCallFake:
    """FAKE: the real client, except that call number ``failing_call`` (from 1) fails."""

    def __init__(self, client: Any, failing_call: int) -> None:
        self._client = client
        self._failing_call = failing_call
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)
        if not callable(operation) or name.startswith(("get_paginator", "meta")):
            return operation

        def call(**arguments: Any) -> Any:
            self.calls += 1
            if self.calls == self._failing_call:
                error = {"Code": "InternalError", "Message": "We encountered an internal error"}
                raise ClientError(
                    {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}, name
                )
            return operation(**arguments)

        return call


@pytest.fixture
def two_versions(tmp_path: Path) -> tuple[RepositoryBuilder, dict[str, bytes], dict[str, bytes]]:
    builder = RepositoryBuilder(tmp_path / "repository")
    builder.add_catalog('{"apps":"old"}')
    old = builder.files()
    builder.add_catalog('{"apps":"new"}')
    return builder, old, builder.files()


def test_a_crash_after_any_upload_leaves_the_old_or_the_new_repository(
    seaweedfs: SeaweedFS,
    bucket: str,
    two_versions: tuple[RepositoryBuilder, dict[str, bytes], dict[str, bytes]],
    tmp_path: Path,
) -> None:
    builder, old, new = two_versions
    endpoint = seaweedfs.endpoint_url
    writes_before_crash, steps = 0, None
    while steps is None or writes_before_crash <= steps:
        url = f"s3://{bucket}/crash-{writes_before_crash}"
        publish_to_s3(old, url, endpoint, seaweedfs.session())
        node = Node(tmp_path / f"node-{writes_before_crash}", builder.root_bytes, url, endpoint)
        assert node.catalog() == b'{"apps":"old"}'

        crashing_client = CrashAfterWritesFake(seaweedfs.client(), writes_before_crash)
        crashing = S3Origin(parse_s3_url(url), crashing_client)
        plan = plan_publish(crashing, new)
        steps = len(plan.uploads)
        assert steps == 4  # the new catalog, targets, snapshot, timestamp
        if writes_before_crash < steps:
            with pytest.raises(SimulatedCrash):
                execute_plan(crashing, plan)
        else:
            execute_plan(crashing, plan)

        fresh = Node(tmp_path / f"fresh-{writes_before_crash}", builder.root_bytes, url, endpoint)
        expected = b'{"apps":"new"}' if writes_before_crash == steps else b'{"apps":"old"}'
        assert node.catalog() == expected
        assert fresh.catalog() == expected

        rerun = publish_to_s3(new, url, endpoint, seaweedfs.session())
        assert len(rerun.uploaded) == steps - writes_before_crash
        assert node.catalog() == b'{"apps":"new"}'
        writes_before_crash += 1


def test_a_failing_s3_call_stops_the_publish_cleanly_and_a_rerun_completes(
    seaweedfs: SeaweedFS,
    bucket: str,
    two_versions: tuple[RepositoryBuilder, dict[str, bytes], dict[str, bytes]],
    tmp_path: Path,
) -> None:
    builder, old, new = two_versions
    endpoint = seaweedfs.endpoint_url
    counting = FailNthCallFake(seaweedfs.client(), failing_call=0)  # counts, never fails
    publish_to_s3(old, f"s3://{bucket}/count", endpoint, seaweedfs.session())
    counted = S3Origin(parse_s3_url(f"s3://{bucket}/count"), counting)
    execute_plan(counted, plan_publish(counted, new))
    total_calls = counting.calls
    assert total_calls >= 8  # bucket, marker, listing, timestamp, HEADs, uploads
    for failing_call in range(1, total_calls + 1):
        url = f"s3://{bucket}/fail-{failing_call}"
        publish_to_s3(old, url, endpoint, seaweedfs.session())
        failing = S3Origin(parse_s3_url(url), FailNthCallFake(seaweedfs.client(), failing_call))
        with pytest.raises(PublishError) as refused:
            execute_plan(failing, plan_publish(failing, new))
        assert "InternalError" in str(refused.value) and "\n" not in str(refused.value)
        node = Node(tmp_path / f"node-{failing_call}", builder.root_bytes, url, endpoint)
        assert node.catalog() == b'{"apps":"old"}'
        publish_to_s3(new, url, endpoint, seaweedfs.session())
        assert node.catalog() == b'{"apps":"new"}'


def test_a_crash_during_the_first_publish_is_completed_by_a_rerun(
    seaweedfs: SeaweedFS,
    bucket: str,
    two_versions: tuple[RepositoryBuilder, dict[str, bytes], dict[str, bytes]],
    tmp_path: Path,
) -> None:
    builder, old, _ = two_versions
    url = f"s3://{bucket}/first"
    crashing = S3Origin(parse_s3_url(url), CrashAfterWritesFake(seaweedfs.client(), 1))
    with pytest.raises(SimulatedCrash):
        execute_plan(crashing, plan_publish(crashing, old))  # only the marker got written
    publish_to_s3(old, url, seaweedfs.endpoint_url, seaweedfs.session())
    node = Node(tmp_path / "node", builder.root_bytes, url, seaweedfs.endpoint_url)
    assert node.catalog() == b'{"apps":"old"}'


def race(contenders: dict[str, dict[str, bytes]], url: str, seaweedfs: SeaweedFS) -> dict[str, str]:
    """Publish each contender's files at the same moment, each with its own client."""
    origins = {
        name: S3Origin.from_url(url, seaweedfs.endpoint_url, seaweedfs.session())
        for name in contenders
    }
    start_together = threading.Barrier(len(contenders))
    outcomes: dict[str, str] = {}

    def publish(name: str) -> None:
        start_together.wait()
        try:
            execute_plan(origins[name], plan_publish(origins[name], contenders[name]))
            outcomes[name] = "won"
        except PublishConflictError as error:
            outcomes[name] = f"conflict: {error}"

    racers = [threading.Thread(target=publish, args=(name,)) for name in contenders]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return outcomes


def test_two_racing_publishers_exactly_one_wins_every_time(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    builder = RepositoryBuilder(tmp_path / "repository")
    url = f"s3://{bucket}/race"
    endpoint = seaweedfs.endpoint_url
    publish_to_s3(builder.files(), url, endpoint, seaweedfs.session())
    node = Node(tmp_path / "node", builder.root_bytes, url, endpoint)
    node.refresh()
    observed_versions = [1]
    for round_number in range(20):
        texts = {name: f'{{"round":{round_number},"by":"{name}"}}' for name in ("alice", "bob")}
        contenders = {
            name: builder.candidate(text, tmp_path / f"r{round_number}-{name}")
            for name, text in texts.items()
        }
        outcomes = race({name: files for name, (files, _) in contenders.items()}, url, seaweedfs)

        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        [loser] = set(contenders) - set(winners)
        assert "rebuild" in outcomes[loser]
        winning_files, winning_state = contenders[winners[0]]
        origin_timestamp = (
            seaweedfs.client()
            .get_object(Bucket=bucket, Key="race/metadata/timestamp.json")["Body"]
            .read()
        )
        assert origin_timestamp == winning_files["metadata/timestamp.json"]
        assert node.catalog() == texts[winners[0]].encode()

        # The loser rebuilds on top of the winner and retries: no update is lost.
        builder.adopt(winning_state)
        observed_versions.append(builder.timestamp_version())
        builder.add_catalog(f'{{"round":{round_number},"by":"{loser}","retry":true}}')
        publish_to_s3(builder.files(), url, endpoint, seaweedfs.session())
        observed_versions.append(builder.timestamp_version())
        assert node.catalog() == f'{{"round":{round_number},"by":"{loser}","retry":true}}'.encode()
    assert observed_versions == list(range(1, 42))
