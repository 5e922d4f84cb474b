"""Companion images: rebuilt by real rootless podman only when their build context changed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.address import blake3_hex
from catalog.catalog_model import AppCatalog
from pipeline.build_types import BuildOptions, BuildRefused, BuildResult
from pipeline.catalog_build import build_catalog
from tests.realparts.podman_user import RootlessPodman
from tests.support.apprepo import AppRepo

pytestmark = [pytest.mark.integration, pytest.mark.podman]


class PodmanAsTestUser:
    """Runs the pipeline's podman commands as the rootless test user (real podman)."""

    def __init__(self, podman: RootlessPodman) -> None:
        self.user = podman

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.user.run(*args, check=False)

    @contextlib.contextmanager
    def scratch_dir(self) -> Iterator[Path]:
        path = self.user.make_tmpdir("companion")
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def hand_over(self, path: Path) -> None:
        self.user.chown_to_user(path)


@pytest.fixture
def ui_repo(tmp_path: Path, busybox_image: str) -> AppRepo:
    source = AppRepo(tmp_path / "repo")
    image = f"localhost/archy-test-ui-{uuid.uuid4().hex[:12]}:1.0"
    source.add_app("demo-ui", image=image, build=True)
    source.write("apps/demo-ui/build/Containerfile",
                 f"FROM {busybox_image}\nCOPY index.html /www/index.html\n")  # fmt: skip
    source.write("apps/demo-ui/build/index.html", "<h1>v1</h1>\n")
    source.add_app("demo-web", port=18081)
    source.commit("a companion app")
    return source


@pytest.fixture
def podman_runner(rootless_podman: RootlessPodman) -> PodmanAsTestUser:
    return PodmanAsTestUser(rootless_podman)


def run_build(source: AppRepo, runner: PodmanAsTestUser, **options: object) -> BuildResult:
    out = source.path / "dist"
    return build_catalog(
        BuildOptions(repo=source.path, out_dir=out, previous=out / "app-catalog.json",
                     podman=runner, **options)  # type: ignore[arg-type]
    )  # fmt: skip


def companion_of(catalog: AppCatalog) -> object:
    (companion,) = catalog.apps["demo-ui"].companions
    return companion


def test_a_new_companion_is_built_saved_as_an_oci_archive_and_recorded(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser, rootless_podman: RootlessPodman
) -> None:
    result = run_build(ui_repo, podman_runner)

    assert result.companions_built == ["demo-ui"]
    (companion,) = result.catalog.apps["demo-ui"].companions
    assert companion.archive is not None and companion.image_id is not None
    archive = ui_repo.path / "dist" / "targets" / companion.archive.target
    assert companion.archive.target.startswith(f"companions/{companion.archive.blake3}.demo-ui")
    assert blake3_hex(archive.read_bytes()) == companion.archive.blake3
    assert archive.stat().st_size == companion.archive.length
    assert rootless_podman.inspect_field(companion.image, "{{.Id}}") == companion.image_id
    (image,) = result.catalog.apps["demo-ui"].images
    assert image.companion and image.digest is None


def test_an_unchanged_context_is_not_rebuilt(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser, rootless_podman: RootlessPodman
) -> None:
    first = run_build(ui_repo, podman_runner)
    (built,) = first.catalog.apps["demo-ui"].companions
    rootless_podman.run("rmi", built.image)  # a rebuild would bring it back
    ui_repo.add_app("demo-web", port=18081, revision=2, summary="Only the other app changed")
    ui_repo.commit("change another app")

    second = run_build(ui_repo, podman_runner)

    assert second.companions_built == []
    assert second.companions_reused == ["demo-ui"]
    assert second.catalog.apps["demo-ui"].companions == [built]
    assert not rootless_podman.image_exists(built.image)


def test_a_changed_context_is_rebuilt(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser, rootless_podman: RootlessPodman
) -> None:
    first = run_build(ui_repo, podman_runner)
    (old,) = first.catalog.apps["demo-ui"].companions
    ui_repo.write("apps/demo-ui/build/index.html", "<h1>v2: the fix</h1>\n")
    image = old.image
    ui_repo.add_app("demo-ui", image=image, build=True, revision=2)
    ui_repo.commit("fix the companion page")

    second = run_build(ui_repo, podman_runner)

    (new,) = second.catalog.apps["demo-ui"].companions
    assert second.companions_built == ["demo-ui"]
    assert new.context_blake3 != old.context_blake3
    assert new.image_id != old.image_id
    page = rootless_podman.run("run", "--rm", image, "cat", "/www/index.html").stdout
    assert page == "<h1>v2: the fix</h1>\n"


def test_a_changed_context_without_a_bump_is_refused(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser
) -> None:
    run_build(ui_repo, podman_runner)
    before = (ui_repo.path / "dist" / "app-catalog.json").read_bytes()
    ui_repo.write("apps/demo-ui/build/index.html", "<h1>sneaky</h1>\n")
    ui_repo.commit("change the context only")

    with pytest.raises(BuildRefused, match="the companion context changed but version"):
        run_build(ui_repo, podman_runner)
    assert (ui_repo.path / "dist" / "app-catalog.json").read_bytes() == before


def test_the_same_commit_builds_the_same_image_and_archive(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser, rootless_podman: RootlessPodman
) -> None:
    first = run_build(ui_repo, podman_runner)
    (built,) = first.catalog.apps["demo-ui"].companions
    rootless_podman.run("rmi", built.image)
    second = run_build(ui_repo, podman_runner, rebuild_companions=True)

    assert second.companions_built == ["demo-ui"]
    assert companion_of(second.catalog) == companion_of(first.catalog)
    assert second.catalog_bytes == first.catalog_bytes


def test_a_local_tag_is_a_manual_override_and_never_built(
    tmp_path: Path, podman_runner: PodmanAsTestUser, rootless_podman: RootlessPodman
) -> None:
    source = AppRepo(tmp_path / "repo")
    image = f"localhost/archy-test-override-{os.getpid()}:local"
    source.add_app("demo-ui", image=image, build=True)
    source.write("apps/demo-ui/build/Containerfile", "FROM scratch\n")
    source.commit("an overridden companion")

    result = run_build(source, podman_runner, rebuild_companions=True)

    (companion,) = result.catalog.apps["demo-ui"].companions
    assert companion.local_override is True
    assert companion.image_id is None and companion.archive is None
    assert result.companions_built == []
    assert not rootless_podman.image_exists(image)


def test_a_symlink_out_of_the_context_is_refused_and_nothing_is_written(
    ui_repo: AppRepo, podman_runner: PodmanAsTestUser
) -> None:
    os.symlink("../../../../etc/passwd", ui_repo.path / "apps/demo-ui/build/passwd")
    ui_repo.commit("leak a host file")

    with pytest.raises(BuildRefused) as refused:
        run_build(ui_repo, podman_runner)

    assert str(refused.value) == (
        "apps/demo-ui/build/passwd -> ../../../../etc/passwd points outside the build context "
        "apps/demo-ui/build/; copy the file into the context instead"
    )
    assert not (ui_repo.path / "dist" / "app-catalog.json").exists()
    assert not (ui_repo.path / "dist" / "targets").exists()
