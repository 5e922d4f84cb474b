"""The lifecycle gate (seed §5) on one machine:
``tests/integration/lifecycle/run-gate [--rounds N]`` (``--engine podman|quadlet``).

Rootless, as the non-root test user, with real podman and the real agent
command line.  For each test app (tests/integration/lifecycle/apps: a single web app, a
3-member stack started in health order, an app with generated secrets and a
post_install hook), every round runs:

    install → ui → stop → start → restart → reinstall → reboot
            → agent-restart → uninstall → purge

* install: ``archy-node install`` (which applies the app); the app is ok and
  running, and a following ``apply`` has nothing left to do for it;
* ui: HTTP 200 from its UI on 127.0.0.1;
* stop / start / restart: ``archy-node stop|start|restart``; the UI goes
  away and comes back; restart keeps the container ids;
* reinstall: uninstall + install; data and secrets are
  byte-identical;
* reboot: every container process and its conmon are killed (SIGKILL); the
  boot reconcile (``archy-node apply``) brings all back, same data;
* agent-restart: a daemon reconciles, is stopped and started again; the
  containers are not recreated (same ids);
* uninstall: ``archy-node uninstall`` (which applies it): containers gone,
  data and secrets kept;
* purge: ``apply --purge``: data and secrets gone.

The stateful app (gate-db: PostgreSQL, Redis, a migrating web member; podman engine
only) has two more steps after reboot, **update** (a release whose web member
migrates the schema) and **bad-update** (a broken release, rolled back), and its data
is checked with real queries around every step (stateful_gate.py).

``--engine quadlet`` runs the same matrix with the Quadlet engine inside a
Debian 13 system container under a real systemd, where reboot is a real one
(tests/integration/systemd/quadlet_gate.py says where its steps differ).

It prints a matrix (app x step: pass/fail and seconds) and exits 1 on any
failure, with the step's reason and each member's last log lines.  Waits are
on conditions (HTTP, podman state), never fixed sleeps.

``--app-dir FOLDER`` (repeatable) runs the gate for those app folders instead
of the gate's own apps (``archy app test ID`` uses it).  Before any round it
checks that rootless podman works for the test user and already holds every
image the apps run (offline, nothing can be pulled); if not it says so on one
line and exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from node_runtime.engines.podman_engine import process_alive
from tests.integration.lifecycle.gate_apps import GATE_APPS, STATEFUL_APPS, gate_catalog, ui_url
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.busybox_image import build_busybox_image
from tests.realparts.net import http_status, wait_for_http
from tests.realparts.podman_user import RootlessPodman, check_rootless_ready
from tests.realparts.wait import poll_until

STEPS = (
    "install", "ui", "stop", "start", "restart", "reinstall",
    "reboot", "update", "bad-update", "agent-restart", "uninstall", "purge",
)  # fmt: skip
UPDATE_STEPS = ("update", "bad-update")  # the stateful app's only (stateful_gate.py)
UI_TIMEOUT = 30.0


def both_ends(text: str, keep: int = 600) -> str:
    """``text``, or its first and last ``keep`` characters: a failure's cause is often last."""
    return text if len(text) <= 2 * keep else f"{text[:keep]} … {text[-keep:]}"


class StepFailed(AssertionError):
    pass


@dataclass
class Cell:
    ok: bool
    seconds: float
    detail: str = ""
    logs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Matrix:
    rounds: int
    cells: dict[tuple[int, str, str], Cell] = field(default_factory=dict)
    apps: tuple[str, ...] = GATE_APPS

    @property
    def failures(self) -> list[tuple[tuple[int, str, str], Cell]]:
        return [(key, cell) for key, cell in self.cells.items() if not cell.ok]

    def render(self) -> str:
        width = max(len(step) for step in STEPS) + 1
        name_width = max(12, *(len(app_id) + 1 for app_id in self.apps))
        lines = []
        for round_number in range(1, self.rounds + 1):
            lines.append(f"round {round_number}")
            lines.append(
                f"  {'app':<{name_width}}" + "".join(f"{step:>{width + 1}}" for step in STEPS)
            )
            for app_id in self.apps:
                row = f"  {app_id:<{name_width}}"
                for step in STEPS:
                    cell = self.cells.get((round_number, app_id, step))
                    text = "-" if cell is None else (
                        f"{cell.seconds:.1f}s" if cell.ok else "FAIL"
                    )  # fmt: skip
                    row += f"{text:>{width + 1}}"
                lines.append(row)
        for (round_number, app_id, step), cell in self.failures:
            lines.append(f"FAIL round {round_number} {app_id} {step}: {cell.detail}")
            for member, tail in cell.logs.items():
                lines.append(f"  last log lines of {member}:")
                lines.extend(f"    {line}" for line in tail or ["(none)"])
        return "\n".join(lines)


