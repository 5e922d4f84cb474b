"""Provider capabilities on a node (issue 13): the bitcoin stack staged from the real apps/.

Every dependent's RPC password is bitcoin's one capability secret
(``archy-cap_bitcoin_rpc-password``, the provider's own Podman secret, never a copy),
the provider answers on archy-net as ``bitcoind``, one provider at a time (P026),
no dependent without a provider (P027), no provider removed from under its
dependents without ``--force`` (P028).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.systemd_syntax import parse_unit
from node_runtime.commands import main
from node_runtime.store.node_config import STATE_ROOT_ENV
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository

APPS = Path(__file__).resolve().parents[3] / "apps"
STACK = ("bitcoin-core", "bitcoin-knots", "lnd", "electrs", "mempool")
CAPABILITY_SECRET = "archy-cap_bitcoin_rpc-password"
SECRET_ENV = {
    "lnd": ["BITCOIN_RPC_PASSWORD"],
    "electrs": ["BITCOIN_RPC_PASSWORD"],
    "mempool": ["CORE_RPC_PASSWORD"],
}


def run(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> RepositoryHandle:
    manifests = {app: (APPS / app / "manifest.yml").read_text() for app in STACK}
    return make_repository(tmp_path_factory.mktemp("origin"), manifests, pin_images=False)


def _node(tmp_path: Path, repository: RepositoryHandle) -> None:
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0


def _install(tmp_path: Path, *apps: str) -> None:
    for app in apps:
        result = run(tmp_path, "install", app, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["apps"][0]["status"] == "staged", result.output


def _entries(unit: Path, key: str) -> list[str]:
    return [e.value for e in parse_unit(unit.read_text()) if e.key == key]


def _secret_targets(unit: Path) -> dict[str, str]:
    """{env var: Podman secret} of a unit's Secret= lines."""
    found = {}
    for value in _entries(unit, "Secret"):
        name, _, options = value.strip('"').partition(",")
        target = dict(option.split("=", 1) for option in options.split(","))["target"]
        found[target] = name
    return found


@pytest.mark.parametrize(
    ("provider", "member"), [("bitcoin-core", "bitcoind"), ("bitcoin-knots", "bitcoind-knots")]
)
def test_every_dependent_uses_the_providers_one_secret_and_reaches_it_by_the_alias(
    tmp_path: Path, repository: RepositoryHandle, provider: str, member: str
) -> None:
    _node(tmp_path, repository)
    _install(tmp_path, provider, "electrs", "lnd", "mempool")
    units = tmp_path / "units"

    provider_unit = units / f"archy-{provider}_{member}.container"
    assert _entries(provider_unit, "NetworkAlias") == ["bitcoind"]
    assert _entries(provider_unit, "Network") == ["archy-net.network"]
    assert _secret_targets(provider_unit) == {"BITCOIN_RPC_PASSWORD": CAPABILITY_SECRET}

    for app, variables in SECRET_ENV.items():
        for unit in units.glob(f"archy-{app}_*.container"):
            for variable, secret in _secret_targets(unit).items():
                if variable in variables:
                    assert secret == CAPABILITY_SECRET, (unit.name, variable)
                else:
                    assert secret.startswith(f"archy-{app}_"), (unit.name, variable)
        wanted = {
            (variable, CAPABILITY_SECRET)
            for unit in units.glob(f"archy-{app}_*.container")
            for variable, secret in _secret_targets(unit).items()
            if secret == CAPABILITY_SECRET
        }
        assert wanted == {(v, CAPABILITY_SECRET) for v in variables}, app
        text = "\n".join(u.read_text() for u in units.glob(f"archy-{app}_*.container"))
        assert "bitcoind" in text  # the capability alias, whichever provider runs
        assert member == "bitcoind" or member not in text

    # One value on the node, 0600, filed under the capability; no app holds a copy.
    secrets = tmp_path / "state/secrets"
    value = secrets / "cap/bitcoin_rpc-password"
    assert stat.S_IMODE(value.stat().st_mode) == 0o600
    copies = [p for p in secrets.rglob("*") if p.is_file() and "rpc" in p.name]
    assert copies == [value]
    for app in ("lnd", "electrs", "mempool"):
        assert not (secrets / app / "bitcoin-rpc-password").exists()


