"""A local base image made of busybox-static: no registry needed (DESIGN §8).

``build_busybox_image`` writes a root filesystem as a tar stream (the static
``/bin/busybox`` plus a symlink for every applet at its usual path, e.g.
``/bin/sh``, ``/usr/bin/wget``, ``/usr/sbin/httpd``; minimal /etc/passwd and
/etc/group; /tmp, /www with an index.html) and ``podman import``s it as
``localhost/archy-test-busybox:1``. The tar is deterministic (uid 0, mtime
0); its sha256 is stored as the image label ``archy.rootfs-sha256``, so the
image is only re-imported when busybox changes.

Build app images on it without any registry::

    ctx = podman_tmp_path / "ctx"          # readable by the test user
    ctx.mkdir()
    (ctx / "Containerfile").write_text(
        f"FROM {busybox_image}\\n"
        "COPY index.html /www/index.html\\n"
        'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\\n'
    )
    rootless_podman.chown_to_user(ctx)
    rootless_podman.run("build", "--pull=never", "-t", "localhost/myapp:1", str(ctx))

``--pull=never`` makes a missing base a clear error instead of a lookup.

Busybox 1.35 (Debian 12) gotcha: ``wget -T <secs>`` segfaults (exit 139)
when the connection fails; use plain ``wget -q -O /dev/null URL`` in health
commands. Names of containers on a user network resolve (dnsname plugin).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import struct
import subprocess
import tarfile

import pytest

from . import SETUP_HINT
from .podman_user import RootlessPodman

BUSYBOX_IMAGE = "localhost/archy-test-busybox:1"
BUSYBOX_PATH = "/bin/busybox"
ROOTFS_LABEL = "archy.rootfs-sha256"


def _is_static_elf(path: str) -> bool:
    """True when the ELF file has no PT_INTERP (no dynamic loader needed)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # ELFCLASS64
            return False
        endian = "<" if head[5] == 1 else ">"
        phoff = struct.unpack_from(endian + "Q", head, 32)[0]
        phentsize, phnum = struct.unpack_from(endian + "HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    pt_interp = 3
    types = (struct.unpack_from(endian + "I", table, i * phentsize)[0] for i in range(phnum))
    return all(t != pt_interp for t in types)


def busybox_rootfs_tar(busybox: str = BUSYBOX_PATH) -> bytes:
    """The deterministic rootfs tar described in the module docstring."""
    if not os.path.isfile(busybox) or shutil.which("busybox") is None:
        pytest.fail(f"{busybox} is missing (package busybox-static): {SETUP_HINT}", pytrace=False)
    if not _is_static_elf(busybox):
        pytest.fail(
            f"{busybox} is dynamically linked; install busybox-static: {SETUP_HINT}",
            pytrace=False,
        )
    applets = subprocess.run(
        [busybox, "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    with open(busybox, "rb") as f:
        binary = f.read()

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = kind, mode, 0, 0, 0
            ti.uname = ti.gname = "root"
            ti.linkname = link
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data) if data else None)

        dirs = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys",
                "root", "run", "var", "var/log", "www", "tmp"]  # fmt: skip
        for d in dirs:
            add(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, 0o755, binary)
        for path in sorted(set(applets)):
            if "/" not in path or path == "bin/busybox":
                continue  # e.g. "linuxrc"
            add(path, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
        files = {
            "etc/passwd": (
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
            ),
            "etc/group": "root:x:0:\nnogroup:x:65534:\n",
            "www/index.html": "archy-test-busybox\n",
        }
        for name, text in files.items():
            add(name, tarfile.REGTYPE, 0o644, text.encode())
    return buf.getvalue()


def build_busybox_image(podman: RootlessPodman, ref: str = BUSYBOX_IMAGE) -> str:
    """Import the busybox base image as ``ref`` unless it is already there."""
    tar = busybox_rootfs_tar()
    digest = hashlib.sha256(tar).hexdigest()
    if podman.image_exists(ref):
        have = podman.inspect_field(ref, '{{index .Config.Labels "' + ROOTFS_LABEL + '"}}')
        if have == digest:
            return ref
    podman.run(
        "import",
        "--change", 'CMD ["/bin/sh"]',
        "--change", f"LABEL {ROOTFS_LABEL}={digest}",
        "-", ref,
        input=tar, text=False,
    )  # fmt: skip
    return ref


@pytest.fixture(scope="session")
def busybox_image(rootless_podman: RootlessPodman) -> str:
    """``localhost/archy-test-busybox:1`` in the test user's storage."""
    return build_busybox_image(rootless_podman)
