"""``archy images lock`` against Debian's docker-registry on 127.0.0.1; podman pushes the images."""

from __future__ import annotations

import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from catalog.catalog_model import parse_catalog
from pipeline.build_types import BuildOptions
from pipeline.catalog_build import build_catalog
from pipeline.cli import main
from pipeline.imagelock import RegistryClient, RegistryError, read_lock_file
from tests.realparts.net import free_port
from tests.realparts.podman_user import RootlessPodman
from tests.realparts.registry import LocalRegistry, push_image
from tests.support.apprepo import AppRepo

pytestmark = pytest.mark.integration


def tiny_rootfs() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime = 6, 0
        tar.addfile(info, io.BytesIO(b"hello\n"))
    return buffer.getvalue()


def push_multi_arch(
    podman: RootlessPodman, amd64_image: str, registry: LocalRegistry, name_tag: str
) -> dict[str, str]:
    """Push an amd64 + arm64 manifest list; return each image's digest in the registry."""
    arm64_image = "localhost/archy-test-tiny-arm64:1"
    podman.run("import", "--arch", "arm64", "-", arm64_image, input=tiny_rootfs(), text=False)
    name, tag = name_tag.rsplit(":", 1)
    digests = {
        "amd64": push_image(podman, amd64_image, registry, f"{name}:amd64"),
        "arm64": push_image(podman, arm64_image, registry, f"{name}:arm64"),
    }
    list_name = f"localhost/archy-test-list-{free_port()}:1"
    podman.run("manifest", "create", list_name)
    try:
        for arch in ("amd64", "arm64"):
            podman.run("manifest", "add", "--tls-verify=false", "--arch", arch, list_name,
                       f"docker://{registry.ref(name, arch)}")  # fmt: skip
        podman.run("manifest", "push", "--all", "--tls-verify=false", list_name,
                   f"docker://{registry.ref(name, tag)}")  # fmt: skip
    finally:
        podman.run("manifest", "rm", list_name, check=False)
    return digests


def app_repo_using(path: Path, *images: str) -> AppRepo:
    source = AppRepo(path)
    for index, image in enumerate(images):
        source.add_app(f"demo-{index}", port=18100 + index, image=image)
    source.commit("apps")
    return source


