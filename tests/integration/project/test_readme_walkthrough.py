"""README's "Your first hour" runs as written: its shell blocks, in order, in a fresh clone.

Offline: a throwaway ceremony, a dev build, signing, a publish to a local directory and
a node in stage mode.  The test checks what a newcomer would look at afterwards.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from catalog.runtime_names import member_unit_name

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.integration


def walkthrough_blocks(readme: str) -> list[str]:
    section = readme.split("\n## Your first hour\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def test_the_readme_has_a_walkthrough_of_several_blocks() -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 3
    assert blocks[0].startswith("scripts/bootstrap\n")


def test_the_first_hour_walkthrough_runs_verbatim_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    script = "set -euo pipefail\n" + "\n".join(walkthrough_blocks((ROOT / "README.md").read_text()))
    done = subprocess.run(
        ["bash", "-c", script], cwd=clone, capture_output=True, text=True, timeout=900
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Traceback" not in output
    assert "targets: 2 of 2 needed — met" in output
    assert f"published to {clone}/first-hour/repo" in output
    assert (clone / "first-hour/repo/index.html").is_file()
    assert "vaultwarden: installed" in output
    unit = f"{member_unit_name('vaultwarden', 'vaultwarden')}.container"
    assert (clone / "first-hour/node/staged-units" / unit).is_file()
    assert unit in done.stdout.splitlines()  # the last command lists the staged units
    key = clone / "first-hour/alice.key"
    assert key.stat().st_mode & 0o777 == 0o600
