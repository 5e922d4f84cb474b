"""TUF delegations (signing/delegations.py): which role is trusted for which target path,
checked against python-tuf (the interop oracle) path by path, and the exact refusal of
each malformed ``delegations`` object."""

from __future__ import annotations

from typing import Any

import pytest
from tuf.api import metadata as oracle

from signing.delegations import DelegatedRole, Delegations, SuccinctRoles, path_matches_pattern
from signing.errors import MetadataFormatError

TARGETS = [
    "apps/demo/icon.png",
    "apps/demo",
    "apps/x/y/z.json",
    "catalog/app-catalog.json",
    "a",
    "",
    "node/archy-node",
    "apps/Demo/icon.PNG",
    "apps/[x]/icon.png",
]
PATTERNS = [
    "apps/*/icon.png",
    "apps/*",
    "apps/*/*",
    "*",
    "catalog/app-catalog.json",
    "apps/demo/icon.???",
    "apps/[dx]*/icon.png",
    "apps/[!d]*/icon.png",
    "",
    "*/*/*/*",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_path_patterns_match_exactly_where_python_tuf_matches(pattern: str) -> None:
    role = oracle.DelegatedRole("r", [], 1, False, paths=[pattern])
    for target in TARGETS:
        assert path_matches_pattern(target, pattern) == role.is_delegated_path(target), target


@pytest.mark.parametrize("prefixes", [["8"], ["8f", "00"], ["0", "1", "2", "3"], [""], ["zz"]])
def test_hash_prefixes_match_exactly_where_python_tuf_matches(prefixes: list[str]) -> None:
    theirs = oracle.DelegatedRole("r", [], 1, False, path_hash_prefixes=prefixes)
    ours = DelegatedRole("r", (), 1, path_hash_prefixes=tuple(prefixes))
    for target in TARGETS:
        assert ours.is_delegated_path(target) == theirs.is_delegated_path(target), target


def test_a_role_with_neither_paths_nor_prefixes_is_trusted_for_nothing() -> None:
    assert not DelegatedRole("r", (), 1).is_delegated_path("apps/demo/icon.png")
    assert DelegatedRole("r", (), 1, paths=()).is_delegated_path("a") is False


@pytest.mark.parametrize("bit_length", [1, 3, 4, 8, 13])
def test_succinct_bins_name_the_role_python_tuf_names(bit_length: int) -> None:
    theirs = oracle.SuccinctRoles([], 1, bit_length, "bin")
    ours = SuccinctRoles((), 1, bit_length, "bin")
    for target in [*TARGETS, *(f"apps/app-{n}/manifest.yml" for n in range(64))]:
        assert ours.role_for_target(target) == theirs.get_role_for_target(target), target
    names = [
        "bin-0",
        "bin-00",
        "bin-1",
        "bin-7",
        "bin-8",
        "bin-f",
        "bin-ff",
        "bin-100",
        "bin-1fff",
        "bin-2000",
        "bin-0a",
        "bin-g",
        "bin-",
        "bin0",
        "other-0",
        "bin--1",
    ]
    for name in names:
        assert ours.is_role(name) == theirs.is_delegated_role(name), name
    # stricter than python-tuf on purpose: bins are named in lowercase hex digits (TAP 15),
    # so an upper-case, signed or padded suffix is no bin of ours (python-tuf takes them)
    width = ours._suffix_length()
    for suffix in ("A", "+1", " 1"):
        if len(suffix) <= width:
            assert not ours.is_role("bin-" + suffix.rjust(width, "0")), suffix


def role(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "keyids": [], "threshold": 1, "terminating": False, **fields}


def refusal(data: Any) -> str:
    with pytest.raises(MetadataFormatError) as refused:
        Delegations.from_dict(data, "targets.delegations")
    return str(refused.value)


def test_each_malformed_delegations_object_is_refused_with_where_and_why() -> None:
    assert refusal({"keys": {}}) == (
        "targets.delegations: needs exactly one of roles, succinct_roles"
    )
    both = {"keys": {}, "roles": [], "succinct_roles": {}}
    assert refusal(both) == "targets.delegations: needs exactly one of roles, succinct_roles"
    assert refusal({"keys": {}, "roles": {}}) == "targets.delegations.roles: must be a list"
    twice = {"keys": {}, "roles": [role("a", paths=["x"]), role("a", paths=["y"])]}
    assert refusal(twice) == "targets.delegations.roles[1]: bad name 'a'"
    top = {"keys": {}, "roles": [role("b", paths=[]), role("snapshot", paths=[])]}
    assert refusal(top) == "targets.delegations.roles[1]: bad name 'snapshot'"
    mixed = {"keys": {}, "roles": [role("c", paths=["x"], path_hash_prefixes=["0"])]}
    assert refusal(mixed) == "targets.delegations.roles[0]: has both paths and path_hash_prefixes"
    wide = {"keyids": [], "threshold": 1, "bit_length": 33, "name_prefix": "bin"}
    assert refusal({"keys": {}, "succinct_roles": wide}) == (
        "targets.delegations.succinct.bit_length: must be ≤ 32"
    )


def test_roles_round_trip_with_their_unknown_fields_and_order() -> None:
    data = {
        "keys": {},
        "x-note": "kept",
        "roles": [
            role("first", paths=["apps/*"], terminating=True, x_custom=[1]),
            role("second", path_hash_prefixes=["0", "8"]),
            role("third"),
        ],
    }
    parsed = Delegations.from_dict(data, "d")
    assert parsed.to_dict() == data
    assert list(parsed.roles or {}) == ["first", "second", "third"]
    assert parsed.roles is not None and parsed.roles["first"].terminating is True
    assert parsed.roles["third"].paths is None and parsed.roles["third"].path_hash_prefixes is None
    succinct = {
        "keys": {},
        "succinct_roles": {
            "keyids": ["k1", "k2"],
            "threshold": 2,
            "bit_length": 5,
            "name_prefix": "bin",
            "x-bins": "kept",
        },
    }
    assert Delegations.from_dict(succinct, "d").to_dict() == succinct


def test_the_search_order_and_the_keys_asked_of_each_role() -> None:
    delegations = Delegations(
        keys={},
        roles={
            "catalog": DelegatedRole("catalog", ("k1",), 1, True, paths=("catalog/*",)),
            "apps": DelegatedRole("apps", ("k2", "k3"), 2, False, paths=("apps/*/*",)),
            "all": DelegatedRole("all", ("k4",), 1, False, paths=("*/*", "*/*/*")),
        },
    )
    assert list(delegations.roles_for_target("catalog/app-catalog.json")) == [
        ("catalog", True),
        ("all", False),
    ]
    assert list(delegations.roles_for_target("apps/demo/icon.png")) == [
        ("apps", False),
        ("all", False),
    ]
    assert list(delegations.roles_for_target("top")) == []
    assert delegations.keys_and_threshold("apps") == (("k2", "k3"), 2)
    assert delegations.keys_and_threshold("catalog") == (("k1",), 1)
    assert delegations.keys_and_threshold("missing") is None

    bins = Delegations(keys={}, succinct_roles=SuccinctRoles(("k5",), 3, 4, "bin"))
    name = bins.succinct_roles.role_for_target("apps/demo/icon.png")  # type: ignore[union-attr]
    assert list(bins.roles_for_target("apps/demo/icon.png")) == [(name, False)]
    assert bins.keys_and_threshold(name) == (("k5",), 3)
    assert bins.keys_and_threshold("bin-10") is None
    assert bins.keys_and_threshold("apps") is None
    assert Delegations(keys={}).keys_and_threshold("apps") is None
    assert list(Delegations(keys={}).roles_for_target("apps/demo/icon.png")) == []


def succinct(**fields: Any) -> dict[str, Any]:
    bins = {"keyids": [], "threshold": 1, "bit_length": 1, "name_prefix": "bin", **fields}
    return {"keys": {}, "succinct_roles": bins}


def one_role(**fields: Any) -> dict[str, Any]:
    return {"keys": {}, "roles": [{**role("a"), **fields}]}


def test_each_malformed_field_is_refused_with_its_path() -> None:
    cases = [
        (succinct(bit_length=0), "D.succinct.bit_length: must be an integer ≥ 1"),
        (succinct(threshold=0), "D.succinct.threshold: must be an integer ≥ 1"),
        (succinct(keyids="k"), "D.succinct.keyids: must be a list of strings"),
        (succinct(keyids=["k", "k"]), "D.succinct.keyids: must not repeat an entry"),
        (succinct(name_prefix=3), "D.succinct.name_prefix: must be a string"),
        (one_role(keyids=["k", "k"]), "D.roles[0].keyids: must not repeat an entry"),
        (one_role(threshold=0), "D.roles[0].threshold: must be an integer ≥ 1"),
        (one_role(terminating="no"), "D.roles[0].terminating: must be true or false"),
        (one_role(paths="x"), "D.roles[0].paths: must be a list of strings"),
        (
            one_role(path_hash_prefixes=[1]),
            "D.roles[0].path_hash_prefixes: must be a list of strings",
        ),
        (one_role(name=5), "D.roles[0].name: must be a string"),
    ]
    for data, message in cases:
        with pytest.raises(MetadataFormatError) as refused:
            Delegations.from_dict(data, "D")
        assert str(refused.value) == message
    # the smallest accepted values, and a path listed twice (not refused, like python-tuf)
    assert Delegations.from_dict(succinct(), "D").succinct_roles == SuccinctRoles((), 1, 1, "bin")
    twice = Delegations.from_dict(one_role(paths=["x", "x"]), "D")
    assert twice.roles is not None and twice.roles["a"].paths == ("x", "x")


def test_only_unknown_fields_are_kept_as_extra() -> None:
    parsed = Delegations.from_dict(
        {"keys": {}, "x-top": 1, "roles": [role("a", paths=["x"], x_role=2)]}, "D"
    )
    assert parsed.extra == {"x-top": 1}
    assert parsed.roles is not None and parsed.roles["a"].extra == {"x_role": 2}
    bins = Delegations.from_dict(succinct(**{"x-bins": 3}), "D").succinct_roles
    assert bins is not None and bins.extra == {"x-bins": 3}
    prefixed = Delegations.from_dict(one_role(path_hash_prefixes=["0"]), "D")
    assert prefixed.roles is not None and prefixed.roles["a"].extra == {}