def test_a_single_arch_image_locks_to_the_digest_podman_pushed(
    local_registry: LocalRegistry, rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    digest = push_image(rootless_podman, busybox_image, local_registry, "demo/web:1.0")

    locked = RegistryClient().resolve(local_registry.ref("demo/web", "1.0"))

    assert locked.digest == digest
    assert locked.platforms == {"amd64": digest}


def test_a_multi_arch_image_records_the_index_and_each_architecture(
    local_registry: LocalRegistry, rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    per_arch = push_multi_arch(rootless_podman, busybox_image, local_registry, "demo/multi:2")

    locked = RegistryClient().resolve(local_registry.ref("demo/multi", "2"))

    assert locked.digest == local_registry.manifest_digest("demo/multi", "2")
    assert locked.media_type.endswith(("manifest.list.v2+json", "image.index.v1+json"))
    assert locked.platforms == per_arch
    assert locked.digest not in per_arch.values()


def test_lock_then_build_pins_every_image_and_the_units_pull_by_digest(
    tmp_path: Path,
    local_registry: LocalRegistry,
    rootless_podman: RootlessPodman,
    busybox_image: str,
) -> None:
    digest = push_image(rootless_podman, busybox_image, local_registry, "demo/web:1.0")
    per_arch = push_multi_arch(rootless_podman, busybox_image, local_registry, "demo/multi:2")
    reference = local_registry.ref("demo/web", "1.0")
    source = app_repo_using(tmp_path / "repo", reference, local_registry.ref("demo/multi", "2"))

    result = CliRunner().invoke(
        main, ["images", "lock", "--repo", str(source.path), "--require-digests", "--json"]
    )
    assert result.exit_code == 0, result.output
    source.commit("lock images")

    built = build_catalog(
        BuildOptions(repo=source.path, out_dir=tmp_path / "dist", require_digests=True)
    )
    web = built.catalog.apps["demo-0"]
    assert web.images[0].digest == digest
    assert web.images[0].platforms == {"amd64": digest}
    assert built.catalog.apps["demo-1"].images[0].platforms == per_arch
    assert built.catalog.images[reference].digest == digest
    (unit,) = [text for name, text in web.units.items() if name.endswith(".container")]
    assert f"Image={reference}@{digest}" in unit
    assert parse_catalog(built.catalog_bytes) == built.catalog


def test_relocking_an_unchanged_registry_changes_no_byte(
    tmp_path: Path,
    local_registry: LocalRegistry,
    rootless_podman: RootlessPodman,
    busybox_image: str,
) -> None:
    push_image(rootless_podman, busybox_image, local_registry, "demo/web:1.0")
    source = app_repo_using(tmp_path / "repo", local_registry.ref("demo/web", "1.0"))
    runner = CliRunner()
    assert runner.invoke(main, ["images", "lock", "--repo", str(source.path)]).exit_code == 0
    first = (source.path / "images.lock.json").read_bytes()
    assert runner.invoke(main, ["images", "lock", "--repo", str(source.path)]).exit_code == 0
    assert (source.path / "images.lock.json").read_bytes() == first


def test_an_unresolvable_image_is_refused_with_require_digests_and_warned_without(
    tmp_path: Path, local_registry: LocalRegistry
) -> None:
    source = app_repo_using(tmp_path / "repo", local_registry.ref("demo/missing", "1.0"))
    lock_file = source.path / "images.lock.json"
    runner = CliRunner()

    refused = runner.invoke(main, ["images", "lock", "--repo", str(source.path),
                                   "--require-digests"])  # fmt: skip
    assert refused.exit_code == 1
    assert "has no manifest '1.0'" in refused.output
    assert not lock_file.exists()

    warned = runner.invoke(main, ["images", "lock", "--repo", str(source.path)])
    assert warned.exit_code == 0
    assert "warning:" in warned.output
    assert read_lock_file(lock_file).images == {}


def test_an_unreachable_registry_is_a_clear_error_and_nothing_is_written(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    source = app_repo_using(tmp_path / "repo", f"127.0.0.1:{port}/demo/web:1.0")

    result = CliRunner().invoke(
        main, ["images", "lock", "--repo", str(source.path), "--require-digests"]
    )

    assert result.exit_code == 1
    assert f"cannot reach the registry at http://127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output
    assert not (source.path / "images.lock.json").exists()


class LyingRegistry(http.server.ThreadingHTTPServer):
    """FAKE (a fault the real registry cannot be made to commit): forwards every request to
    the real docker-registry but flips one byte of each manifest it serves, keeping the
    registry's Docker-Content-Digest header."""

    def __init__(self, upstream: LocalRegistry) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", 0), _LyingHandler)


class _LyingHandler(http.server.BaseHTTPRequestHandler):
    server: LyingRegistry

    def do_GET(self) -> None:
        answer = httpx.get(
            self.server.upstream.url + self.path, headers={"Accept": self.headers["Accept"]}
        )
        body = bytearray(answer.content)
        headers = answer.headers
        if "/manifests/" in self.path:
            body[-2] ^= 0x01
        self.send_response(200)
        for name in ("Content-Type", "Docker-Content-Digest"):
            if name in headers:
                self.send_header(name, headers[name])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(bytes(body))

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def lying_registry(local_registry: LocalRegistry) -> Iterator[LyingRegistry]:
    server = LyingRegistry(local_registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_registry_whose_digest_does_not_match_its_bytes_is_refused(
    local_registry: LocalRegistry,
    lying_registry: LyingRegistry,
    rootless_podman: RootlessPodman,
    busybox_image: str,
) -> None:
    push_image(rootless_podman, busybox_image, local_registry, "demo/web:1.0")
    host = f"127.0.0.1:{lying_registry.server_address[1]}"

    with pytest.raises(RegistryError, match="but the bytes it served hash to"):
        RegistryClient().resolve(f"{host}/demo/web:1.0")


def test_a_reference_without_a_registry_host_is_refused() -> None:
    with pytest.raises(RegistryError, match="name the registry host"):
        RegistryClient().resolve("library/busybox:1.36")