def test_switching_providers_keeps_the_one_secret_and_refuses_two(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    _node(tmp_path, repository)
    _install(tmp_path, "bitcoin-core", "lnd")
    value = (tmp_path / "state/secrets/cap/bitcoin_rpc-password").read_bytes()

    both = run(tmp_path, "install", "bitcoin-knots")
    assert both.exit_code == 1
    assert "Traceback" not in both.output
    assert (
        "bitcoin-knots provides 'bitcoin', which bitcoin-core (installed) provides already; "
        "a node runs one provider of a capability: uninstall bitcoin-core first "
        "(archy-node uninstall bitcoin-core --force keeps its data) (P026)"
    ) in both.output
    assert set(NodeState(NodePaths(tmp_path / "state")).installed().apps) == {
        "bitcoin-core",
        "lnd",
    }

    refused = run(tmp_path, "uninstall", "bitcoin-core")
    assert refused.exit_code == 1
    assert (
        "lnd depends on bitcoin-core; uninstall it first, or run "
        "`archy-node uninstall bitcoin-core --force` to stop it until another provider is "
        "installed (their data is kept) (P028)"
    ) in refused.output
    assert "bitcoin-core" in NodeState(NodePaths(tmp_path / "state")).installed().apps

    forced = run(tmp_path, "uninstall", "bitcoin-core", "--force")
    assert forced.exit_code == 0, forced.output
    assert (
        "note: lnd is stopped (its data is kept) until another provider is installed; "
        "then run `archy-node start lnd`"
    ) in forced.stdout
    stopped = json.loads((tmp_path / "state/state/stopped.json").read_text())
    assert stopped["apps"] == ["lnd"]
    assert "lnd" in NodeState(NodePaths(tmp_path / "state")).installed().apps
    _install(tmp_path, "bitcoin-knots")
    started = run(tmp_path, "start", "lnd", "--json")
    assert started.exit_code == 0, started.output
    assert json.loads((tmp_path / "state/state/stopped.json").read_text())["apps"] == []
    assert (tmp_path / "state/secrets/cap/bitcoin_rpc-password").read_bytes() == value
    knots = tmp_path / "units/archy-bitcoin-knots_bitcoind-knots.container"
    assert _entries(knots, "NetworkAlias") == ["bitcoind"]


def test_a_dependent_without_an_installed_provider_is_refused_naming_the_candidates(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    _node(tmp_path, repository)
    refused = run(tmp_path, "install", "lnd")
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert (
        "lnd requires 'bitcoin', which no installed app provides; install one of "
        "bitcoin-core, bitcoin-knots first (archy-node install bitcoin-core) (P027)"
    ) in refused.output
    assert NodeState(NodePaths(tmp_path / "state")).installed().apps == {}
    assert not (tmp_path / "units").exists() or not list((tmp_path / "units").iterdir())


def _plant(tmp_path: Path, app: str, value: bytes) -> Path:
    """A secret value as a node from before capabilities kept it: under the app's own name."""
    folder = tmp_path / "state/secrets" / app
    folder.mkdir(parents=True, mode=0o700)
    path = folder / "rpc-password"
    path.write_bytes(value)
    path.chmod(0o600)
    return path


def test_a_provider_that_kept_its_secret_under_its_own_name_keeps_the_value(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    # bitcoin-core's RPC password was filed under the app before it was exported with
    # the capability; its data (and its dependents' configs) were made with that value.
    _node(tmp_path, repository)
    before = _plant(tmp_path, "bitcoin-core", b"kept-before-capabilities")
    _install(tmp_path, "bitcoin-core", "lnd")
    value = tmp_path / "state/secrets/cap/bitcoin_rpc-password"
    assert value.read_bytes() == b"kept-before-capabilities"
    assert stat.S_IMODE(value.stat().st_mode) == 0o600
    assert before.read_bytes() == b"kept-before-capabilities"  # never removed


def test_a_capability_secret_already_kept_wins_over_a_second_providers_old_value(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    _node(tmp_path, repository)
    _install(tmp_path, "bitcoin-core")
    value = (tmp_path / "state/secrets/cap/bitcoin_rpc-password").read_bytes()
    assert value != b"knots-own-value" and len(value) == 32
    assert run(tmp_path, "uninstall", "bitcoin-core").exit_code == 0
    _plant(tmp_path, "bitcoin-knots", b"knots-own-value")
    _install(tmp_path, "bitcoin-knots")
    assert (tmp_path / "state/secrets/cap/bitcoin_rpc-password").read_bytes() == value


def test_an_old_secret_that_is_a_symlink_is_refused_and_nothing_is_generated(
    tmp_path: Path, repository: RepositoryHandle
) -> None:
    _node(tmp_path, repository)
    outside = tmp_path / "outside"
    outside.write_bytes(b"not the node's")
    folder = tmp_path / "state/secrets/bitcoin-core"
    folder.mkdir(parents=True, mode=0o700)
    (folder / "rpc-password").symlink_to(outside)
    result = run(tmp_path, "install", "bitcoin-core", "--json")
    assert "Traceback" not in result.output
    app = json.loads(result.stdout)["apps"][0]
    assert app["status"] == "failed"
    assert "rpc-password cannot be read as a secret file" in app["reason"]
    assert not (tmp_path / "state/secrets/cap/bitcoin_rpc-password").exists()
