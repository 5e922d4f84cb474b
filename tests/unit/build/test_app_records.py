"""App records (``pipeline/app_records.py``): an incremental build that reuses them writes
exactly what a cold build without any cache writes, and refuses exactly what it refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.app_records import RECORDS_KIND
from pipeline.build_cache import entry_mac
from pipeline.build_types import BuildOptions, BuildRefused, BuildResult
from pipeline.catalog_build import build_catalog
from tests.support.apprepo import AppRepo, manifest_text

DIGEST = "sha256:" + "b" * 64
ICON = '<svg xmlns="http://www.w3.org/2000/svg"><g id="s{step}"/></svg>\n'


def four_app_repo(path: Path) -> AppRepo:
    source = AppRepo(path)
    for index, app_id in enumerate(("app-one", "app-two", "app-three", "app-four")):
        source.add_app(app_id, port=18080 + index)
    source.commit("four apps")
    return source


def incremental(source: AppRepo, out: Path, cache: Path) -> BuildResult:
    """A build into ``out`` (where the last one went), with its catalog as the previous one."""
    previous = out / "app-catalog.json"
    return build_catalog(
        BuildOptions(
            repo=source.path,
            out_dir=out,
            cache_dir=cache,
            previous=previous if previous.exists() else None,
        )
    )


def cold(source: AppRepo, out: Path) -> BuildResult:
    return build_catalog(BuildOptions(repo=source.path, out_dir=out))


def outputs(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def assert_same_as_cold(source: AppRepo, built: BuildResult, out: Path, cold_out: Path) -> None:
    expected = cold(source, cold_out)
    assert built.catalog_bytes == expected.catalog_bytes
    assert built.warnings == expected.warnings
    written = outputs(out)
    assert {name: written[name] for name in outputs(cold_out)} == outputs(cold_out)


def record_files(cache: Path) -> list[Path]:
    return sorted((cache / RECORDS_KIND).glob("*.json"))


def test_an_unchanged_app_is_read_from_its_record_and_nothing_else(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    assert len(record_files(cache)) == 4

    again = incremental(source, out, cache)

    # the previous catalog's summary, then per app its manifest and its record (which holds
    # its policy result too); nothing else is looked up
    assert (again.cache_hits, again.cache_misses) == (9, 0)
    assert_same_as_cold(source, again, out, tmp_path / "cold")


def test_a_changed_app_misses_its_record_and_the_others_hit(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    source.add_app("app-two", port=18081, revision=2, summary="Changed")
    source.commit("change app-two")

    changed = incremental(source, out, cache)

    # the previous summary + 3 unchanged apps x 2 entries; app-two: manifest, record,
    # policy, units and entry part miss, its icon (same bytes) hits
    assert (changed.cache_hits, changed.cache_misses) == (8, 5)
    assert changed.changes.lines() == ["~ app-two 1.0.0-r1 -> 1.0.0-r2 (manifest)"]
    assert_same_as_cold(source, changed, out, tmp_path / "cold")


def test_a_removed_app_leaves_no_entry_behind(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    shutil.rmtree(source.path / "apps" / "app-three")
    source.commit("remove app-three")

    removed = incremental(source, out, cache)

    assert sorted(removed.catalog.apps) == ["app-four", "app-one", "app-two"]
    assert removed.changes.lines() == ["- app-three 1.0.0-r1"]
    assert_same_as_cold(source, removed, out, tmp_path / "cold")


def test_a_renamed_app_is_a_new_app_not_the_old_record(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    shutil.rmtree(source.path / "apps" / "app-four")
    source.add_app("app-renamed", port=18083)  # the same manifest but for its id
    source.commit("rename app-four")

    renamed = incremental(source, out, cache)

    assert "app-four" not in renamed.catalog.apps
    assert renamed.catalog.apps["app-renamed"].manifest.id == "app-renamed"
    assert renamed.changes.lines() == ["+ app-renamed 1.0.0-r1", "- app-four 1.0.0-r1"]
    assert_same_as_cold(source, renamed, out, tmp_path / "cold")


def test_a_port_clash_with_an_unchanged_app_is_still_refused(tmp_path: Path) -> None:
    """The cross-app rules see every app, those read from records too."""
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = incremental(source, out, cache)
    before = outputs(out)
    source.add_app("app-two", port=18083, revision=2)  # app-four's host port
    source.commit("app-two takes app-four's port")

    for cache_dir in (cache, None):
        with pytest.raises(BuildRefused) as refused:
            build_catalog(
                BuildOptions(repo=source.path, out_dir=out, cache_dir=cache_dir,
                             previous=out / "app-catalog.json")
            )  # fmt: skip
        assert refused.value.problems == [
            "apps/app-four/manifest.yml:20: containers[0].ports[0].host: host port 18083/tcp is "
            "also published by 'app-two' (apps/app-two/manifest.yml:20); pick a host port no "
            "other app in the catalog uses (P006)",
            "apps/app-two/manifest.yml:20: containers[0].ports[0].host: host port 18083/tcp is "
            "also published by 'app-four' (apps/app-four/manifest.yml:20); pick a host port no "
            "other app in the catalog uses (P006)",
        ]
        assert outputs(out) == before  # a refused build leaves the output as it was
    assert json.loads(first.catalog_bytes)["apps"]["app-two"]["revision"] == 1


def warm_without_previous(source: AppRepo, out: Path, cache: Path) -> BuildResult:
    """Warm cache, same output folder, no previous catalog: no change check to hide behind."""
    return build_catalog(BuildOptions(repo=source.path, out_dir=out, cache_dir=cache))


def test_a_new_lock_entry_misses_the_record_of_the_app_it_pins(tmp_path: Path) -> None:
    """Only the lock changes: the manifests (and their cache keys) are the same as before."""
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    lock = {
        "schema": 1,
        "images": {
            "127.0.0.1:5000/demo/web:1.0": {
                "digest": DIGEST,
                "media_type": "application/vnd.oci.image.manifest.v1+json",
                "platforms": {},
            }
        },
    }
    source.write("images.lock.json", json.dumps(lock))
    source.commit("lock the web image")

    with pytest.raises(BuildRefused) as refused:
        incremental(source, out, cache)
    assert refused.value.problems == [
        f"apps/{app_id}: the images changed but version and revision are still 1.0.0-r1; "
        "bump revision (or version) so nodes update"
        for app_id in ("app-four", "app-one", "app-three", "app-two")
    ]
    locked = warm_without_previous(source, out, cache)
    assert {app.images[0].digest for app in locked.catalog.apps.values()} == {DIGEST}
    assert_same_as_cold(source, locked, out, tmp_path / "cold")


def test_a_new_icon_misses_the_record_of_its_app(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    source.write("apps/app-three/icon.svg", ICON.format(step=1))
    source.commit("new icon for app-three")

    with pytest.raises(BuildRefused) as refused:
        incremental(source, out, cache)
    assert refused.value.problems == [
        "apps/app-three: the icon changed but version and revision are still 1.0.0-r1; "
        "bump revision (or version) so nodes update"
    ]
    changed = warm_without_previous(source, out, cache)
    assert_same_as_cold(source, changed, out, tmp_path / "cold")


def test_a_record_whose_icon_is_no_longer_published_is_not_used(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    shutil.rmtree(out / "targets" / "icons")

    again = incremental(source, out, cache)

    assert len(list((out / "targets" / "icons").iterdir())) == 4
    assert_same_as_cold(source, again, out, tmp_path / "cold")


@pytest.mark.parametrize("secret", [None, b"\0" * 32], ids=["old-mac", "guessed-secret"])
def test_a_forged_record_cannot_change_the_output(tmp_path: Path, secret: bytes | None) -> None:
    """A record rewritten without the secret (its units and entry changed) is a miss."""
    source = four_app_repo(tmp_path / "repo")
    out, cache = tmp_path / "out", tmp_path / "cache"
    incremental(source, out, cache)
    for path in record_files(cache):
        header, value_json = path.read_bytes().split(b"\n", 1)
        key, mac = header.decode().split(" ")
        forged = value_json.replace(b"production", b"forged")
        assert forged != value_json
        if secret is not None:
            mac = entry_mac(secret, key, forged)
        path.write_bytes(f"{key} {mac}\n".encode() + forged)

    again = incremental(source, out, cache)

    assert b"forged" not in again.catalog_bytes
    assert again.cache_misses == 4  # the four records, made again
    assert_same_as_cold(source, again, out, tmp_path / "cold")


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["bump", "port", "remove", "rename", "icon", "clash"]),
        st.sampled_from(["app-one", "app-two", "app-three", "app-four"]),
    ),
    min_size=1,
    max_size=3,
)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=EDITS)
def test_any_sequence_of_edits_builds_what_a_cold_build_builds(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, str]]
) -> None:
    """After each edit the warm, incremental build and a cold one agree: same bytes, or
    both refuse with the same problems."""
    base = tmp_path_factory.mktemp("edits")
    source = four_app_repo(base / "repo")
    out, cache = base / "out", base / "cache"
    incremental(source, out, cache)
    revisions: dict[str, int] = {}
    ports = {"app-one": 18080, "app-two": 18081, "app-three": 18082, "app-four": 18083}
    for step, (edit, app_id) in enumerate(edits):
        folder = source.path / "apps" / app_id
        if not folder.exists():
            continue
        revisions[app_id] = revisions.get(app_id, 1) + 1
        if edit == "remove":
            shutil.rmtree(folder)
        elif edit == "rename":
            shutil.rmtree(folder)
            ports[f"{app_id}-x"] = ports[app_id]
            source.add_app(f"{app_id}-x", port=ports[app_id])
        elif edit == "icon":
            source.add_app(app_id, port=ports[app_id], revision=revisions[app_id])
            source.write(f"apps/{app_id}/icon.svg", ICON.format(step=step))
        else:
            if edit == "port":
                ports[app_id] += 100
            port = 18080 if edit == "clash" and app_id != "app-one" else ports[app_id]
            source.add_app(app_id, port=port, revision=revisions[app_id])
        source.commit(f"step {step}: {edit} {app_id}")
        previous_bytes = outputs(out)
        try:
            expected: BuildResult | list[str] = cold(source, base / f"cold-{step}")
        except BuildRefused as error:
            expected = error.problems
        try:
            built: BuildResult | list[str] = incremental(source, out, cache)
        except BuildRefused as error:
            built = error.problems
        if isinstance(expected, list):
            assert built == expected
            assert outputs(out) == previous_bytes
            return  # a refused step ends the sequence (the next would start from it)
        assert isinstance(built, BuildResult)
        assert built.catalog_bytes == expected.catalog_bytes
        assert built.warnings == expected.warnings


def test_a_policy_warning_kept_in_a_record_is_reported_again(tmp_path: Path) -> None:
    source = four_app_repo(tmp_path / "repo")
    source.write(
        "apps/app-one/manifest.yml",
        manifest_text("app-one") + "generated_secrets:\n  - {name: unused, length: 16}\n",
    )
    source.commit("app-one declares a secret it never uses")
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = incremental(source, out, cache)
    unused = [warning for warning in first.warnings if "P008" in warning]
    assert len(unused) == 1 and unused[0].startswith("apps/app-one/manifest.yml:")

    again = incremental(source, out, cache)

    assert (again.cache_hits, again.cache_misses) == (9, 0)  # no policy entry looked up
    assert again.warnings == first.warnings
    assert_same_as_cold(source, again, out, tmp_path / "cold")
