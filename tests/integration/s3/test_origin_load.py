"""Load (small version of bench/origin_load.py): 200 nodes pull from SeaweedFS at once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bench.origin_load import LoadReport, PullResult, print_report, pull_concurrently
from pipeline.publish.s3_origin import publish_to_s3
from tests.integration.s3.seaweedfs import SeaweedFS
from tests.support.repository_builder import RepositoryBuilder

pytestmark = pytest.mark.integration


def test_two_hundred_nodes_pull_concurrently_with_no_error(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    builder = RepositoryBuilder(tmp_path / "repository")
    catalog = b'{"apps":["bitcoin-core","lnd","electrs"]}'
    builder.add_catalog(catalog.decode())
    origin = f"s3://{bucket}/repo"
    publish_to_s3(builder.files(), origin, seaweedfs.endpoint_url, seaweedfs.session())

    alone = pull_concurrently(
        1, tmp_path / "alone", builder.root_bytes, origin, seaweedfs.endpoint_url
    )
    report = pull_concurrently(
        200, tmp_path / "nodes", builder.root_bytes, origin, seaweedfs.endpoint_url
    )

    assert report.errors == []
    # a retried transient error is still an error of the origin under load: count, report, refuse
    assert (alone.retries, report.retries) == (0, 0), [p.retries for p in report.pulls]
    assert len(report.pulls) == 200
    assert all(pull.catalog == catalog for pull in report.pulls)
    per_node = report.origin_bytes // 200
    assert report.origin_bytes == per_node * 200  # every node fetched the same files
    printed = io.StringIO()
    print_report(report, baseline_seconds=alone.percentile_seconds(0.5), out=printed)
    assert "errors:           0" in printed.getvalue()
    assert "retries:          0  (transient failures retried)" in printed.getvalue()
    assert "p99 latency:" in printed.getvalue()
    print(printed.getvalue())


def test_the_load_report_counts_and_prints_retries() -> None:
    """The retries of each node add up and are printed: a hidden retry cannot pass as clean."""
    report = LoadReport(
        [PullResult(0.01, 10, 2, None, b"{}", retries=2), PullResult(0.02, 10, 3, None, b"{}", 1)]
    )
    assert report.retries == 3 and report.errors == []
    printed = io.StringIO()
    print_report(report, baseline_seconds=0.01, out=printed)
    assert "retries:          3  (transient failures retried)" in printed.getvalue()
