"""Engines load lazily: a command imports the engine the node's config names, no other.

Each case runs in a fresh interpreter (``sys.modules`` of this one already holds every
engine the other tests used)."""

from __future__ import annotations

import subprocess
import sys

import pytest

ENGINE_MODULES = {
    "node_runtime.engines.podman_engine",
    "node_runtime.engines.podman_args",
    "node_runtime.engines.quadlet_engine",
    "node_runtime.engines.stage_engine",
}
PROBE = """
import sys
from pathlib import Path
import node_runtime.local_node, node_runtime.commands.node, node_runtime.commands.options
before = sorted(name for name in sys.modules if name in {modules!r})
from node_runtime.engines import choose_engine
choose_engine({name!r}, quadlet_dir=Path("/nonexistent-units"))
after = sorted(name for name in sys.modules if name in {modules!r})
print(",".join(before) + "|" + ",".join(after))
"""


@pytest.mark.parametrize(
    ("name", "loaded"),
    [
        ("podman", {"node_runtime.engines.podman_engine", "node_runtime.engines.podman_args"}),
        ("quadlet", ENGINE_MODULES - {"node_runtime.engines.stage_engine"}),
        ("stage", ENGINE_MODULES),  # it writes Quadlet units: it builds on both
    ],
)
def test_the_command_layer_imports_no_engine_and_choosing_one_imports_only_it(
    name: str, loaded: set[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(modules=ENGINE_MODULES, name=name)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    before, after = result.stdout.strip().split("|")
    assert before == ""  # the apply stack and the commands load no engine on import
    assert set(after.split(",")) == loaded
