"""Delegated targets: pre-order depth-first search, terminating roles, paths, hash bins, names."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from tuf.api.metadata import DelegatedRole

from tests.support.tuf_fixtures import ConformanceClient
from tests.support.tuf_oracle import SimulatedRepository

TOP_LEVEL_REQUESTS = 4  # root N+1, timestamp, snapshot, targets

# (delegator, role, terminating, paths) in publication order; the roles the
# client must fetch, in order, while looking for a target nobody lists.
GRAPHS = {
    "one delegation": ([("targets", "A", False, ["*"])], ["A"]),
    "two siblings": ([("targets", "A", False, ["*"]), ("targets", "B", False, ["*"])], ["A", "B"]),
    "depth first": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("A", "C", False, ["*"]), ("A", "D", False, ["*"])],
        ["A", "C", "D", "B"],
    ),
    "three levels depth first": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("A", "C", False, ["*"]), ("C", "D", False, ["*"])],
        ["A", "C", "D", "B"],
    ),
    "terminating role stops the search": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("A", "C", True, ["*"]), ("A", "D", False, ["*"])],
        ["A", "C"],
    ),
    "terminating role's own children are searched": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("A", "C", True, ["*"]), ("C", "D", False, ["*"])],
        ["A", "C", "D"],
    ),
    "non-matching branch is skipped": (
        [
            ("targets", "A", False, ["*.py"]),
            ("targets", "B", False, ["*"]),
            ("A", "C", False, ["*"]),
        ],
        ["B"],
    ),
    "non-matching grandchild is skipped": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("A", "C", False, ["*.py"]), ("C", "D", False, ["*"])],
        ["A", "B"],
    ),
    "cycle is visited once": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("B", "C", False, ["*"]), ("C", "D", False, ["*"]), ("D", "B", False, ["*"])],
        ["A", "B", "C", "D"],
    ),
    "shared child reached through the first delegator": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("B", "C", False, ["*"]), ("A", "C", False, ["*"])],
        ["A", "C", "B"],
    ),
    "shared child reached where the path matches": (
        [("targets", "A", False, ["*"]), ("targets", "B", False, ["*"]),
         ("B", "C", False, ["*"]), ("A", "C", False, ["*.py"])],
        ["A", "B", "C"],
    ),
}  # fmt: skip


def build(repo: SimulatedRepository, delegations: list[tuple[str, str, bool, list[str]]]) -> None:
    changed: list[str] = []
    for delegator, name, terminating, paths in delegations:
        repo.delegate(delegator, DelegatedRole(name, [], 1, terminating, paths))
        changed += [r for r in (name, delegator) if r not in changed]
    # children before parents is not needed: snapshot lists every version
    repo.publish_targets(*changed)


@pytest.mark.parametrize("delegations,visited", GRAPHS.values(), ids=GRAPHS.keys())
def test_delegation_graph_is_searched_in_pre_order(
    client: ConformanceClient,
    repo: SimulatedRepository,
    delegations: list[tuple[str, str, bool, list[str]]],
    visited: list[str],
) -> None:
    assert client.init() == 0
    build(repo, delegations)
    assert client.download("missingpath") == 1
    versions = {name: repo.targets(name).version for name in visited}
    assert repo.metadata_requests[TOP_LEVEL_REQUESTS:] == [(n, versions[n]) for n in visited]


TREE = [
    ("targets", "A", False, ["*.doc", "*.md"]),
    ("targets", "B", False, ["releases/*/*"]),
    ("B", "C", False, ["releases/x/*"]),
    ("B", "D", False, ["releases/y/*.zip"]),
]
ARTIFACTS = [
    ("targets", "targetfile"), ("A", "README.md"), ("C", "releases/x/x_v1"),
    ("D", "releases/y/y_v1.zip"), ("D", "releases/z/z_v1.zip"),
]  # fmt: skip


@pytest.mark.parametrize(
    "path,found,visited",
    [
        ("targetfile", True, []),
        ("README.md", True, ["A"]),
        ("releases/x/x_v1", True, ["B", "C"]),
        ("releases/y/y_v1.zip", True, ["B", "D"]),
        ("releases/z/z_v1.zip", False, ["B"]),  # D lists it but is not trusted for it
        ("docs/README.md", False, []),  # "*" does not match "/"
    ],
)
def test_target_is_found_only_through_matching_delegations(
    client: ConformanceClient, repo: SimulatedRepository, path: str, found: bool, visited: list[str]
) -> None:
    assert client.init() == 0
    for delegator, name, terminating, paths in TREE:
        repo.delegate(delegator, DelegatedRole(name, [], 1, terminating, paths))
    for role, artifact in ARTIFACTS:
        repo.add_artifact(artifact, f"{artifact} by {role}".encode(), role)
    repo.publish_targets("targets", "A", "B", "C", "D")
    assert client.download(path) == (0 if found else 1)
    assert client.downloaded() == ([repo.artifacts[path].data] if found else [])
    versions = {n: repo.targets(n).version for n in "ABCD"}
    assert repo.metadata_requests[TOP_LEVEL_REQUESTS:] == [(n, versions[n]) for n in visited]


def test_path_hash_prefixes_select_the_role(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    import hashlib

    path = "bins/artifact"
    digest = hashlib.sha256(path.encode()).hexdigest()
    other = "0" if digest[0] != "0" else "1"
    repo.delegate("targets", DelegatedRole("wrong-bin", [], 1, False, path_hash_prefixes=[other]))
    repo.delegate(
        "targets", DelegatedRole("right-bin", [], 1, False, path_hash_prefixes=[digest[:3]])
    )
    repo.add_artifact(path, b"in the right bin", "right-bin")
    repo.add_artifact(path, b"in the wrong bin", "wrong-bin")
    repo.artifacts[path].data = b"in the right bin"
    repo.artifacts[path].info = repo.targets("right-bin").targets[path]
    repo.publish_targets("targets", "wrong-bin", "right-bin")
    assert client.init() == 0
    assert client.download(path) == 0
    assert client.downloaded() == [b"in the right bin"]
    assert [r for r, _ in repo.metadata_requests[TOP_LEVEL_REQUESTS:]] == ["right-bin"]


def test_succinct_hash_bins(client: ConformanceClient, repo: SimulatedRepository) -> None:
    bins = repo.delegate_hash_bins("targets", 4, "bin")
    assert len(bins) == 16 and bins[0] == "bin-0"
    from tuf.api.metadata import SuccinctRoles

    succinct = repo.targets().delegations.succinct_roles
    assert isinstance(succinct, SuccinctRoles)
    path = "some/artifact.tar"
    role = succinct.get_role_for_target(path)
    repo.add_artifact(path, b"binned", role)
    repo.publish_targets("targets", *bins)
    assert client.init() == 0
    assert client.download(path) == 0
    assert client.downloaded() == [b"binned"]
    assert repo.metadata_requests[TOP_LEVEL_REQUESTS:] == [(role, 1)]
    assert client.files() == sorted(
        ["root.json", "timestamp.json", "snapshot.json", "targets.json", f"{role}.json"]
    )


def test_search_stops_after_32_delegated_roles(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    names = [f"role-{i:02d}" for i in range(40)]
    for name in names:
        repo.delegate("targets", DelegatedRole(name, [], 1, False, ["*"]))
    repo.add_artifact("deep", b"in the last role", names[-1])
    repo.publish_targets("targets", *names)
    assert client.init() == 0
    assert client.download("deep") == 1
    fetched = [r for r, _ in repo.metadata_requests[TOP_LEVEL_REQUESTS:]]
    assert fetched == names[:32]  # targets plus 32 delegated roles, as python-tuf


@pytest.mark.parametrize("name", ["?", "#", "/delegatedrole", "../delegatedrole", "a b%"])
def test_unusual_role_names_are_quoted_in_urls_and_file_names(
    client: ConformanceClient, repo: SimulatedRepository, name: str
) -> None:
    repo.delegate("targets", DelegatedRole(name, [], 1, False, ["*"]))
    repo.publish_targets("targets", name)
    assert client.init() == 0
    assert client.download("nonexistent target") == 1
    assert (quote(name, safe=""), 1) in repo.metadata_requests
    stored = [f for f in client.files() if f.endswith(".json")]
    assert len(stored) == 5
    assert all("/" not in f for f in stored)
    assert list(client.metadata_dir.parent.glob("delegatedrole*")) == []


def test_expired_delegated_role_fails_the_download(
    client: ConformanceClient, repo: SimulatedRepository
) -> None:
    from tests.support.tuf_oracle import days_from_now

    repo.delegate("targets", DelegatedRole("A", [], 1, False, ["*"]))
    repo.targets("A").expires = days_from_now(-1)
    repo.add_artifact("file", b"data", "A")
    repo.publish_targets("targets", "A")
    assert client.init() == 0
    assert client.download("file") == 1
    assert "A.json" not in client.files()
    assert client.downloaded() == []
