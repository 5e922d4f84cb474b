"""Issue 21, the publisher's side: each row run as the newcomer ran it, now one clear line.

``archy validate`` on a file that is not a manifest, from inside an app folder;
``archy images lock`` with no registry reachable; ``archy build --dev`` whose
companion cannot be built offline; the unpinned-image warnings folded into one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.support.apprepo import AppRepo

REPO = Path(__file__).resolve().parents[3]


def archy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``archy ARGS`` in a child process, stdout a pipe (as in a script)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "300"},
        check=False,
        timeout=120,
    )


def one_app(path: Path, *images: str) -> AppRepo:
    source = AppRepo(path)
    for index, image in enumerate(images):
        source.add_app(f"demo-{index}", port=18100 + index, image=image)
    source.commit("apps")
    return source


# -- archy validate on things that are not manifests -------------------------------------


@pytest.mark.parametrize("name", ["icon.svg", "README.md", "stray.yml"])
def test_validate_on_a_file_that_is_not_a_manifest_says_so_in_one_line(
    tmp_path: Path, name: str
) -> None:
    source = one_app(tmp_path / "repo", "127.0.0.1:5000/demo/web:1.0")
    stray = source.path / "apps" / "demo-0" / name
    stray.write_text("hello\n", encoding="utf-8")

    result = archy(source.path, "validate", str(stray.relative_to(source.path)))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"apps/demo-0/{name}: not an app: give an app folder, its manifest.yml" in result.stderr
    assert "NotADirectoryError" not in result.stderr + result.stdout


@pytest.mark.parametrize("argument", [".", "manifest.yml", "./manifest.yml"])
def test_validate_inside_the_app_folder_knows_the_folder_name(
    tmp_path: Path, argument: str
) -> None:
    source = one_app(tmp_path / "repo", "127.0.0.1:5000/demo/web:1.0")

    result = archy(source.path / "apps" / "demo-0", "validate", argument)

    assert result.returncode == 0, result.stderr
    assert "must equal its folder name" not in result.stderr
    assert "1 apps checked: 0 errors" in result.stdout


def test_validate_from_inside_still_refuses_a_wrong_id(tmp_path: Path) -> None:
    source = one_app(tmp_path / "repo", "127.0.0.1:5000/demo/web:1.0")
    folder = source.path / "apps" / "demo-0"
    folder.rename(source.path / "apps" / "renamed")

    result = archy(source.path / "apps" / "renamed", "validate", ".")

    assert result.returncode == 1
    assert "id 'demo-0' must equal its folder name 'renamed'" in result.stderr


def test_unpinned_images_are_one_warning_with_one_fix(tmp_path: Path) -> None:
    source = one_app(
        tmp_path / "repo",
        "127.0.0.1:5000/demo/web:1.0",
        "127.0.0.1:5000/demo/api:1.0",
        "127.0.0.1:5000/demo/db:1.0",
    )

    result = archy(source.path, "validate", "apps")
    as_json = archy(source.path, "validate", "apps", "--json")

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: 3 images in 3 apps have no @sha256 digest (P015); run `archy images lock` "
        "and commit images.lock.json (publishing refuses unpinned images)"
    ]
    detail = json.loads(as_json.stdout)  # scripts still get each one
    assert sum("P015" in json.dumps(p) for p in detail["problems"]) == 3


# -- archy images lock, offline --------------------------------------------------------


def test_images_lock_with_no_registry_reachable_refuses_and_writes_nothing(
    tmp_path: Path,
) -> None:
    port = free_port()  # nothing listens here: what "offline" looks like to the client
    source = one_app(
        tmp_path / "repo", f"127.0.0.1:{port}/demo/web:1.0", f"127.0.0.1:{port}/demo/api:1.0"
    )

    result = archy(source.path, "images", "lock")
    as_json = archy(source.path, "images", "lock", "--json")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no registry could be reached for any of the 2 images" in result.stderr
    assert "images lock refused" in result.stderr
    assert not (source.path / "images.lock.json").exists()
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["ok"] is False
    assert not (source.path / "images.lock.json").exists()


def test_images_lock_offline_keeps_an_existing_lock_byte_for_byte(tmp_path: Path) -> None:
    port = free_port()
    source = one_app(tmp_path / "repo", f"127.0.0.1:{port}/demo/web:1.0")
    lock = source.path / "images.lock.json"
    lock.write_bytes(b'{"images":{},"schema":1}')
    before = lock.read_bytes()

    result = archy(source.path, "images", "lock")

    assert result.returncode == 1
    assert lock.read_bytes() == before


# -- archy build --dev offline, with a companion -------------------------------------------


@pytest.mark.integration
def test_build_dev_offline_companion_failure_points_at_companions_skip(
    rootless_podman: RootlessPodman, podman_tmp_path: Path
) -> None:
    port = free_port()  # the base image's registry: unreachable, as offline
    source = AppRepo(podman_tmp_path / "repo")
    source.add_app("demo-web")
    source.add_app("demo-ui", port=18081, image="127.0.0.1:5000/demo/ui:1.0", build=True)
    source.write("apps/demo-ui/build/Containerfile", f"FROM 127.0.0.1:{port}/base/busybox:1\n")
    source.commit("a companion app")
    rootless_podman.chown_to_user(source.path)

    result = rootless_podman.command(
        [sys.executable, "-m", "pipeline.cli", "build", "--dev", "--no-cache"],
        cwd=source.path,
        env={"PYTHONPATH": str(REPO)},
        check=False,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "demo-ui: podman build of demo-ui failed" in result.stderr
    assert (
        "hint: offline, or the base images are not pulled? `archy build --dev --companions "
        "skip` leaves out the apps whose companion image must be built"
    ) in result.stderr
    assert not (source.path / "dist" / "app-catalog.json").exists()


def test_build_dev_folds_the_unpinned_image_warnings_into_one_line(tmp_path: Path) -> None:
    source = one_app(
        tmp_path / "repo", "127.0.0.1:5000/demo/web:1.0", "127.0.0.1:5000/demo/api:1.0"
    )

    result = archy(source.path, "build", "--dev", "--no-cache")

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: 2 images in 2 apps have no @sha256 digest (P015); run `archy images lock` "
        "and commit images.lock.json (publishing refuses unpinned images)"
    ]
    assert "Resolving" not in result.stderr and "━" not in result.stderr  # no bar in a pipe
