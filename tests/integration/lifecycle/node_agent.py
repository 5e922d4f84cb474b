"""The node agent as the rootless test user: ``python -m node_runtime …`` via setpriv.

Rootless podman needs the agent itself to run as the non-root node user, so
the tests and the lifecycle gate run the real command line as the test user
(``RootlessPodman.command``), with the repository and this virtualenv's
site-packages on ``PYTHONPATH``.  The interpreter is this one when the test
user can execute it, else the system ``python3`` of the same version (the
virtualenv may live under root's 0700 home).

The node's state is prepared the way a pull leaves it: the catalog bytes in
the blob store and the current-catalog pointer (``node_runtime.store``),
plus a ``config.json`` naming the data root.  Everything under the node's
root belongs to the test user.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.catalog_model import AppCatalog
from node_runtime.store.blob_store import BlobStore
from node_runtime.store.catalog_pointer import CatalogPointer
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths, utc_now_text
from tests.realparts import REPO_ROOT
from tests.realparts.podman_user import RootlessPodman

_interpreters: dict[str, str] = {}


def agent_python(podman: RootlessPodman) -> str:
    """An interpreter the test user can run that imports this virtualenv's packages."""
    if podman.user in _interpreters:
        return _interpreters[podman.user]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version) or "", f"/usr/bin/{version}"):
        if not candidate:
            continue
        probe = podman.command(
            [candidate, "-c", "import pydantic, blake3, click"], check=False, env=agent_env()
        )
        if probe.returncode == 0:
            _interpreters[podman.user] = candidate
            return candidate
    raise RuntimeError(f"no {version} that {podman.user} can run imports the virtualenv")


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    paths = sysconfig.get_paths()
    python_path = os.pathsep.join(
        dict.fromkeys([str(REPO_ROOT), paths["purelib"], paths["platlib"]])
    )
    env = {
        "PYTHONPATH": python_path,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "ARCHY_NODE_ENGINE": "podman",
    }
    env.update(extra or {})
    return env


@dataclass
class NodeAgent:
    podman: RootlessPodman
    root: Path
    catalog: AppCatalog | None = None

    @property
    def state_root(self) -> Path:
        return self.root / "state"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def hook_sources(self) -> Path:
        return self.root / "hook-sources"

    @property
    def paths(self) -> NodePaths:
        return NodePaths(self.state_root)

    def setup(self) -> None:
        for directory in (self.state_root, self.data_root, self.hook_sources):
            directory.mkdir(parents=True, exist_ok=True)
        config = {"schema": 1, "origin": "file:///nonexistent", "data_root": str(self.data_root)}
        (self.state_root / "config.json").write_text(json.dumps(config))
        self.podman.chown_to_user(self.root)

    def publish(self, catalog: AppCatalog) -> str:
        """Make ``catalog`` the node's current catalog, as a pull would."""
        data = catalog.to_canonical()
        blake3 = BlobStore(self.paths.blobs_dir).add_bytes(data)
        NodeState(self.paths).switch_catalog(
            CatalogPointer(
                blake3=blake3,
                length=len(data),
                commit=catalog.source.commit,
                targets_version=1,
                pulled_at=utc_now_text(),
            )
        )
        self.podman.chown_to_user(self.state_root)
        self.catalog = catalog
        return blake3

    def env(self, crash_at: str | None = None) -> dict[str, str]:
        extra = {
            "ARCHY_NODE_STATE_ROOT": str(self.state_root),
            "ARCHY_NODE_HOOK_SOURCES": str(self.hook_sources),
        }
        if crash_at is not None:
            extra["ARCHY_TEST_CRASH_AT"] = crash_at
        return agent_env(extra)

    def argv(self, *args: str) -> list[str]:
        return [agent_python(self.podman), "-m", "node_runtime", *args]

    def run(
        self, *args: str, crash_at: str | None = None, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        result: subprocess.CompletedProcess[str] = self.podman.command(
            self.argv(*args), check=False, env=self.env(crash_at), timeout=timeout,
            cwd=self.root,
        )  # fmt: skip
        return result

    def run_json(self, *args: str, crash_at: str | None = None) -> tuple[int, dict[str, Any]]:
        result = self.run(*args, "--json", crash_at=crash_at)
        try:
            document = json.loads(result.stdout) if result.stdout.strip() else {}
        except json.JSONDecodeError:
            document = {"unparsed": result.stdout}
        if result.stderr.strip():
            document.setdefault("stderr", result.stderr.strip())
        return result.returncode, document

    def apply(self, *extra: str, crash_at: str | None = None) -> tuple[int, dict[str, Any]]:
        return self.run_json("apply", *extra, crash_at=crash_at)

    def install(self, app_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
        """``archy-node install APP``: the desired state, then an apply of that app
        (``--no-apply``: the desired state only)."""
        return self.run_json("install", app_id, *extra)

    def uninstall(self, app_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
        """``archy-node uninstall APP``: the desired state, then an apply of that app
        (``--no-apply``: the desired state only)."""
        return self.run_json("uninstall", app_id, *extra)

    def start_daemon(self, *args: str) -> DaemonProcess:
        process = subprocess.Popen(
            self.podman.argv(self.argv("daemon", "--no-pull", *args)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env=self.podman.env(self.env()),
        )
        return DaemonProcess(process)


class DaemonProcess:
    """A running ``archy-node daemon``; its JSON event lines are read on a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except json.JSONDecodeError:
                self.events.put({"event": "text", "text": line.rstrip()})
        self.events.put({"event": "exited"})

    def wait_for(self, event: str, timeout: float) -> dict[str, Any]:
        """The next event called ``event`` (raises queue.Empty at the deadline)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise queue.Empty(f"no {event!r} event within {timeout:g}s")
            got = self.events.get(timeout=remaining)
            if got.get("event") == event:
                return got
            if got.get("event") == "exited":
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"daemon exited while waiting for {event!r}: {stderr}")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM to the agent (setpriv execs it)
        return self.process.wait(timeout=timeout)
