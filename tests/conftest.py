"""Shared pytest fixtures. Each block below is owned by one part of the suite."""

# --- realparts fixtures (tests/realparts/, DESIGN §8) -- begin -------------
# Real Quadlet, rootless podman as the test user, a busybox base image and a
# local docker-registry. Install them with `sudo scripts/setup-test-env`.
from tests.realparts.busybox_image import busybox_image  # noqa: F401
from tests.realparts.podman_user import podman_tmp_path, rootless_podman  # noqa: F401
from tests.realparts.quadlet import quadlet_bin  # noqa: F401
from tests.realparts.registry import local_registry  # noqa: F401
from tests.realparts.systemd_container import systemd_node  # noqa: F401

# --- realparts fixtures -- end ---------------------------------------------
