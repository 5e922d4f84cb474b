"""``pull`` with catalog deltas: a node that follows by deltas ends byte-identical to a fresh one.

Real signed repositories on disk, published with the publisher's delta code;
every refusal of a delta (tampered file, a signed delta that makes another
catalog) ends in the full download and the right catalog.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.address import blake3_hex
from catalog.catalog_delta import delta_target_name, make_delta
from catalog.catalog_model import CATALOG_NAME
from node_runtime.fetch.pull import pull
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import CatalogPointer
from node_runtime.store.node_config import initialise_node
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

APP_IDS = ["alpha", "beta", "gamma", "delta-app"]


def node(directory: Path, repository: RepositoryHandle) -> NodePaths:
    paths = NodePaths(directory)
    initialise_node(
        paths, repository.root_path.read_bytes(), repository.origin, data_root=directory / "d"
    )
    return paths


def held_catalog(paths: NodePaths, blake3: str) -> bytes:
    return BlobStore(paths.blobs_dir).read_verified(blake3)


versions = st.dictionaries(st.sampled_from(APP_IDS), st.integers(0, 3), min_size=1, max_size=4)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(versions, min_size=2, max_size=4))
def test_a_node_following_by_deltas_ends_byte_identical_to_a_full_download(
    sequence: list[dict[str, int]],
) -> None:
    with tempfile.TemporaryDirectory() as work:
        base = Path(work)

        def apps_of(choice: dict[str, int]) -> dict[str, str]:
            return {
                app: manifest_yaml(app, version=f"1.{n}.0") for app, n in sorted(choice.items())
            }

        repository = make_repository(base / "origin", apps_of(sequence[0]))
        follower = node(base / "follower", repository)
        pull(follower)
        for index, choice in enumerate(sequence[1:], start=2):
            repository.publish(apps_of(choice), deltas_keep=3)
            followed = pull(follower)
            fresh = pull(node(base / f"fresh-{index}", repository))
            assert followed.pointer.blake3 == fresh.pointer.blake3
            assert held_catalog(follower, followed.pointer.blake3) == repository.catalog_bytes
            if followed.changed:
                assert followed.downloaded[0].startswith("catalog-deltas/")
            assert fresh.downloaded[0] == CATALOG_NAME


def test_a_tampered_delta_is_refused_and_the_catalog_is_fetched_whole(tmp_path: Path) -> None:
    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    paths = node(tmp_path / "node", repository)
    first = pull(paths).pointer.blake3
    repository.publish({"demo": manifest_yaml("demo", version="2.0.0")}, deltas_keep=2)
    delta_files = list((repository.directory / "targets" / "catalog-deltas").iterdir())
    assert len(delta_files) == 1 and first in delta_files[0].name
    delta_files[0].write_bytes(b"\x78\x9c tampered")
    result = pull(paths)
    assert result.changed and result.downloaded == [CATALOG_NAME]
    assert held_catalog(paths, result.pointer.blake3) == repository.catalog_bytes


def test_a_signed_delta_that_makes_another_catalog_is_refused(tmp_path: Path) -> None:
    """A delta the targets role signed, but whose result is not the signed catalog."""
    repository = make_repository(tmp_path / "origin", {"demo": manifest_yaml("demo")})
    paths = node(tmp_path / "node", repository)
    first = pull(paths).pointer.blake3
    held = repository.catalog_bytes
    other = repository.publish({"demo": manifest_yaml("demo", version="9.9.9")}).to_canonical()
    pull(paths)
    # Back to the first catalog's node, then a publish whose delta leads to `other`.
    rewound = node(tmp_path / "rewound", repository)
    store = BlobStore(rewound.blobs_dir)
    with store.receive(first, len(held)) as sink:
        sink.write(held)
    wrong = {delta_target_name(first): make_delta(held, other)}
    repository.publish({"demo": manifest_yaml("demo", version="3.0.0")}, extra_artifacts=wrong)
    NodeState(rewound).switch_catalog(
        CatalogPointer(
            blake3=first,
            length=len(held),
            commit="0" * 40,
            targets_version=1,
            pulled_at="2026-01-01T00:00:00Z",
        )
    )
    result = pull(rewound)
    assert result.downloaded == [CATALOG_NAME]
    assert store.contains(blake3_hex(wrong[delta_target_name(first)]))  # fetched, then refused
    assert held_catalog(rewound, result.pointer.blake3) == repository.catalog_bytes
    assert blake3_hex(repository.catalog_bytes) == result.pointer.blake3
