"""Real parts for tests (DESIGN §8): fixtures and helpers that drive the real
Quadlet generator, rootless Podman as a test user, a local busybox base image
and Debian's docker-registry, all on 127.0.0.1.

Everything here is installed by ``scripts/setup-test-env`` (run as root, or
via sudo). A missing part is a test *failure* that says so, never a skip.

Modules:
    wait          poll_until(): deadline-bounded polling
    net           free_port(), wait_for_tcp(), wait_for_http()
    quadlet       find_quadlet(), run_quadlet_dryrun(), parse_dryrun(),
                  quadlet_problems(); fixture ``quadlet_bin``
    podman_user   RootlessPodman, wait_healthy(); fixture ``rootless_podman``
    busybox_image build_busybox_image(); fixture ``busybox_image``
    stateful_image
                  build_stateful_images(): the lifecycle gate's PostgreSQL/Redis/
                  tor base image from Debian packages (scripts/build-stateful-rootfs)
                  and gate-db's web images
    registry      LocalRegistry, start_registry(), push_image();
                  fixture ``local_registry``
    systemd_container
                  SystemContainer (a Debian 13 system container booted with
                  systemd: run_as_node, reboot, journals); fixture
                  ``systemd_node`` (docs/systemd-tests.md)

The fixtures are registered in tests/conftest.py; tests import helpers as
``from tests.realparts.net import free_port``.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SETUP_HINT = "run `sudo scripts/setup-test-env` (installs the real parts the tests use)"
