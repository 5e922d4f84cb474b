"""Arbitrary bytes as any metadata file never crash the client: only its own errors."""

from __future__ import annotations

import contextlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_runtime.fetch.tuf_client import Updater
from signing.errors import TufError
from signing.metadata import Metadata, Root, Snapshot, Targets, Timestamp
from signing.trusted_set import TrustedSet
from tests.support.repos import LiveRepository

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
metadata_like = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"signed": json_values, "signatures": json_values}).map(
        lambda v: json.dumps(v).encode()
    ),
)


@given(data=metadata_like)
@settings(max_examples=300)
def test_parsing_any_bytes_raises_only_our_errors(data: bytes) -> None:
    for role_type in (Root, Timestamp, Snapshot, Targets):
        with contextlib.suppress(TufError):
            Metadata.from_bytes(data, role_type)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> LiveRepository:
    repo = LiveRepository(tmp_path_factory.mktemp("fuzz") / "repository")
    repo.delegate("targets", "apps")
    repo.publish()
    return repo


@given(
    name=st.sampled_from(
        ["2.root.json", "timestamp.json", "2.snapshot.json", "2.targets.json", "1.apps.json"]
    ),
    data=metadata_like,
)
# no deadline: the client fsyncs every trusted file it keeps, and disk time is not under test
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_client_given_any_bytes_as_a_metadata_file_raises_only_our_errors(
    repository: LiveRepository, tmp_path: Path, name: str, data: bytes
) -> None:
    served = repository.directory / "metadata"
    original = {p.name: p.read_bytes() for p in served.iterdir()}
    (served / name).write_bytes(data)
    client = Path(tempfile.mkdtemp(dir=tmp_path))
    (client / "root.json").write_bytes(repository.root_bytes())
    try:
        updater = Updater(client, served.as_uri(), reference_time=datetime.now(UTC))
        updater.get_targetinfo("anything")
    except TufError:
        pass
    finally:
        for path in served.iterdir():
            if path.name not in original:
                path.unlink()
        for file_name, content in original.items():
            (served / file_name).write_bytes(content)


@given(data=metadata_like)
@settings(max_examples=200)
def test_trusted_set_given_any_initial_root_raises_only_our_errors(data: bytes) -> None:
    with contextlib.suppress(TufError):
        TrustedSet(data)
