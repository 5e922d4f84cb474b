"""Smoke tests of the real parts (DESIGN §8): each fixture works for real."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.realparts.net import free_port, http_status, wait_for_http
from tests.realparts.podman_user import RootlessPodman, wait_healthy
from tests.realparts.quadlet import (
    parse_dryrun,
    quadlet_problems,
    run_quadlet_dryrun,
    unit_values,
)
from tests.realparts.registry import LocalRegistry, push_image

pytestmark = pytest.mark.integration


def test_quadlet_converts_a_container_unit_without_warnings(
    quadlet_bin: Path, tmp_path: Path
) -> None:
    (tmp_path / "hello.container").write_text(
        textwrap.dedent(
            """\
            [Unit]
            Description=hello

            [Container]
            ContainerName=hello
            Image=localhost/archy-test-busybox:1
            Exec=httpd -f -p 8080 -h /www
            PublishPort=127.0.0.1:18080:8080
            HealthCmd=wget -q -O /dev/null http://127.0.0.1:8080/

            [Install]
            WantedBy=default.target
            """
        )
    )
    stdout, stderr, rc = run_quadlet_dryrun(tmp_path, quadlet=quadlet_bin)
    assert rc == 0, stderr
    assert quadlet_problems(stderr) == []
    units = parse_dryrun(stdout)
    assert list(units) == ["hello.service"]
    [exec_start] = unit_values(units["hello.service"], "Service", "ExecStart")
    assert exec_start.startswith("/usr/bin/podman run --name hello ")
    assert "--publish 127.0.0.1:18080:8080" in exec_start
    assert exec_start.endswith("localhost/archy-test-busybox:1 httpd -f -p 8080 -h /www")


def test_quadlet_warnings_and_errors_are_reported(quadlet_bin: Path, tmp_path: Path) -> None:
    (tmp_path / "short.container").write_text("[Container]\nImage=busybox\n")
    (tmp_path / "typo.container").write_text("[Container]\nImage=localhost/x:1\nExecc=true\n")
    stdout, stderr, rc = run_quadlet_dryrun(tmp_path, quadlet=quadlet_bin)
    problems = quadlet_problems(stderr)
    assert rc != 0
    assert any("not a fully qualified image name" in p for p in problems), problems
    assert any("unsupported key 'Execc'" in p for p in problems), problems
    assert list(parse_dryrun(stdout)) == ["short.service"]


@pytest.mark.podman
def test_rootless_container_serves_http_and_becomes_healthy(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    port = free_port()
    name = f"archy-smoke-{port}"
    rootless_podman.run(
        "run", "--detach", "--name", name,
        "--publish", f"127.0.0.1:{port}:8080",
        "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/",
        "--health-interval", "30s", "--health-retries", "1",
        busybox_image, "httpd", "-f", "-p", "8080", "-h", "/www",
    )  # fmt: skip
    try:
        wait_healthy(rootless_podman, name, timeout=60)
        wait_for_http(f"http://127.0.0.1:{port}/", timeout=30)
        assert rootless_podman.inspect_field(name, "{{.Config.User}}") in ("", "0", "root")
        assert rootless_podman.info()["host"]["security"]["rootless"] is True
    finally:
        rootless_podman.remove(name)
    assert not rootless_podman.container_exists(name)
    assert http_status(f"http://127.0.0.1:{port}/") is None


@pytest.mark.podman
def test_app_image_builds_on_the_busybox_base_without_a_registry(
    rootless_podman: RootlessPodman, busybox_image: str, podman_tmp_path: Path
) -> None:
    ctx = podman_tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Containerfile").write_text(
        f'FROM {busybox_image}\nRUN echo built > /built\nCMD ["cat", "/built"]\n'
    )
    rootless_podman.chown_to_user(ctx)
    tag = f"localhost/archy-smoke-build:{podman_tmp_path.name}"
    rootless_podman.run("build", "--pull=never", "--quiet", "-t", tag, str(ctx))
    try:
        out = rootless_podman.run("run", "--rm", tag).stdout
        assert out == "built\n"
    finally:
        rootless_podman.run("rmi", "--force", tag)


@pytest.mark.podman
def test_containers_find_each_other_by_name_on_a_user_network(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    suffix = str(free_port())
    net, web = f"archy-smoke-net-{suffix}", f"archy-smoke-web-{suffix}"
    rootless_podman.run("network", "create", net)
    try:
        rootless_podman.run(
            "run", "--detach", "--name", web, "--network", net,
            "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/",
            busybox_image, "httpd", "-f", "-p", "8080", "-h", "/www",
        )  # fmt: skip
        wait_healthy(rootless_podman, web, timeout=60)
        out = rootless_podman.run(
            "run", "--rm", "--network", net, busybox_image,
            "wget", "-q", "-O", "-", f"http://{web}:8080/",
        ).stdout  # fmt: skip
        assert out == "archy-test-busybox\n"
    finally:
        rootless_podman.remove(web)
        rootless_podman.run("network", "rm", "--force", net, check=False)


@pytest.mark.podman
def test_registry_accepts_a_push_and_serves_the_manifest_digest(
    local_registry: LocalRegistry, rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    assert local_registry.manifest_head("smoke/busybox", "1")[0] == 404
    digest = push_image(rootless_podman, busybox_image, local_registry, "smoke/busybox:1")
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert local_registry.manifest_digest("smoke/busybox", "1") == digest
    status, _ = local_registry.manifest_head("smoke/busybox", digest)
    assert status == 200
