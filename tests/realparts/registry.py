"""Debian's docker-registry (distribution 2.8) on 127.0.0.1 (DESIGN §8).

Used to test image digest resolution: push an image built locally, then ask
the registry for the manifest digest as a node or the pipeline would.

    def test_x(local_registry, rootless_podman, busybox_image):
        digest = push_image(rootless_podman, busybox_image, local_registry, "app/web:1")
        assert local_registry.manifest_digest("app/web", "1") == digest
        ref = local_registry.ref("app/web", "1")   # "127.0.0.1:<port>/app/web:1"

Plain HTTP, no auth, a temporary storage directory; started per test by the
``local_registry`` fixture (about 0.1 s), or by ``start_registry()``.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import SETUP_HINT
from .net import free_port, http_status
from .podman_user import RootlessPodman
from .wait import poll_until

REGISTRY_BIN = "/usr/bin/docker-registry"

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@dataclass(frozen=True)
class LocalRegistry:
    port: int
    storage: Path
    log: Path
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>`` (the registry part of an image reference)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def ref(self, name: str, tag: str) -> str:
        return f"{self.address}/{name}:{tag}"

    def manifest_head(self, name: str, reference: str) -> tuple[int, dict[str, str]]:
        """HEAD /v2/<name>/manifests/<tag or digest>: (status, headers)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("HEAD", f"/v2/{name}/manifests/{reference}",
                         headers={"Accept": MANIFEST_ACCEPT})  # fmt: skip
            resp = conn.getresponse()
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def manifest_digest(self, name: str, reference: str) -> str:
        """The Docker-Content-Digest of a manifest (AssertionError if absent)."""
        status, headers = self.manifest_head(name, reference)
        assert status == 200, f"HEAD manifest {name}:{reference} -> {status}"
        return headers["docker-content-digest"]


def _config(storage: Path, port: int) -> str:
    return f"""\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""


def _launch(
    workdir: Path, storage: Path, timeout: float
) -> tuple[subprocess.Popen[bytes], LocalRegistry | None]:
    """Start one registry process on a free port; wait until /v2/ answers.

    Returns (process, registry), or (process, None) if it exited at start
    (e.g. the port was taken meanwhile).
    """
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(_config(storage, port))
    log = workdir / "registry.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin"},
            cwd=workdir,
        )
    reg = LocalRegistry(port=port, storage=storage, log=log)

    def up() -> str | None:
        if proc.poll() is not None:
            return "exited"
        return "up" if http_status(f"{reg.url}/v2/") == 200 else None

    def tail() -> str:
        return log.read_text()[-2000:]

    state = poll_until(
        up, timeout=timeout, what=f"docker-registry on {reg.address}", describe_last=tail
    )
    return proc, (reg if state == "up" else None)


@contextlib.contextmanager
def start_registry(*, timeout: float = 30.0) -> Iterator[LocalRegistry]:
    """Start docker-registry on a free 127.0.0.1 port; stop it on exit."""
    if not shutil.which(REGISTRY_BIN):
        pytest.fail(
            f"{REGISTRY_BIN} is missing (package docker-registry): {SETUP_HINT}", pytrace=False
        )
    workdir = Path(tempfile.mkdtemp(prefix="archy-registry-"))
    storage = workdir / "storage"
    storage.mkdir()
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # the free port may be taken meanwhile
            proc, reg = _launch(workdir, storage, timeout)
            if reg is not None:
                yield reg
                return
        log = (workdir / "registry.log").read_text()[-4000:]
        raise AssertionError(f"docker-registry did not start:\n{log}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def push_image(podman: RootlessPodman, image: str, registry: LocalRegistry, name_tag: str) -> str:
    """``podman push --tls-verify=false`` ``image`` to ``registry`` as
    ``name:tag``; returns the pushed manifest digest (``sha256:…``)."""
    tmp = podman.make_tmpdir("push")
    try:
        digestfile = tmp / "digest"
        podman.run(
            "push", "--tls-verify=false", "--quiet", "--digestfile", str(digestfile),
            image, f"docker://{registry.address}/{name_tag}",
        )  # fmt: skip
        return digestfile.read_text().strip()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def local_registry() -> Iterator[LocalRegistry]:
    """A fresh, empty docker-registry on 127.0.0.1 for one test."""
    with start_registry() as reg:
        yield reg
