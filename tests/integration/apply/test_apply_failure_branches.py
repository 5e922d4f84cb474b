"""apply's failure branches through rootless podman, each driven by a real fault:
a fresh install whose health check fails, and a purge of an app that is still installed."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.lifecycle.gate_apps import gate_manifest
from tests.integration.lifecycle.node_agent import NodeAgent, agent_env, agent_python
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of, with_member_changes

pytestmark = [pytest.mark.integration, pytest.mark.podman]

NEVER_HEALTHY = {"cmd": ["false"], "interval": "1s", "timeout": "1s", "retries": 1,
                 "start_period": "1s"}  # fmt: skip


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("apply-fail"))
    node.setup()
    yield node
    if node.run("uninstall", "gate-web").returncode == 0:
        node.apply("--purge", "gate-web")
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def test_a_failed_fresh_install_leaves_no_container_and_keeps_its_data(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    broken = with_member_changes(manifest, "gate-web", health=NEVER_HEALTHY)
    agent.publish(catalog_of([broken]))
    agent.install("gate-web", "--no-apply")
    rc, document = agent.apply()
    result = {a["app"]: a for a in document["apps"]}["gate-web"]
    assert rc == 1 and result["status"] == "failed", document
    reason = str(result["reason"])
    assert reason.startswith("install of 1.0.0-r1 failed (wait-healthy:gate-web:gate-web:")
    assert "rolled back" not in reason  # nothing to roll back to on a fresh install
    assert not agent.podman.container_exists("gate-web")  # no crash-looping container left
    assert os.path.isdir(agent.data_root / "gate-web")  # its data stays


def test_purging_an_installed_app_is_refused_and_deletes_nothing(agent: NodeAgent) -> None:
    manifest = gate_manifest("gate-web", agent.hook_sources)
    agent.publish(catalog_of([manifest]))
    agent.install("gate-web", "--no-apply")
    assert agent.apply()[0] == 0
    rc, document = agent.apply("--purge", "gate-web")
    assert rc == 1
    assert document["stderr"] == (
        "error: gate-web is installed; uninstall it before purging its data"
    )
    assert "Traceback" not in document["stderr"]
    assert os.path.isdir(agent.data_root / "gate-web")
    assert agent.podman.container_exists("gate-web")


PURGE = """
import sys
from pathlib import Path
from node_runtime.apply.purge import PurgeRefused, purge_app
from node_runtime.engines import choose_engine
root = Path(sys.argv[1])
try:
    purge_app(sys.argv[2], state_root=root / "state", data_root=str(root / "data"),
              engine=choose_engine("podman"), installed=set())
except PurgeRefused as refused:
    print(refused)
    sys.exit(3)
"""


def test_purging_an_app_that_still_has_a_container_is_refused_and_deletes_nothing(
    rootless_podman: RootlessPodman, busybox_image: str
) -> None:
    """purge_app itself, as the node user, against a real container labelled as the app's
    (apply removes an uninstalled app's containers first, so only a failed removal leaves
    one; a container created by hand with the node's label stands for that)."""
    root = rootless_podman.make_tmpdir("purge")
    app_id = "gate-leftover"
    keep = root / "data" / app_id / "keep.txt"
    rootless_podman.command(["mkdir", "-p", str(keep.parent)])
    rootless_podman.command(["sh", "-c", f"echo precious > {keep}"])
    rootless_podman.run(
        "create", "--name", app_id, "--label", f"archy.app={app_id}", busybox_image, "true"
    )
    try:
        done = rootless_podman.command(
            [agent_python(rootless_podman), "-c", PURGE, str(root), app_id],
            check=False, env=agent_env(), cwd=root,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        assert (done.returncode, done.stdout) == (
            3, f"{app_id} still has containers ({app_id}); uninstall it\n"
        )  # fmt: skip
        assert keep.read_text() == "precious\n"
        assert rootless_podman.container_exists(app_id)
    finally:
        rootless_podman.run("rm", "-f", app_id, check=False)
        rootless_podman.run("unshare", "rm", "-rf", str(root), check=False)


def test_an_update_whose_rollback_also_fails_says_both(
    agent: NodeAgent, busybox_image: str
) -> None:
    """The real fault: the old version's image tag is gone from the node (untagged while the
    old container ran; apply never pulls), so the rollback cannot recreate the container."""
    old_image = "localhost/archy-rollback-old:1"
    agent.podman.run("tag", busybox_image, old_image)
    manifest = with_member_changes(
        gate_manifest("gate-web", agent.hook_sources), "gate-web", image=old_image
    )
    agent.publish(catalog_of([manifest]))
    agent.install("gate-web", "--no-apply")
    assert agent.apply()[0] == 0
    agent.podman.run("untag", old_image, old_image)  # only this name; the image stays
    broken = with_member_changes(
        manifest.model_copy(update={"revision": 2}), "gate-web",
        image=busybox_image, health=NEVER_HEALTHY,
    )  # fmt: skip
    agent.publish(catalog_of([broken]))
    rc, document = agent.apply()
    result = {a["app"]: a for a in document["apps"]}["gate-web"]
    assert rc == 1 and result["status"] == "failed", document
    reason = str(result["reason"])
    assert reason.startswith("update to 1.0.0-r2 failed (wait-healthy:gate-web:gate-web:")
    assert "; rolling back to 1.0.0-r1 also failed (" in reason
    assert "rolled back to" not in reason
    assert "Traceback" not in document.get("stderr", "")
