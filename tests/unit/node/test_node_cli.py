"""``archy-node init|pull|status|list|install|uninstall`` as an owner runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from node_runtime.commands import main
from node_runtime.store.node_config import STATE_ROOT_ENV
from node_runtime.store.node_state import NodeState
from node_runtime.store.paths import NodePaths
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

ELECTRUM_NEEDS = "  - {app: bitcoin, version: '>=25', settings: {txindex: true}}\n"


def catalog_apps() -> dict[str, str]:
    return {
        "bitcoin-core": manifest_yaml(
            "bitcoin-core", version="28.1", provides=("bitcoin",), settings="  txindex: true\n"
        ),
        "electrs": manifest_yaml("electrs", requires=ELECTRUM_NEEDS),
        "old-wallet": manifest_yaml("old-wallet", requires="  - {app: bitcoin, version: '<20'}\n"),
        "lonely": manifest_yaml("lonely", requires="  - {app: lightning}\n"),
    }


@pytest.fixture
def repository(tmp_path: Path) -> RepositoryHandle:
    return make_repository(tmp_path / "origin", catalog_apps())


@pytest.fixture
def state_root(tmp_path: Path) -> Path:
    return tmp_path / "node"


def run(state_root: Path, *args: str) -> Result:
    """The command with the stage engine (units into the tmp dir): install and uninstall
    apply, and these tests have no container engine for the catalog's images."""
    env = {
        STATE_ROOT_ENV: str(state_root),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(state_root.parent / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


def init(state_root: Path, repository: RepositoryHandle, *extra: str) -> Result:
    return run(
        state_root,
        "init",
        "--root",
        str(repository.root_path),
        "--origin",
        repository.origin,
        "--data-root",
        str(state_root.parent / "data"),
        *extra,
    )


@pytest.fixture
def pulled(state_root: Path, repository: RepositoryHandle) -> Path:
    assert init(state_root, repository).exit_code == 0
    assert run(state_root, "pull").exit_code == 0
    return state_root


def one_error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_init_trusts_a_self_signed_root_and_writes_the_config(
    state_root: Path, repository: RepositoryHandle
) -> None:
    result = init(state_root, repository, "--seed", "http://127.0.0.1:9/targets/")
    assert result.exit_code == 0, result.output
    paths = NodePaths(state_root)
    assert paths.trusted_root_file.read_bytes() == repository.root_path.read_bytes()
    config = json.loads(paths.config_file.read_text())
    assert config["origin"] == repository.origin
    assert config["seeds"] == ["http://127.0.0.1:9/targets/"]
    assert config["data_root"] == str(state_root.parent / "data")


def test_init_refuses_a_root_that_does_not_verify_and_writes_nothing(
    tmp_path: Path, state_root: Path, repository: RepositoryHandle
) -> None:
    document = json.loads(repository.root_path.read_bytes())
    document["signed"]["version"] = 7  # the signature no longer covers what is signed
    forged = tmp_path / "forged-root.json"
    forged.write_text(json.dumps(document))
    result = run(state_root, "init", "--root", str(forged), "--origin", repository.origin)
    assert "not a trustworthy root" in one_error_line(result)
    assert "signed by 0 of the 1" in result.stderr
    assert not state_root.exists()

    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    result = run(state_root, "init", "--root", str(garbage), "--origin", repository.origin)
    assert "not a trustworthy root" in one_error_line(result)
    assert not state_root.exists()


def test_init_refuses_bad_origins_and_a_second_init_without_force(
    state_root: Path, repository: RepositoryHandle
) -> None:
    result = run(
        state_root, "init", "--root", str(repository.root_path), "--origin", "ftp://example.org/x"
    )
    assert "unsupported origin" in one_error_line(result)
    assert not state_root.exists()
    assert init(state_root, repository).exit_code == 0
    assert "already initialised" in one_error_line(init(state_root, repository))
    assert init(state_root, repository, "--force").exit_code == 0


def test_missing_options_are_usage_errors(state_root: Path) -> None:
    assert run(state_root, "init", "--origin", "file:///x").exit_code == 2
    assert run(state_root, "install").exit_code == 2


def test_commands_on_an_uninitialised_node_say_how_to_start(
    state_root: Path, repository: RepositoryHandle
) -> None:
    assert "archy-node init" in one_error_line(run(state_root, "pull"))
    assert "archy-node init" in one_error_line(run(state_root, "install", "electrs"))
    assert init(state_root, repository).exit_code == 0
    assert "archy-node pull" in one_error_line(run(state_root, "install", "electrs"))


def test_pull_json_reports_the_catalog_and_a_failure_keeps_it(
    state_root: Path, repository: RepositoryHandle
) -> None:
    assert init(state_root, repository).exit_code == 0
    result = run(state_root, "pull", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] and document["changed"]
    assert document["catalog"]["commit"] == "0" * 39 + "1"
    assert document["downloaded"] == ["app-catalog.json"]

    repository.path("metadata/timestamp.json").write_text("{}")
    failed = run(state_root, "pull", "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["step"] == "trust"
    assert "the current catalog is kept" in failed.stderr
    status = json.loads(run(state_root, "status", "--json").stdout)
    assert status["catalog"]["blake3"] == document["catalog"]["blake3"]
    assert status["last_pull"]["ok"] is False
    assert status["last_pull"]["error"].startswith("trust: ")


def test_install_refuses_an_app_the_catalog_does_not_have(pulled: Path) -> None:
    line = one_error_line(run(pulled, "install", "nonexistent"))
    assert "'nonexistent' is not in the catalog" in line
    assert NodeState(NodePaths(pulled)).installed().apps == {}


def test_install_refuses_an_app_whose_requirements_no_catalog_app_meets(pulled: Path) -> None:
    line = one_error_line(run(pulled, "install", "lonely"))
    assert "no app in the catalog is or provides 'lightning'" in line
    line = one_error_line(run(pulled, "install", "old-wallet"))
    assert "bitcoin-core is version 28.1, outside '<20'" in line
    assert NodeState(NodePaths(pulled)).installed().apps == {}


def test_install_refuses_a_dependent_before_its_provider_and_names_it(pulled: Path) -> None:
    result = run(pulled, "install", "electrs")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        "electrs requires 'bitcoin', which no installed app provides; install one of "
        "bitcoin-core first (archy-node install bitcoin-core) (P027)"
    ) in result.output
    assert list(NodeState(NodePaths(pulled)).installed().apps) == []
    assert run(pulled, "install", "bitcoin-core").exit_code == 0
    assert run(pulled, "install", "electrs").exit_code == 0
    assert list(NodeState(NodePaths(pulled)).installed().apps) == ["bitcoin-core", "electrs"]
    again = run(pulled, "install", "electrs")
    assert again.exit_code == 0 and "already installed" in again.stdout


def test_status_and_list_json(pulled: Path) -> None:
    assert run(pulled, "install", "bitcoin-core").exit_code == 0
    status = json.loads(run(pulled, "status", "--json").stdout)
    assert status["apps"] == [
        {
            "id": "bitcoin-core",
            "installed_at": status["apps"][0]["installed_at"],
            "catalog_version": "28.1-r1",
            "applied_version": None,
            "state": "not applied",
        }
    ]
    assert status["catalog"]["apps"] == 4
    assert status["last_pull"]["ok"] is True
    listing = json.loads(run(pulled, "list", "--json").stdout)
    assert [(app["id"], app["installed"]) for app in listing] == [
        ("bitcoin-core", True),
        ("electrs", False),
        ("lonely", False),
        ("old-wallet", False),
    ]
    assert listing[0]["version"] == "28.1-r1"
    human = run(pulled, "status")
    assert human.exit_code == 0 and "bitcoin-core" in human.stdout


def test_uninstall_keeps_data_and_only_purge_deletes_it(pulled: Path) -> None:
    data_file = pulled.parent / "data" / "bitcoin-core" / "wallet.dat"
    data_file.parent.mkdir(parents=True)
    data_file.write_bytes(b"precious")
    assert run(pulled, "install", "bitcoin-core").exit_code == 0
    result = run(pulled, "uninstall", "bitcoin-core")
    assert result.exit_code == 0, result.output
    assert "applied: removed" in result.stdout
    assert NodeState(NodePaths(pulled)).installed().apps == {}
    assert data_file.read_bytes() == b"precious"
    assert "not installed" in one_error_line(run(pulled, "uninstall", "bitcoin-core"))
    assert run(pulled, "install", "bitcoin-core").exit_code == 0
    purged = run(pulled, "uninstall", "bitcoin-core", "--purge")
    assert purged.exit_code == 0, purged.output
    assert "purged: " in purged.stdout and not data_file.parent.exists()


def test_install_no_apply_only_changes_the_desired_state(pulled: Path) -> None:
    result = run(pulled, "install", "bitcoin-core", "--no-apply")
    assert result.exit_code == 0 and "next: archy-node apply" in result.stdout
    assert list(NodeState(NodePaths(pulled)).installed().apps) == ["bitcoin-core"]
    assert not (pulled.parent / "units").exists()


def test_every_command_has_help(state_root: Path) -> None:
    for command in ("init", "pull", "status", "list", "install", "uninstall"):
        result = run(state_root, command, "--help")
        assert result.exit_code == 0 and "--state-root" in result.stdout


def test_init_resolves_relative_paths_so_a_later_pull_works_from_anywhere(
    tmp_path: Path, repository: RepositoryHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative --state-root, --data-root, --origin and seed paths are stored absolute."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "mirror").mkdir()
    monkeypatch.chdir(workdir)
    origin_dir = Path(repository.origin.removeprefix("file://"))
    relative_origin = Path("..") / origin_dir.relative_to(tmp_path)
    done = CliRunner().invoke(
        main,
        [
            "init",
            "--state-root", "node-rel",
            "--root", str(repository.root_path),
            "--origin", str(relative_origin),
            "--seed", "mirror",
            "--data-root", "data-rel",
        ],
        env={"ARCHY_NODE_ENGINE": "stage"},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    state_root = workdir / "node-rel"
    assert f"next: archy-node pull --state-root {state_root}" in done.output
    config = json.loads(NodePaths(state_root).config_file.read_text())
    assert config["origin"] == origin_dir.resolve().as_uri()
    assert config["seeds"] == [(workdir / "mirror").as_uri()]
    assert config["data_root"] == str(workdir / "data-rel")
    monkeypatch.chdir(tmp_path)
    assert run(state_root, "pull").exit_code == 0
