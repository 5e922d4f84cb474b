"""Crash safety: kill -9 the agent before every step of an apply, in turn; the next apply
converges and the app's data and secrets never change.

The agent dies through its test-only hook (``ARCHY_TEST_CRASH_AT=<step>`` exits 137,
as SIGKILL would, right before that step).  Two scenarios, on gate-vault (data dir
owned by a mapped uid, two generated secrets, a post_install hook):

* a fresh install, crashed at each of its steps on a clean node: after the next
  apply the secrets that existed at the crash are unchanged, and the running
  container sees exactly the values in the node's 0600 files;
* a reinstall over kept data and secrets (the Podman secrets removed too, so they
  are handed over again), crashed at each step: data and secrets byte-identical.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator

import pytest

from tests.integration.lifecycle.gate import tree_digest
from tests.integration.lifecycle.gate_apps import gate_catalog, ui_url
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import wait_for_http
from tests.realparts.podman_user import RootlessPodman

pytestmark = [pytest.mark.integration, pytest.mark.podman]

APP = "gate-vault"


@pytest.fixture
def agent(rootless_podman: RootlessPodman, busybox_image: str) -> Iterator[NodeAgent]:
    node = NodeAgent(rootless_podman, rootless_podman.make_tmpdir("crash"))
    node.setup()
    yield node
    node.run("uninstall", APP)
    node.apply("--purge", APP)
    rootless_podman.run("unshare", "rm", "-rf", str(node.root), check=False)


def secret_files(agent: NodeAgent) -> dict[str, bytes]:
    directory = agent.state_root / "secrets" / APP
    if not directory.is_dir():
        return {}
    files = {}
    for path in sorted(directory.iterdir()):
        if not path.name.startswith("."):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            files[path.name] = path.read_bytes()
    return files


def converge(agent: NodeAgent) -> None:
    rc, document = agent.apply()
    assert rc == 0, document
    [result] = [a for a in document["apps"] if a["app"] == APP]
    assert result["status"] in ("ok", "unchanged"), result
    assert agent.catalog is not None
    wait_for_http(ui_url(agent.catalog.apps[APP].manifest), timeout=30)


def plan_steps(agent: NodeAgent) -> list[str]:
    rc, document = agent.run_json("apply", "--dry-run")
    assert rc == 0, document
    return [step for step in document["steps"] if APP in step or step.startswith("create-net")]


def crash_at(agent: NodeAgent, step: str) -> None:
    rc, document = agent.apply(crash_at=step)
    assert rc == 137, (step, rc, document)


def container_sees_the_node_secrets(agent: NodeAgent) -> None:
    files = secret_files(agent)
    expected = hashlib.sha256(files["token"] + b" " + files["key"] + b"\n").hexdigest()
    recorded = (agent.data_root / APP / "vault" / "secrets.sha256").read_text().split()[0]
    assert recorded == expected


def test_a_crash_before_any_step_of_a_fresh_install_converges_without_regenerating(
    agent: NodeAgent,
) -> None:
    agent.publish(gate_catalog(agent.hook_sources, (APP,)))
    agent.install(APP, "--no-apply")
    steps = plan_steps(agent)
    assert any(step.startswith("generate-secret:") for step in steps)
    assert any(step.startswith("create-data-dir:") for step in steps)
    for step in steps:
        crash_at(agent, step)
        at_crash = secret_files(agent)
        converge(agent)
        after = secret_files(agent)
        assert {name: after[name] for name in at_crash} == at_crash, step
        assert set(after) == {"token", "key"}
        container_sees_the_node_secrets(agent)
        # back to a clean node for the next step
        agent.uninstall(APP, "--no-apply")
        rc, document = agent.apply("--purge", APP)
        assert rc == 0, document
        agent.install(APP, "--no-apply")


def test_a_crash_before_any_step_of_a_reinstall_keeps_data_and_secrets_byte_identical(
    agent: NodeAgent,
) -> None:
    agent.publish(gate_catalog(agent.hook_sources, (APP,)))
    agent.install(APP, "--no-apply")
    converge(agent)
    data = agent.data_root / APP
    baseline = (tree_digest(data), secret_files(agent))

    def uninstall_keeping_data() -> None:
        agent.uninstall(APP, "--no-apply")
        rc, document = agent.apply()
        assert rc == 0, document
        for name in ("token", "key"):  # Podman loses them; the node hands them over again
            agent.podman.run("secret", "rm", f"archy-{APP}_{name}")
        agent.install(APP, "--no-apply")

    uninstall_keeping_data()
    steps = plan_steps(agent)
    assert any(step.startswith("create-podman-secret:") for step in steps)
    for step in steps:
        crash_at(agent, step)
        converge(agent)
        assert (tree_digest(data), secret_files(agent)) == baseline, step
        container_sees_the_node_secrets(agent)
        uninstall_keeping_data()
