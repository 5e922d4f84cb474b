"""The lifecycle gate with the Quadlet engine:
``tests/integration/lifecycle/run-gate --engine quadlet``.

The same apps, steps and matrix as the podman engine's gate (tests/integration/lifecycle/gate.py),
run by the frozen agent as the node user of a booted system container
(tests/realparts/systemd_container.py), its apps' units run by that user's systemd.
Where the two engines differ, the steps say so:

* restart: systemd recreates a Quadlet member's container (``--rm``/``--replace``), so
  the check is a new unit invocation and the UI back, not the same container id;
* reboot: a real one (``podman stop`` + ``start`` of the outer container); the app's
  units must be active again *before* the agent runs, and the agent's boot reconcile
  must change nothing (``unchanged``) with data and secrets byte-identical;
* agent-restart: ``archy-node.service`` (``install-service``) started twice (each start
  returns after READY=1, i.e. its first reconcile) and stopped with SIGTERM; the
  containers are not recreated.
"""

from __future__ import annotations

import hashlib
from typing import Any

from catalog.catalog_model import AppCatalog
from catalog.runtime_names import member_unit_name
from tests.integration.lifecycle.gate import GateRun, StepFailed
from tests.integration.lifecycle.gate_apps import ui_url
from tests.integration.systemd.container_node import (
    DATA_ROOT,
    STATE_ROOT,
    ContainerNode,
    gate_catalog_for_container,
)
from tests.realparts.podman_user import RootlessPodman
from tests.realparts.systemd_container import (
    NODE_BINARY,
    SystemContainer,
    boot_system_container,
    build_node_binary,
    build_systemd_image,
)
from tests.realparts.wait import poll_until

UI_TIMEOUT = 60.0
SERVICE = "archy-node.service"


