"""A real app applied through the frozen archy-node: the stage engine after a real pull, and
rootless podman as the node user (the container answers on its UI port, its secret is
0600, an uninstall with --purge leaves nothing behind)."""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.lifecycle.gate_apps import gate_manifest, ui_url
from tests.integration.lifecycle.node_agent import NodeAgent
from tests.realparts.net import wait_for_http
from tests.realparts.podman_user import RootlessPodman
from tests.support.catalogs import catalog_of
from tests.support.repos import make_repository

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
VAULT = (REPO / "tests/integration/lifecycle/apps/gate-vault/manifest.yml").read_text()


def run(binary: Path, *arguments: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(binary), *map(str, arguments)], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_pulled_app_is_staged_through_the_binary_with_its_secrets_and_data_dir(
    tmp_path: Path, archy_node_binary: Path
) -> None:
    data = tmp_path / "data"
    repository = make_repository(tmp_path / "origin", {"gate-vault": VAULT}, data_root=str(data))
    node = tmp_path / "node"
    state = ("--state-root", node)
    units = node / "staged-units"

    initialised = run(
        archy_node_binary, "init", *state, "--root", repository.root_path,
        "--origin", repository.origin, "--data-root", data, "--engine", "stage",
    )  # fmt: skip
    pulled = run(archy_node_binary, "pull", *state)
    installed = run(archy_node_binary, "install", "gate-vault", "--no-apply", *state)
    applied = run(archy_node_binary, "apply", *state)

    for done in (initialised, pulled, installed, applied):
        assert done.returncode == 0, done.stdout + done.stderr
    assert applied.stdout.splitlines()[:2] == [
        f"engine stage: units in {units}",
        f"gate-vault               1.0.0-r1       staged: units written to {units}, not "
        "started (the stage engine starts nothing)",
    ]
    assert repository.catalog is not None
    shipped = repository.catalog.apps["gate-vault"].units
    unit_files = {p.name: p.read_text() for p in units.iterdir() if p.is_file()}
    assert unit_files == dict(shipped)  # what CI checked
    # the app has post_install hooks: the node's drop-in runs them on every start of the unit
    (dropin,) = (units / "archy-gate-vault_gate-vault.container.d").iterdir()
    assert dropin.name == "archy-hooks.conf"
    assert dropin.read_text().splitlines()[1:] == [
        "[Service]",
        f'ExecStartPost=-{archy_node_binary} "run-hooks" "--state-root" "{node}" '
        '"gate-vault" "gate-vault"',
    ]
    secrets = {p.name: p for p in (node / "secrets/gate-vault").iterdir()}
    assert sorted(secrets) == ["key", "token"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in secrets.values()} == {0o600}
    assert (len(secrets["token"].read_text()), len(secrets["key"].read_text())) == (32, 48)
    assert (data / "gate-vault" / "vault").is_dir()

    before = {name: path.read_bytes() for name, path in secrets.items()}
    again = run(archy_node_binary, "apply", *state)
    assert again.returncode == 0, again.stderr
    # generated once, never regenerated
    assert {name: path.read_bytes() for name, path in secrets.items()} == before


@dataclass
class FrozenNodeAgent(NodeAgent):
    """The node agent as the rootless test user, run from the frozen binary."""

    binary: Path = Path()

    def argv(self, *args: str) -> list[str]:
        return [str(self.binary), *args]


@pytest.fixture
def frozen_agent(
    rootless_podman: RootlessPodman, busybox_image: str, archy_node_binary: Path
) -> Iterator[FrozenNodeAgent]:
    root = rootless_podman.make_tmpdir("frozen")
    bundle = root / "archy-node-bundle"  # the one-dir bundle, where the test user may run it
    shutil.copytree(archy_node_binary.parent, bundle, symlinks=True)
    bundle.chmod(0o755)
    binary = bundle / "archy-node"
    agent = FrozenNodeAgent(rootless_podman, root, binary=binary)
    agent.setup()
    yield agent
    if agent.run("uninstall", "gate-web").returncode == 0:
        agent.apply("--purge", "gate-web")
    rootless_podman.run("unshare", "rm", "-rf", str(root), check=False)


@pytest.mark.podman
def test_a_real_app_runs_under_rootless_podman_through_the_binary(
    frozen_agent: FrozenNodeAgent,
) -> None:
    manifest = gate_manifest("gate-web", frozen_agent.hook_sources)
    frozen_agent.publish(catalog_of([manifest]))
    frozen_agent.install("gate-web", "--no-apply")

    rc, document = frozen_agent.apply()

    assert rc == 0, document
    [result] = document["apps"]
    assert (result["app"], result["status"]) == ("gate-web", "ok"), document
    wait_for_http(ui_url(manifest), timeout=60)
    assert frozen_agent.podman.container_exists("gate-web")

    rc, document = frozen_agent.uninstall("gate-web", "--purge")
    assert rc == 0, document
    assert not frozen_agent.podman.container_exists("gate-web")
    assert not (frozen_agent.data_root / "gate-web").exists()
