"""``scripts/marketplace-demo`` runs offline, as a user runs it, and each step shows what it
should: the score with its reasons, the root fingerprint and did:key before the registry
is added, the install, and both forged announcements refused."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from catalog.app_network import registry_network

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.integration
def test_the_marketplace_demo_runs_every_step_and_refuses_both_forgeries(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / "marketplace-demo"), str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    out = done.stdout
    assert (done.returncode, done.stderr) == (0, ""), out[-3000:]
    assert "Traceback" not in out
    assert out.rstrip().endswith("marketplace-demo: ok (every step did what it should)")
    developer = re.search(r"did:key  (did:key:z6Mk\w+)", out)
    assert developer is not None
    did = developer.group(1)
    # discover: the listing and its score lines
    assert re.search(rf"devreg/demo-notes  1\.0\.0-r1  score -2  by {did}\n", out)
    assert "      -2  publishes host port 18500\n" in out
    # registry add shows the fingerprint of the published root and the did:key first
    published = re.search(r"root fingerprint: ([0-9a-f]{64})", out)
    assert published is not None
    assert f"  root fingerprint (BLAKE3 of 1.root.json): {published.group(1)}\n" in out
    assert f"  developer: {did}\n" in out
    assert "registry devreg: new catalog, targets v1, downloaded 1 file(s)" in out
    assert "* devreg/demo-notes        1.0.0-r1" in out
    network = registry_network(did)
    assert (f"    devreg/demo-notes joins {network}: its registry's own network (named from its "
            "did:key); official apps join archy-net\n") in out  # fmt: skip
    assert (tmp_path / "demo" / "node" / "staged-units" /
            "archy-demo-notes_demo-notes.container").is_file()  # fmt: skip
    # the forgeries
    assert re.search(
        rf"names root [0-9a-f]{{64}}, but registry 'devreg' on this node trusts root "
        rf"{published.group(1)}; refused", out,
    )  # fmt: skip
    assert re.search(
        rf"the entry is signed by {did}, the announcement names did:key:z6Mk\w+\n", out
    )
    assert out.count(" 1 app(s) installed") == 1  # nothing was added by either forgery
