"""The build cache (``.cache/build``): same bytes with, without, warm, cold or corrupt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.canonical import encode_canonical_json
from pipeline.build_cache import BuildCache, cache_key, parses_back
from pipeline.build_types import BuildOptions, BuildRefused, BuildResult
from pipeline.catalog_build import build_catalog
from tests.support.apprepo import AppRepo


def three_app_repo(path: Path) -> AppRepo:
    source = AppRepo(path)
    source.add_app("demo-one")
    source.add_app("demo-two", port=18081, version="2.5")
    source.add_app("demo-three", port=18082, image="127.0.0.1:5000/demo/api:3@sha256:" + "a" * 64)
    source.commit("three apps")
    return source


def build(source: AppRepo, out: Path, cache: Path | None) -> BuildResult:
    return build_catalog(BuildOptions(repo=source.path, out_dir=out, cache_dir=cache))


def cache_files(cache: Path) -> list[Path]:
    return sorted(path for path in cache.rglob("*.json") if path.is_file())


def test_cold_warm_and_no_cache_builds_write_identical_bytes(tmp_path: Path) -> None:
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"

    uncached = build(source, tmp_path / "none", None)
    cold = build(source, tmp_path / "cold", cache)
    warm = build(source, tmp_path / "warm", cache)

    assert cold.catalog_bytes == uncached.catalog_bytes == warm.catalog_bytes
    # 3 manifests + 3 unit sets + 3 entry parts (checked to parse back)
    # + 3 per-app policy results (no error: their warnings, if any)
    # + 3 icon targets known by their git blob id + 3 app records
    assert (cold.cache_hits, cold.cache_misses) == (0, 18)
    # the records are found, but their icons are not published in this new output
    # folder, so each step looks up its own entry as well
    assert (warm.cache_hits, warm.cache_misses) == (18, 0)
    # + one "this catalog was checked" verdict, keyed by the catalog's BLAKE3
    assert len(cache_files(cache)) == 19
    assert len(list((cache / "checked-catalogs").glob("*.json"))) == 1
    for name in ("none", "cold", "warm"):
        assert (tmp_path / name / "outputs.json").read_bytes() == (
            tmp_path / "none" / "outputs.json"
        ).read_bytes()


def test_a_changed_manifest_misses_only_its_own_entries(tmp_path: Path) -> None:
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    build(source, tmp_path / "first", cache)
    source.add_app("demo-two", port=18081, version="2.6")
    source.commit("bump demo-two")

    cached = build(source, tmp_path / "cached", cache)

    # demo-two: its icon hits; its manifest, policy result, record, units and entry part miss.
    # The other two: all six entries hit (their records too, unusable in a new output folder).
    assert (cached.cache_hits, cached.cache_misses) == (13, 5)
    assert cached.catalog_bytes == build(source, tmp_path / "uncached", None).catalog_bytes
    assert cached.catalog.apps["demo-two"].version == "2.6"


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b""),
        lambda path: path.write_bytes(path.read_bytes()[:-7]),
        lambda path: path.write_bytes(b'{"key": "0", "value": {}}'),
        lambda path: path.write_text(
            json.dumps({"key": path.stem, "value": {"manifest": "{}", "lines": []}})
        ),
        lambda path: path.write_text(json.dumps({"key": path.stem, "value": [1, 2]})),
    ],
    ids=["empty", "truncated", "wrong-key", "wrong-shape", "not-a-mapping"],
)
def test_corrupt_entries_are_ignored_and_rebuilt(tmp_path: Path, damage: object) -> None:
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    first = build(source, tmp_path / "first", cache)
    for path in cache_files(cache):
        damage(path)  # type: ignore[operator]

    again = build(source, tmp_path / "again", cache)
    healed = build(source, tmp_path / "healed", cache)

    assert again.catalog_bytes == first.catalog_bytes == healed.catalog_bytes
    assert again.cache_hits == 0
    assert (healed.cache_hits, healed.cache_misses) == (18, 0)


def test_keys_cover_the_bytes_and_their_framing() -> None:
    assert cache_key("manifest", b"ab", b"c") != cache_key("manifest", b"a", b"bc")
    assert cache_key("manifest", b"x") != cache_key("units", b"x")
    assert cache_key("manifest", b"x") == cache_key("manifest", b"x")


def test_a_broken_manifest_is_refused_with_or_without_a_warm_cache(tmp_path: Path) -> None:
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    build(source, tmp_path / "first", cache)
    source.write("apps/demo-one/manifest.yml", "schema: 1\nid: demo-one\n")
    source.commit("break demo-one")

    for cache_dir in (cache, None):
        with pytest.raises(BuildRefused) as refused:
            build(source, tmp_path / "second", cache_dir)
        assert any("demo-one" in problem for problem in refused.value.problems)


def test_an_entry_that_does_not_parse_back_is_caught_with_a_warm_cache(tmp_path: Path) -> None:
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    built = build(source, tmp_path / "out", cache)
    assert parses_back(built.catalog_bytes, BuildCache(cache))  # every verdict cached

    document = json.loads(built.catalog_bytes)
    first_app = sorted(document["apps"])[0]
    wrong_hash = json.loads(built.catalog_bytes)
    wrong_hash["apps"][first_app]["manifest_blake3"] = "0" * 64
    wrong_top = json.loads(built.catalog_bytes)
    wrong_top["dev_build"] = "yes"
    moved = json.loads(built.catalog_bytes)
    moved["apps"]["other-id"] = moved["apps"].pop(first_app)
    for bad in (wrong_hash, wrong_top, moved):
        assert not parses_back(encode_canonical_json(bad), BuildCache(cache))
    assert not parses_back(b"[]", BuildCache(cache))


def output_files(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_an_incremental_build_writes_exactly_what_a_cold_build_writes(tmp_path: Path) -> None:
    """Previous catalog, warm cache, the same output folder: the same files, byte for byte."""
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    out = tmp_path / "out"
    build(source, out, cache)
    first_targets = {n: d for n, d in output_files(out).items() if n.startswith("targets/")}
    source.add_app("demo-two", port=18081, version="2.6")
    source.add_app("demo-one", revision=2)
    source.write("apps/demo-one/icon.svg", '<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>\n')
    source.commit("bump demo-two, new icon for demo-one")

    incremental = build_catalog(
        BuildOptions(
            repo=source.path, out_dir=out, previous=out / "app-catalog.json", cache_dir=cache
        )
    )
    cold = build(source, tmp_path / "cold", None)

    assert incremental.catalog_bytes == cold.catalog_bytes
    written = output_files(out)
    expected = output_files(tmp_path / "cold")
    assert {name: written[name] for name in expected} == expected
    # beyond that, the folder holds the previous build's targets as they were, nothing else
    extra = {name: written[name] for name in written.keys() - expected.keys()}
    assert extra and extra.items() <= first_targets.items()


def test_cached_policy_warnings_are_reported_again_and_an_error_is_never_cached(
    tmp_path: Path,
) -> None:
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")  # its image has no digest: a warning (P015)
    source.commit("one app")
    cache = tmp_path / "cache"
    cold = build(source, tmp_path / "cold", cache)
    warm = build(source, tmp_path / "warm", cache)
    assert cold.warnings and warm.warnings == cold.warnings

    source.add_app("demo-one", image="127.0.0.1:5000/demo/web:latest")
    source.commit("a latest tag")
    for attempt in ("first", "second"):
        with pytest.raises(BuildRefused) as refused:
            build(source, tmp_path / attempt, cache)
        assert any("latest" in problem for problem in refused.value.problems)
    assert not [path for path in (cache / "policy").iterdir() if b'"error"' in path.read_bytes()]


def poison(path: Path, secret: bytes | None) -> None:
    """Rewrite a manifest entry so it parses and round-trips but names another app name.

    With ``secret`` the MAC is recomputed with that secret (an attacker's guess);
    without, the old MAC is kept.
    """
    from pipeline.build_cache import entry_mac

    header, value_json = path.read_bytes().split(b"\n", 1)
    key, mac = header.decode().split(" ")
    value = json.loads(value_json)
    manifest = json.loads(value["manifest"])
    manifest["name"] = "Poisoned"
    value["manifest"] = encode_canonical_json(manifest).decode()
    value_json = json.dumps(value).encode()
    if secret is not None:
        mac = entry_mac(secret, key, value_json)
    path.write_bytes(f"{key} {mac}\n".encode() + value_json)


@pytest.mark.parametrize("secret", [None, b"\0" * 32], ids=["old-mac", "guessed-secret"])
def test_a_poisoned_entry_cannot_change_the_output(tmp_path: Path, secret: bytes | None) -> None:
    """A well-formed, self-consistent entry written by someone without the secret is a miss."""
    source = three_app_repo(tmp_path / "repo")
    cache = tmp_path / "cache"
    first = build(source, tmp_path / "first", cache)
    manifests = sorted((cache / "manifests").glob("*.json"))
    assert len(manifests) == 3
    for path in manifests:
        poison(path, secret)

    again = build(source, tmp_path / "again", cache)

    assert again.catalog_bytes == first.catalog_bytes
    assert b"Poisoned" not in again.catalog_bytes
    assert again.cache_misses == 3  # the three manifests, computed again


def test_the_mac_secret_lives_outside_the_cache_and_is_private(tmp_path: Path) -> None:
    secret_file = tmp_path / "config" / "build-cache.key"
    cache = BuildCache(tmp_path / "cache", secret_file=secret_file)
    cache.put("units", "k", {"a": "b"})
    assert secret_file.stat().st_mode & 0o777 == 0o600
    assert len(secret_file.read_bytes()) == 32
    assert BuildCache(tmp_path / "cache", secret_file=secret_file).get("units", "k", dict)
    other = BuildCache(tmp_path / "cache", secret_file=tmp_path / "other.key")
    assert other.get("units", "k", dict) is None  # another secret: every entry is a miss