class ContainerAgent:
    """The NodeAgent calls GateRun makes, answered by the agent inside the container."""

    def __init__(self, node: ContainerNode) -> None:
        self.node = node

    def run_json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, document, stderr = self.node.agent(*args)
        if stderr.strip():
            document.setdefault("stderr", stderr.strip())
        return code, document

    def run(self, *args: str) -> tuple[int, dict[str, Any]]:
        return self.run_json(*args)

    def apply(self, *extra: str) -> tuple[int, dict[str, Any]]:
        return self.run_json("apply", *extra)

    def install(self, app_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
        return self.run_json("install", app_id, *extra)

    def uninstall(self, app_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
        return self.run_json("uninstall", app_id, *extra)


class QuadletGateRun(GateRun):
    def __init__(self, node: ContainerNode, catalog: AppCatalog) -> None:
        super().__init__(RootlessPodman.for_user("root"), ContainerAgent(node), catalog)  # type: ignore[arg-type]
        self.node = node
        self.box: SystemContainer = node.box

    # -- checks, read inside the container -----------------------------------------------------
    def _inspect(self, name: str, template: str) -> str | None:
        result = self.box.run_as_node(
            ["podman", "inspect", "--type", "container", "--format", template, name], check=False
        )
        return result.stdout.decode().strip() if result.returncode == 0 else None

    def container_ids(self, app_id: str) -> dict[str, str]:
        return {name: self._inspect(name, "{{.Id}}") or "" for name in self.members(app_id)}

    def running(self, name: str) -> bool:
        return self._inspect(name, "{{.State.Status}}") == "running"

    def services(self, app_id: str) -> list[str]:
        return [f"{member_unit_name(app_id, name)}.service" for name in self.members(app_id)]

    def _answers(self, url: str) -> bool:
        probe = self.box.exec_root(["curl", "-fsS", "-m", "2", "-o", "/dev/null", url], check=False)
        return probe.returncode == 0

    def expect_ui(self, app_id: str) -> None:
        url = ui_url(self.manifest(app_id))
        poll_until(lambda: self._answers(url), timeout=UI_TIMEOUT, what=f"{url} to answer",
                   interval=0.2)  # fmt: skip

    def expect_no_ui(self, app_id: str) -> None:
        url = ui_url(self.manifest(app_id))
        poll_until(lambda: not self._answers(url), timeout=UI_TIMEOUT,
                   what=f"{url} to stop answering", interval=0.2)  # fmt: skip

    def _exists(self, path: str) -> bool:
        return self.box.exec_root(["test", "-e", path], check=False).returncode == 0

    def _tree_digest(self, path: str) -> str:
        script = (
            'cd "$1" 2>/dev/null || { echo absent; exit 0; }; '
            "find . -type f -printf '%p:%U:%m\\n' | sort; "
            "find . -type f -print0 | sort -z | xargs -0 -r sha256sum"
        )
        out = self.box.exec_root(["sh", "-c", script, "digest", path]).stdout
        return hashlib.sha256(out).hexdigest() if out != b"absent\n" else "absent"

    def fingerprint(self, app_id: str) -> tuple[str, str]:
        return (
            self._tree_digest(f"{DATA_ROOT}/{app_id}"),
            self._tree_digest(f"{STATE_ROOT}/secrets/{app_id}"),
        )

    # -- steps that differ ---------------------------------------------------------------------
    def step_ui(self, app_id: str, memory: dict[str, object]) -> None:
        self.expect_ui(app_id)
        memory["fingerprint"] = self.fingerprint(app_id)
        if app_id == "gate-vault":
            for name in ("installed", "welcome.txt", "secrets.sha256"):
                if not self._exists(f"{DATA_ROOT}/{app_id}/vault/{name}"):
                    raise StepFailed(f"post_install/start did not write {name}")

    def invocations(self, app_id: str) -> dict[str, str]:
        return {u: self.box.user_unit_property(u, "InvocationID") for u in self.services(app_id)}

    def step_restart(self, app_id: str, memory: dict[str, object]) -> None:
        before = self.invocations(app_id)
        rc, document = self.agent.run_json("restart", app_id)
        self.expect_ok(app_id, rc, document, "ok")
        self.expect_ui(app_id)
        after = self.invocations(app_id)
        same = [unit for unit in after if after[unit] == before[unit]]
        if same:
            raise StepFailed(f"restart did not restart {same}")

    def step_reboot(self, app_id: str, memory: dict[str, object]) -> None:
        self.box.reboot()
        units = self.services(app_id)

        def back() -> bool:
            return all(self.box.user_unit_property(u, "ActiveState") == "active" for u in units)

        # systemd alone brings the app back: the agent has not run yet
        poll_until(back, timeout=300, what=f"{app_id}'s units active after the reboot",
                   interval=0.5)  # fmt: skip
        self.expect_ui(app_id)
        rc, document = self.agent.apply()  # the boot reconcile: nothing to do
        self.expect_ok(app_id, rc, document, "unchanged")
        self.expect_running(app_id)
        if self.fingerprint(app_id) != memory["fingerprint"]:
            raise StepFailed("data or secrets changed across the reboot")

    def step_agent_restart(self, app_id: str, memory: dict[str, object]) -> None:
        before = self.container_ids(app_id)
        for _ in range(2):
            started = self.box.exec_root(["systemctl", "start", SERVICE], check=False)
            if started.returncode != 0:
                raise StepFailed(f"systemctl start {SERVICE}: {started.stderr.decode()[-300:]}")
            self.box.exec_root(["systemctl", "stop", SERVICE])
            result = self.box.exec_root(
                ["systemctl", "show", "--value", "-p", "Result", SERVICE]
            ).stdout.decode()
            if result.strip() != "success":
                raise StepFailed(f"{SERVICE} stopped with result {result.strip()}")
        if self.container_ids(app_id) != before:
            raise StepFailed("the agent's restart recreated containers")
        self.expect_ui(app_id)

    def step_purge(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.agent.apply("--purge", app_id)
        if rc != 0:
            raise StepFailed(f"apply --purge exited {rc}: {document}")
        if self._exists(f"{DATA_ROOT}/{app_id}") or self._exists(f"{STATE_ROOT}/secrets/{app_id}"):
            raise StepFailed("purge left the data dir or the secrets")
        names = self.box.run_as_node(["podman", "secret", "ls", "--noheading",
                                      "--format", "{{.Name}}"]).stdout.decode()  # fmt: skip
        if any(line.startswith(f"archy-{app_id}-") for line in names.split()):
            raise StepFailed("purge left podman secrets")


def start_quadlet_gate() -> tuple[QuadletGateRun, SystemContainer]:
    """Boot the system container, prepare the node and its service; the caller removes it."""
    image = build_systemd_image()
    binary = build_node_binary()
    box = boot_system_container(image)
    try:
        box.install_node_agent(binary)
        box.import_busybox_image()
        node = ContainerNode(box)
        node.reset()
        node.setup()
        catalog = gate_catalog_for_container()
        node.publish(catalog)
        box.exec_root([NODE_BINARY, "install-service", "--user", "node", "--no-pull", "--no-start"])
    except BaseException:
        box.remove()
        raise
    return QuadletGateRun(node, catalog), box
