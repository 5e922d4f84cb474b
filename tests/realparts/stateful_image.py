"""The stateful gate app's images, from Debian's own packages: no registry (DESIGN §8).

``scripts/build-stateful-rootfs`` (root, once per recipe) debootstraps Debian 12
with PostgreSQL 15, Redis 7 and busybox-static into
``.cache/stateful-rootfs/<recipe hash>.tar`` (about 70 s the first time).  Here:

* ``localhost/archy-gate-db-base:1`` is ``podman import`` of that tar into the
  test user's storage, labelled with the tar's name (the recipe hash), so it is
  imported again only when the recipe changes;
* ``localhost/archy-gate-db-web:N`` (N = 1, 2, 3) is built on it with
  ``podman build --pull=never`` from ``tests/integration/lifecycle/gate_db_image``,
  shipping the migrations numbered up to N (3 is a broken release), labelled
  with a hash of its context so an unchanged one is not rebuilt.

A second run with everything in place only inspects four labels.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from . import REPO_ROOT
from .podman_user import RootlessPodman

BASE_IMAGE = "localhost/archy-gate-db-base:1"
WEB_IMAGE = "localhost/archy-gate-db-web:{release}"
WEB_RELEASES = (1, 2, 3)
RECIPE_LABEL = "archy.recipe"
CONTEXT_LABEL = "archy.context-sha256"
BUILD_SCRIPT = REPO_ROOT / "scripts/build-stateful-rootfs"
WEB_CONTEXT = REPO_ROOT / "tests/integration/lifecycle/gate_db_image"


class StatefulImageError(Exception):
    """The images cannot be made here; the message says why in one line."""


def rootfs_tar() -> Path:
    """The cached rootfs tar of the current recipe, built (as root) when missing."""
    proc = subprocess.run(
        [str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False
    )
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise StatefulImageError(f"scripts/build-stateful-rootfs failed: {reason}")
    return Path(proc.stdout.strip().splitlines()[-1])


def _label(podman: RootlessPodman, ref: str, label: str) -> str | None:
    if not podman.image_exists(ref):
        return None
    return podman.inspect_field(ref, '{{index .Config.Labels "' + label + '"}}')


def import_base_image(podman: RootlessPodman) -> str:
    tar = rootfs_tar()
    if _label(podman, BASE_IMAGE, RECIPE_LABEL) == tar.name:
        return BASE_IMAGE
    with tar.open("rb") as stream:
        proc = subprocess.run(
            podman.argv(["podman", "import", "--change", 'CMD ["/bin/sh"]',
                         "--change", f"LABEL {RECIPE_LABEL}={tar.name}", "-", BASE_IMAGE]),
            stdin=stream, capture_output=True, env=podman.env(), cwd=podman.home,
            timeout=600, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        raise StatefulImageError(f"podman import of {tar} failed: {proc.stderr.decode()[-500:]}")
    return BASE_IMAGE


def web_context_files(release: int) -> dict[str, bytes]:
    """Relative path -> bytes of release ``release``'s context (its migrations up to it)."""
    files = {}
    for path in sorted(WEB_CONTEXT.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(WEB_CONTEXT).as_posix()
        if relative.startswith("migrations/") and int(path.name.split("_", 1)[0]) > release:
            continue
        files[relative] = path.read_bytes()
    return files


def build_web_image(podman: RootlessPodman, release: int, base_digest: str) -> str:
    ref = WEB_IMAGE.format(release=release)
    files = web_context_files(release)
    digest = hashlib.sha256(base_digest.encode())
    for relative, data in files.items():
        digest.update(relative.encode() + b"\0" + data + b"\0")
    context_hash = digest.hexdigest()
    if _label(podman, ref, CONTEXT_LABEL) == context_hash:
        return ref
    context = podman.make_tmpdir("gate-db-web")
    try:
        for relative, data in files.items():
            target = context / "app" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod((WEB_CONTEXT / relative).stat().st_mode & 0o755)
        (context / "Containerfile").write_text(
            f"FROM {BASE_IMAGE}\n"
            "COPY app/ /opt/gate-db/\n"
            f"LABEL {CONTEXT_LABEL}={context_hash}\n"
            'CMD ["/opt/gate-db/start"]\n'
        )
        podman.chown_to_user(context)
        podman.run("build", "--pull=never", "-q", "-t", ref, str(context), timeout=600)
    finally:
        podman.run("unshare", "rm", "-rf", str(context), check=False)
    return ref


def build_stateful_images(podman: RootlessPodman) -> list[str]:
    """Every image gate-db's releases run, in the test user's storage."""
    base = import_base_image(podman)
    base_digest = podman.inspect_field(base, "{{.Id}}")
    return [base, *(build_web_image(podman, n, base_digest) for n in WEB_RELEASES)]
