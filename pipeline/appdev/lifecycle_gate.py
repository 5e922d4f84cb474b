"""``archy app test``: one app through the lifecycle gate of the registry's clone.

The gate (``tests/integration/lifecycle/gate.py``, also
``tests/integration/lifecycle/run-gate``) drives
the real node agent as the rootless test user through install, ui, stop,
start, restart, reinstall, reboot, agent-restart, uninstall and purge.  It is
test code of this repository and imports the node, so the publisher does not
import it (DESIGN §2): ``gate_command`` is the command line that runs it for
one app folder, as a subprocess of the clone's own interpreter.

The app is checked first with the production checks (schema, policy,
cross-app rules), so a manifest error is reported with its file and line
before any container is touched.

Public API: ``find_gate_app(apps_dir, app_id) -> Path``, ``gate_command(folder, rounds)``,
``GATE_APPS_DIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pipeline.appdev.local_repository import LocalRunRefused, checked_app, find_app_folder

REPO_ROOT = Path(__file__).resolve().parents[2]
GATE_MODULE = REPO_ROOT / "tests" / "integration" / "lifecycle" / "gate.py"
GATE_APPS_DIR = REPO_ROOT / "tests" / "integration" / "lifecycle" / "apps"


def find_gate_app(apps_dir: Path, app_id: str) -> Path:
    """``apps_dir/<id>``, else one of the gate's own test apps; checked for production."""
    if not GATE_MODULE.is_file():
        raise LocalRunRefused(
            [f"the lifecycle gate is not here ({GATE_MODULE}); run from the registry's clone"]
        )
    folder = find_app_folder(apps_dir, app_id, fallbacks=(GATE_APPS_DIR,))
    checked_app(folder)
    return folder.resolve()


def gate_command(folder: Path, rounds: int) -> tuple[list[str], dict[str, str], Path]:
    """argv, environment and working directory that run the gate for ``folder``."""
    python_path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    argv = [
        sys.executable, "-m", "tests.integration.lifecycle.gate",
        "--rounds", str(rounds), "--app-dir", str(folder),
    ]  # fmt: skip
    return argv, {**os.environ, "PYTHONPATH": python_path}, REPO_ROOT
