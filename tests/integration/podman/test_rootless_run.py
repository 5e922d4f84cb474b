"""The podman backend runs real apps rootless, healthy and reachable, then removes them.

The test apps live in tests/apps/ (Containerfiles on the local busybox base,
no registry).  Each run does what the node agent will do on a host without a
systemd user session: build the images, create the data dirs owned by the
uid each member maps to, create the network and the generated secrets
(value on stdin), start the members in dependency order waiting for each one
to be healthy, check the UI answers on 127.0.0.1, and stop and remove it all.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.runtime_names import LABEL_CONFIG_HASH
from catalog.runtime_spec import host_uid_for
from node_runtime.engines.podman_args import (
    app_run_arguments,
    healthcheck_arguments,
    network_create_arguments,
    network_exists_arguments,
    remove_arguments,
    secret_create_arguments,
    stop_arguments,
)
from pipeline.appset import load_app_folder
from tests.realparts import REPO_ROOT
from tests.realparts.net import free_port, wait_for_http
from tests.realparts.podman_user import RootlessPodman, wait_healthy
from tests.realparts.wait import poll_until

pytestmark = [pytest.mark.integration, pytest.mark.podman]

TEST_APPS = REPO_ROOT / "tests" / "apps"


def subordinate_range(user: str) -> tuple[int, int]:
    """(start, count) of the user's subuid range in /etc/subuid."""
    with open("/etc/subuid", encoding="utf-8") as ranges:
        for line in ranges:
            name, start, count = line.strip().split(":")
            if name == user:
                return int(start), int(count)
    pytest.fail(f"{user} has no /etc/subuid range; run `sudo scripts/setup-test-env`")


def with_free_host_ports(manifest: Manifest) -> Manifest:
    """The manifest with every host port replaced by one that is free here."""
    document: dict[str, Any] = manifest.to_document()
    for member in document["containers"]:
        for port in member["ports"]:
            port["host"] = free_port()
    return Manifest.model_validate(document)


def build_image(podman: RootlessPodman, folder: Path, image: str, workdir: Path) -> None:
    context = workdir / f"context-{folder.name}"
    shutil.copytree(folder / "build", context)
    podman.chown_to_user(context)
    podman.run("build", "--pull=never", "-t", image, str(context))


def prepare_data_dirs(podman: RootlessPodman, specs: list[MemberSpec]) -> None:
    """Create each volume's dir and give it to the host uid its member's data_uid maps to."""
    for spec in specs:
        for mount in spec.mounts:
            path = Path(mount.host_path)
            path.mkdir(parents=True, exist_ok=True)
            podman.chown_to_user(path.parent)
            podman.chown_to_user(path)
            if spec.data_uid:
                podman.run("unshare", "chown", f"{spec.data_uid}:{spec.data_uid}", str(path))


def start_app(podman: RootlessPodman, manifest: Manifest, data_root: Path) -> list[MemberSpec]:
    if podman.run(*network_exists_arguments(), check=False).returncode != 0:
        # Debian 12's podman 4.3 has no `network create --ignore`
        podman.run(*network_create_arguments(ignore_existing=False))
    for secret in manifest.generated_secrets:
        value = secrets.token_urlsafe(secret.length)[: secret.length]
        podman.run(*secret_create_arguments(manifest.id, secret.name), input=value)
    started: list[MemberSpec] = []
    for spec, arguments in app_run_arguments(manifest, str(data_root)):
        for dependency in spec.depends_on:
            assert podman.health_status(dependency) == "healthy"
        podman.run(*arguments)
        started.append(spec)
        if spec.health is not None:
            wait_healthy(podman, spec.name, timeout=60)
    return started


def remove_app(podman: RootlessPodman, manifest: Manifest) -> None:
    for member in reversed(manifest.containers):
        podman.run(*stop_arguments(member.name, timeout_seconds=2), check=False)
        podman.run(*remove_arguments(member.name), check=False)
    for secret in manifest.generated_secrets:
        podman.run("secret", "rm", f"archy-{manifest.id}_{secret.name}", check=False)


@pytest.fixture
def data_root(podman_tmp_path: Path) -> Path:
    return podman_tmp_path / "data"


def run_test_app(
    podman: RootlessPodman, busybox_image: str, name: str, workdir: Path, data_root: Path
) -> Iterator[tuple[Manifest, list[MemberSpec]]]:
    folder = TEST_APPS / name
    manifest = with_free_host_ports(load_app_folder(folder).source.manifest)
    for image in sorted({member.image for member in manifest.containers}):
        build_image(podman, folder, image, workdir)
    remove_app(podman, manifest)  # leftovers of an interrupted run
    specs = [spec for spec, _ in app_run_arguments(manifest, str(data_root))]
    prepare_data_dirs(podman, specs)
    try:
        yield manifest, start_app(podman, manifest, data_root)
    finally:
        remove_app(podman, manifest)
        for member in manifest.containers:
            assert not podman.container_exists(member.name), member.name


def ui_url(manifest: Manifest) -> str:
    assert manifest.ui is not None
    member = manifest.member(manifest.ui.container)
    [port] = [p for p in member.ports if p.container == manifest.ui.port]
    return f"http://127.0.0.1:{port.host_port}{manifest.ui.path}"


def test_a_single_container_app_runs_rootless_healthy_and_answers_on_loopback(
    rootless_podman: RootlessPodman, busybox_image: str, podman_tmp_path: Path, data_root: Path
) -> None:
    podman = rootless_podman
    for manifest, [spec] in run_test_app(
        podman, busybox_image, "hello-web", podman_tmp_path, data_root
    ):
        wait_for_http(ui_url(manifest), timeout=30)
        assert podman.inspect_field(spec.name, "{{.State.Status}}") == "running"
        assert podman.inspect_field(spec.name, "{{.HostConfig.RestartPolicy.Name}}") == "always"
        labels = podman.inspect_field(spec.name, '{{index .Config.Labels "archy.config-hash"}}')
        assert labels == dict(spec.labels)[LABEL_CONFIG_HASH]
        started = Path(spec.mounts[0].host_path) / "started"
        assert started.read_text() == "100% test mode\n"  # % and a space survived
        assert os.stat(started).st_uid == podman.uid  # data_uid 0 is the node user
        assert podman.run("exec", spec.name, "touch", "/rootfs-probe", check=False).returncode != 0


def test_a_three_member_stack_starts_in_order_of_health_and_answers_on_loopback(
    rootless_podman: RootlessPodman, busybox_image: str, podman_tmp_path: Path, data_root: Path
) -> None:
    podman = rootless_podman
    for manifest, started in run_test_app(
        podman, busybox_image, "test-stack", podman_tmp_path, data_root
    ):
        assert [spec.name for spec in started] == [
            "test-stack-store",
            "test-stack-api",
            "test-stack-web",
        ]
        wait_for_http(ui_url(manifest), timeout=30)
        for spec in started:
            result = podman.run(*healthcheck_arguments(spec.name), check=False)
            assert result.returncode == 0, (spec.name, result.stderr)
        store = started[0]
        ready = Path(store.mounts[0].host_path) / "ready"
        poll_until(ready.exists, timeout=10, what=f"{ready} written by the store")
        start, count = subordinate_range(podman.user)
        assert os.stat(ready).st_uid == host_uid_for(1000, podman.uid, start, count)