def tree_digest(path: Path) -> str:
    """SHA-256 over every file's relative path, owner and bytes under ``path``."""
    digest = hashlib.sha256()
    if not path.exists():
        return "absent"
    for root, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for name in sorted(files):
            full = Path(root, name)
            info = full.lstat()
            digest.update(f"{full.relative_to(path)}:{info.st_uid}:{info.st_mode:o}\n".encode())
            digest.update(full.read_bytes())
    return digest.hexdigest()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    ppid = int(stat.read().rsplit(b")", 1)[-1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    return children


def process_tree(root: int, children: dict[int, list[int]]) -> list[int]:
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def listening_pids(port: int) -> set[int]:
    """Processes with a TCP socket listening on ``port`` (rootlessport, for a published port)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    owners = set()
    for entry in (e for e in os.listdir("/proc") if e.isdigit()):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{entry}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                        owners.add(int(entry))
    return owners


def kill_like_a_power_loss(podman: RootlessPodman, names: list[str], ports: list[int]) -> list[int]:
    """SIGKILL each container's conmon and every process under it, and the port forwarders
    (rootlessport) of its published ports: what a power loss leaves of the containers."""
    children = _children()
    victims: list[int] = []
    for name in names:
        conmon = int(podman.inspect_field(name, "{{.State.ConmonPid}}") or 0)
        if conmon > 0:
            victims += process_tree(conmon, children)  # conmon first: it cannot restart
    for port in ports:
        for owner in sorted(listening_pids(port)):
            victims += process_tree(owner, children)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return victims


class GateRun:
    def __init__(self, podman: RootlessPodman, agent: NodeAgent, catalog: AppCatalog) -> None:
        self.podman = podman
        self.agent = agent
        self.catalog = catalog

    # -- checks --------------------------------------------------------------------------------

    def manifest(self, app_id: str) -> Manifest:
        return self.catalog.apps[app_id].manifest

    def members(self, app_id: str) -> list[str]:
        return [member.name for member in self.manifest(app_id).containers]

    def container_ids(self, app_id: str) -> dict[str, str]:
        ids = {}
        for name in self.members(app_id):
            result = self.podman.run("inspect", "--type", "container", "--format", "{{.Id}}",
                                     name, check=False)  # fmt: skip
            ids[name] = result.stdout.strip() if result.returncode == 0 else ""
        return ids

    def running(self, name: str) -> bool:
        result = self.podman.run("inspect", "--type", "container", "--format",
                                 "{{.State.Status}}", name, check=False)  # fmt: skip
        return result.returncode == 0 and result.stdout.strip() == "running"

    def expect_ok(self, app_id: str, rc: int, document: dict[str, object], *statuses: str) -> None:
        apps = {a["app"]: a for a in document.get("apps", [])}  # type: ignore[union-attr]
        result = apps.get(app_id)
        if rc != 0 or result is None or result["status"] not in statuses:
            raise StepFailed(f"exit {rc}, {app_id}: {result}, {document.get('stderr', '')}")

    def expect_running(self, app_id: str) -> None:
        stopped = [name for name in self.members(app_id) if not self.running(name)]
        if stopped:
            raise StepFailed(f"not running: {', '.join(stopped)}")

    def expect_ui(self, app_id: str) -> None:
        if self.manifest(app_id).ui is None:
            return  # an app without a web UI: its members running is what is checked
        wait_for_http(ui_url(self.manifest(app_id)), timeout=UI_TIMEOUT)

    def expect_no_ui(self, app_id: str) -> None:
        if self.manifest(app_id).ui is None:
            return
        url = ui_url(self.manifest(app_id))
        poll_until(lambda: http_status(url, timeout=1.0) is None, timeout=UI_TIMEOUT,
                   what=f"{url} to stop answering")  # fmt: skip

    def host_ports(self, app_id: str) -> list[int]:
        return [p.host_port for m in self.manifest(app_id).containers for p in m.ports]

    def data_dir(self, app_id: str) -> Path:
        return self.agent.data_root / app_id

    def secrets_dir(self, app_id: str) -> Path:
        return self.agent.state_root / "secrets" / app_id

    def fingerprint(self, app_id: str) -> tuple[str, str]:
        return tree_digest(self.data_dir(app_id)), tree_digest(self.secrets_dir(app_id))

    # -- steps ---------------------------------------------------------------------------------

    def has_step(self, app_id: str, step: str) -> bool:
        return step not in UPDATE_STEPS

    def step_action(self, app_id: str, step: str) -> Callable[[str, dict[str, object]], None]:
        action: Callable[[str, dict[str, object]], None] = getattr(
            self, f"step_{step.replace('-', '_')}"
        )
        return action

    def install(self, app_id: str) -> None:
        rc, document = self.agent.install(app_id)
        self.expect_ok(app_id, rc, document, "ok")
        self.expect_running(app_id)
        rc, document = self.agent.apply()  # install applied it: nothing left to do
        self.expect_ok(app_id, rc, document, "unchanged")

    def uninstall(self, app_id: str) -> None:
        rc, document = self.agent.uninstall(app_id)
        self.expect_ok(app_id, rc, document, "removed")
        left = [name for name, cid in self.container_ids(app_id).items() if cid]
        if left:
            raise StepFailed(f"containers left after uninstall: {left}")

    def step_install(self, app_id: str, memory: dict[str, object]) -> None:
        self.install(app_id)

    def step_ui(self, app_id: str, memory: dict[str, object]) -> None:
        self.expect_ui(app_id)
        memory["fingerprint"] = self.fingerprint(app_id)
        if app_id == "gate-vault":
            for name in ("installed", "welcome.txt", "secrets.sha256"):
                if not (self.data_dir(app_id) / "vault" / name).is_file():
                    raise StepFailed(f"post_install/start did not write {name}")

    def step_stop(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.agent.run_json("stop", app_id)
        self.expect_ok(app_id, rc, document, "stopped")
        running = [name for name in self.members(app_id) if self.running(name)]
        if running:
            raise StepFailed(f"still running after stop: {running}")
        self.expect_no_ui(app_id)
        rc, document = self.agent.apply()  # a reconcile must not start a stopped app
        if rc != 0 or any(self.running(name) for name in self.members(app_id)):
            raise StepFailed(f"a reconcile started the stopped app: {document}")

    def step_start(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.agent.run_json("start", app_id)
        self.expect_ok(app_id, rc, document, "ok")
        self.expect_running(app_id)
        self.expect_ui(app_id)

    def step_restart(self, app_id: str, memory: dict[str, object]) -> None:
        before = self.container_ids(app_id)
        rc, document = self.agent.run_json("restart", app_id)
        self.expect_ok(app_id, rc, document, "ok")
        self.expect_ui(app_id)
        if self.container_ids(app_id) != before:
            raise StepFailed("restart recreated containers")

    def step_reinstall(self, app_id: str, memory: dict[str, object]) -> None:
        self.uninstall(app_id)
        self.install(app_id)
        self.expect_ui(app_id)
        if self.fingerprint(app_id) != memory["fingerprint"]:
            raise StepFailed("data or secrets changed across the reinstall")

    def step_reboot(self, app_id: str, memory: dict[str, object]) -> None:
        killed = kill_like_a_power_loss(self.podman, self.members(app_id), self.host_ports(app_id))
        # This VM's pid 1 reaps no orphans and podman keeps recording them as running,
        # so "dead" is read from /proc, as the agent itself does.
        poll_until(lambda: not any(process_alive(pid) for pid in killed), timeout=30,
                   what=f"{app_id}'s container processes to be dead")  # fmt: skip
        rc, document = self.agent.apply()  # the boot reconcile
        self.expect_ok(app_id, rc, document, "ok")
        self.expect_running(app_id)
        self.expect_ui(app_id)
        if self.fingerprint(app_id) != memory["fingerprint"]:
            raise StepFailed("data or secrets changed across the reboot")

    def step_agent_restart(self, app_id: str, memory: dict[str, object]) -> None:
        before = self.container_ids(app_id)
        for _ in range(2):
            daemon = self.agent.start_daemon("--reconcile-interval", "2")
            try:
                event = daemon.wait_for("reconciled", timeout=60)
                if not event.get("ok"):
                    raise StepFailed(f"daemon reconcile failed: {event}")
            finally:
                status = daemon.stop()
            if status != 0:
                raise StepFailed(f"daemon exited {status} on SIGTERM")
        if self.container_ids(app_id) != before:
            raise StepFailed("the daemon restart recreated containers")
        self.expect_ui(app_id)

    def step_uninstall(self, app_id: str, memory: dict[str, object]) -> None:
        self.uninstall(app_id)
        if self.fingerprint(app_id) != memory["fingerprint"]:
            raise StepFailed("uninstall changed the data or secrets")

    def step_purge(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.agent.apply("--purge", app_id)
        if rc != 0:
            raise StepFailed(f"apply --purge exited {rc}: {document}")
        if self.data_dir(app_id).exists() or self.secrets_dir(app_id).exists():
            raise StepFailed("purge left the data dir or the secrets")
        names = self.podman.run("secret", "ls", "--noheading", "--format", "{{.Name}}").stdout
        if any(line.startswith(f"archy-{app_id}_") for line in names.split()):
            raise StepFailed("purge left podman secrets")

    def last_logs(self, app_id: str, lines: int = 10) -> dict[str, list[str]]:
        """Each member's last log lines (what a developer needs to see why a step failed)."""
        logs = {}
        for name in self.members(app_id):
            result = self.podman.run("logs", "--tail", str(lines), name, check=False)
            text = result.stdout + result.stderr if result.returncode == 0 else ""
            logs[name] = text.strip().splitlines()[-lines:]
        return logs

    def cleanup(self, app_id: str) -> None:
        """After a failure: take the app off the node (data too) so the next round starts clean."""
        self.agent.run("uninstall", app_id)
        self.agent.apply("--purge", app_id)


def run_matrix(
    run: GateRun, rounds: int, out: Callable[[str], None], app_ids: tuple[str, ...] = GATE_APPS
) -> Matrix:
    """Every app through every step, ``rounds`` times; a failed step ends that app's round."""
    matrix = Matrix(rounds, apps=app_ids)
    for round_number in range(1, rounds + 1):
        for app_id in app_ids:
            memory: dict[str, object] = {}
            for step in (s for s in STEPS if run.has_step(app_id, s)):
                action = run.step_action(app_id, step)
                started = time.monotonic()
                try:
                    action(app_id, memory)
                    cell = Cell(True, time.monotonic() - started)
                except Exception as error:
                    cell = Cell(False, time.monotonic() - started, both_ends(str(error)))
                matrix.cells[round_number, app_id, step] = cell
                if not cell.ok:
                    try:
                        cell.logs = run.last_logs(app_id)
                    except Exception as error:  # the logs are a courtesy; the cell stands
                        cell.logs = {"(logs)": [f"unavailable: {error}"]}
                    run.cleanup(app_id)
                    break
        out(f"round {round_number}/{rounds} done")
    return matrix


class GateUnavailable(Exception):
    """The gate cannot run here (no rootless podman, a missing image); one line says why."""


def check_rootless(podman: RootlessPodman) -> None:
    try:
        check_rootless_ready(podman)
    except BaseException as error:  # check_rootless_ready fails the way a test does
        if isinstance(error, KeyboardInterrupt | SystemExit):
            raise
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise GateUnavailable(f"rootless podman is unavailable: {reason}") from None


def check_images(podman: RootlessPodman, catalog: AppCatalog) -> None:
    """The test user's podman holds every image of ``catalog`` (nothing is pulled)."""
    for app in catalog.apps.values():
        for member in app.manifest.containers:
            if not podman.image_exists(member.image):
                raise GateUnavailable(
                    f"podman (user {podman.user}) has no image {member.image} for "
                    f"{app.manifest.id}/{member.name} (offline: images are not pulled; "
                    f"`podman load` or build it as {podman.user} first)"
                )


def remove_agent_root(podman: RootlessPodman, agent: NodeAgent) -> None:
    if os.geteuid() == 0:
        import shutil

        shutil.rmtree(agent.root, ignore_errors=True)
    else:
        podman.run("unshare", "rm", "-rf", str(agent.root), check=False)


def build_stateful_gate_images(podman: RootlessPodman) -> None:
    from tests.realparts.stateful_image import StatefulImageError, build_stateful_images

    try:
        build_stateful_images(podman)
    except StatefulImageError as error:
        raise GateUnavailable(str(error)) from None


def run_gate(
    rounds: int,
    out: Callable[[str], None] = print,
    app_dirs: tuple[Path, ...] = (),
    apps: tuple[str, ...] = GATE_APPS + STATEFUL_APPS,
) -> Matrix:
    try:
        podman = RootlessPodman.for_user()
    except KeyError:
        raise GateUnavailable(
            "the rootless test user does not exist (run scripts/setup-test-env)"
        ) from None
    check_rootless(podman)
    podman.ensure_runtime_dir()
    build_busybox_image(podman)
    agent = NodeAgent(podman, podman.make_tmpdir("gate"))
    agent.setup()
    try:
        if app_dirs:
            app_ids = tuple(folder.name for folder in app_dirs)
            parents = {folder.parent.resolve() for folder in app_dirs}
            if len(parents) != 1:
                raise GateUnavailable("--app-dir folders must share one parent folder")
            catalog = gate_catalog(agent.hook_sources, app_ids, parents.pop())
        else:
            app_ids, catalog = apps, gate_catalog(agent.hook_sources, apps)
        if set(app_ids) & set(STATEFUL_APPS):
            build_stateful_gate_images(podman)
        check_images(podman, catalog)
        agent.publish(catalog)
    except BaseException:
        remove_agent_root(podman, agent)
        raise
    from tests.integration.lifecycle.stateful_gate import StatefulGateRun

    run = StatefulGateRun(podman, agent, catalog)
    try:
        matrix = run_matrix(run, rounds, out, app_ids)
    finally:
        for app_id in app_ids:
            if any(run.container_ids(app_id).values()):
                run.cleanup(app_id)
        remove_agent_root(podman, agent)
    return matrix


def run_quadlet_gate(rounds: int, out: Callable[[str], None] = print) -> Matrix:
    """The same matrix with the Quadlet engine under a real systemd (tests/integration/systemd)."""
    from tests.integration.systemd.quadlet_gate import start_quadlet_gate

    run, box = start_quadlet_gate()
    try:
        return run_matrix(run, rounds, out)
    finally:
        box.remove()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="run-gate", description="The lifecycle gate: every test app, every step, N rounds."
    )
    parser.add_argument("--rounds", type=int, default=20, help="rounds to run (default 20)")
    parser.add_argument(
        "--app-dir",
        action="append",
        type=Path,
        default=[],
        help="an app folder to gate instead of the gate's own apps (repeatable)",
    )
    parser.add_argument(
        "--engine",
        choices=("podman", "quadlet"),
        default="podman",
        help="podman: rootless podman as the test user, a simulated reboot (default); "
        "quadlet: the node user of a Debian 13 system container under a real systemd, "
        "a real reboot (run as root; see docs/systemd-tests.md)",
    )
    parser.add_argument(
        "--app",
        action="append",
        choices=GATE_APPS + STATEFUL_APPS,
        default=[],
        help="run only this gate app (repeatable; default: all; gate-db with --engine podman)",
    )
    options = parser.parse_args(argv)
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    started = time.monotonic()
    try:
        if options.engine == "quadlet":
            if options.app_dir or options.app:
                parser.error("--app-dir and --app work with the podman engine only")
            matrix = run_quadlet_gate(options.rounds)
        else:
            apps = tuple(options.app) or GATE_APPS + STATEFUL_APPS
            matrix = run_gate(options.rounds, app_dirs=tuple(options.app_dir), apps=apps)
    except GateUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(matrix.render())
    passed = not matrix.failures
    print(f"gate {'PASSED' if passed else 'FAILED'} in {time.monotonic() - started:.0f}s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
