"""nostr-sdk is loaded only when a marketplace command talks to relays; the node's market
package never imports the publisher."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_every_node_command_but_discover_loads_without_nostr_sdk() -> None:
    modules = loaded_after(
        "from catalog.command_group import load_command\n"
        "from node_runtime.commands import COMMANDS\n"
        "for target, _help in COMMANDS.values():\n"
        "    load_command(target)\n"
    )
    assert "node_runtime.commands.discover" in modules  # discover's module itself is light
    assert "nostr_sdk" not in modules


def test_archy_dev_commands_load_without_nostr_sdk() -> None:
    modules = loaded_after("from pipeline.commands import dev\nfrom pipeline import cli")
    assert "nostr_sdk" not in modules


def test_the_node_market_package_never_imports_the_pipeline() -> None:
    for path in sorted((ROOT / "node_runtime" / "market").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith("pipeline"), f"{path.name} imports {name}"
