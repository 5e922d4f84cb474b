"""Change detection: every changed app bumps its version or revision; versions never go back."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from catalog.catalog_model import parse_catalog
from pipeline.build_types import BuildOptions, BuildRefused
from pipeline.catalog_build import build_catalog
from pipeline.changes import compare_versions
from pipeline.cli import main
from tests.support.apprepo import AppRepo


@pytest.fixture
def published(tmp_path: Path) -> AppRepo:
    """A repo with two apps whose first catalog is already in dist/."""
    source = AppRepo(tmp_path / "repo")
    source.add_app("demo-one")
    source.add_app("demo-two", port=18081)
    source.commit("first")
    build_catalog(BuildOptions(repo=source.path, out_dir=source.path / "dist"))
    return source


def build(source: AppRepo, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["build", "--repo", str(source.path), "--out", str(source.path / "dist"), *extra]
    )
    return result.exit_code, result.output


def catalog_bytes(source: AppRepo) -> bytes:
    return (source.path / "dist" / "app-catalog.json").read_bytes()


def test_a_changed_manifest_without_a_bump_is_refused_and_names_the_app(
    published: AppRepo,
) -> None:
    before = catalog_bytes(published)
    published.add_app("demo-two", port=18081, summary="A different summary")
    published.commit("edit demo-two, forget the bump")

    code, output = build(published)

    assert code == 1
    assert (
        "apps/demo-two: the manifest changed but version and revision are still 1.0.0-r1" in output
    )
    assert "nothing was written" in output
    assert catalog_bytes(published) == before


def test_a_revision_bump_is_reported_as_a_change(published: AppRepo) -> None:
    published.add_app("demo-two", port=18081, summary="A different summary", revision=2)
    published.add_app("demo-three", port=18082)
    published.commit("bump demo-two, add demo-three")

    code, output = build(published)

    assert code == 0, output
    assert "~ demo-two 1.0.0-r1 -> 1.0.0-r2 (manifest)" in output
    assert "+ demo-three 1.0.0-r1" in output
    assert not [
        line for line in output.splitlines() if line.startswith(("~ demo-one", "+ demo-one"))
    ]


def test_a_version_going_backwards_is_refused(published: AppRepo) -> None:
    published.add_app("demo-one", version="0.9.0", revision=5)
    published.commit("downgrade")

    code, output = build(published)

    assert code == 1
    assert "demo-one: version goes backwards from 1.0.0 to 0.9.0" in output


def test_a_revision_going_backwards_is_refused(published: AppRepo) -> None:
    published.add_app("demo-one", revision=0)
    published.commit("revision down")

    with pytest.raises(BuildRefused, match=r"revision goes backwards from 1\.0\.0-r1 to"):
        build_catalog(BuildOptions(repo=published.path, out_dir=published.path / "dist",
                                   previous=published.path / "dist/app-catalog.json"))  # fmt: skip


def test_a_changed_icon_needs_a_bump_too(published: AppRepo) -> None:
    published.write("apps/demo-one/icon.svg", "<svg><circle r='1'/></svg>\n")
    published.commit("new icon")

    code, output = build(published)

    assert code == 1
    assert "apps/demo-one: the icon changed" in output


def test_a_removed_app_is_listed(published: AppRepo) -> None:
    published.repo.git.rm("-r", "-q", "apps/demo-one")
    published.commit("remove demo-one")

    code, output = build(published)

    assert code == 0, output
    assert "- demo-one 1.0.0-r1" in output
    assert sorted(parse_catalog(catalog_bytes(published)).apps) == ["demo-two"]


def test_the_same_commit_again_changes_nothing(published: AppRepo) -> None:
    before = catalog_bytes(published)
    code, output = build(published)
    assert code == 0, output
    assert "no app changed" in output
    assert catalog_bytes(published) == before


def test_a_dirty_apps_folder_refuses_a_publishing_build(published: AppRepo) -> None:
    before = catalog_bytes(published)
    published.add_app("demo-two", port=18081, revision=2, summary="Work in progress")

    code, output = build(published)

    assert code == 1
    assert "uncommitted changes under apps/ (apps/demo-two/manifest.yml)" in output
    assert "--dev" in output
    assert catalog_bytes(published) == before


def test_a_dev_build_reads_the_dirty_work_tree_and_says_so(published: AppRepo) -> None:
    published.add_app("demo-two", port=18081, revision=2, summary="Work in progress")
    published.add_app("demo-new", port=18089)  # untracked

    code, output = build(published, "--dev")

    assert code == 0, output
    catalog = parse_catalog(catalog_bytes(published))
    assert catalog.dev_build is True
    assert catalog.source.dirty is True
    assert catalog.apps["demo-two"].manifest.summary == "Work in progress"
    assert "demo-new" in catalog.apps


def test_a_commit_that_does_not_descend_from_the_previous_one_is_refused(
    published: AppRepo,
) -> None:
    first = published.repo.head.commit.hexsha
    published.add_app("demo-one", revision=2, summary="Second")
    published.commit("second")
    assert build(published)[0] == 0

    code, output = build(published, "--commit", first)

    assert code == 1
    assert "does not descend from the previous catalog's commit" in output


@pytest.mark.parametrize(
    ("older", "newer"),
    [("1.9", "1.10"), ("29.0", "29.1"), ("1.0.0rc1", "1.0.0"), ("v2.3.9", "v2.4.0"),
     ("2024.1.3-ls12", "2024.1.3-ls13"), ("0.17.5-beta", "0.18.0-beta")],
)  # fmt: skip
def test_versions_compare_in_release_order(older: str, newer: str) -> None:
    assert compare_versions(older, newer) == -1
    assert compare_versions(newer, older) == 1
    assert compare_versions(newer, newer) == 0
