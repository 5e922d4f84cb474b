"""Hostile catalogs at the node: validly signed, refused per app, nothing of other apps touched.

Each catalog is signed by a test registry (tests/support/repos.py) whose build was
tampered with after the renderer ran — what a compromised CI machine or a hostile
third-party registry could sign.  The node pulls it through the real TUF client,
installs an honest app first, then the hostile one, with the stage engine (units written
to a directory, data dirs and secrets created, nothing started: the files are what we
compare).  The hostile app is refused with its reason; the honest app's units, data and
secrets are byte-identical afterwards, and nothing of the hostile app was written.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.runtime_names import volume_host_path
from catalog.unit_check import container_unit_file
from node_runtime.commands import main
from node_runtime.plan.actions import WriteUnits
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.reconcile import plan_reconcile
from node_runtime.store.applied import AppliedApp
from node_runtime.store.node_config import STATE_ROOT_ENV
from tests.support.repos import UnitTamper, make_repository, manifest_yaml

VAULT = (
    Path(__file__).resolve().parents[2] / "integration/lifecycle/apps/gate-vault/manifest.yml"
).read_text()
EVIL_UNIT = container_unit_file("evil", "evil")


def run(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


def tree(root: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every entry below ``root``: (kind, mode, bytes or link target), never following links."""
    found: dict[str, tuple[str, int, bytes]] = {}
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(directory, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                found[str(path)] = ("link", 0, os.readlink(path).encode())
            elif stat.S_ISDIR(info.st_mode):
                found[str(path)] = ("dir", stat.S_IMODE(info.st_mode), b"")
            else:
                found[str(path)] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return found


def add_to_evil_unit(line: str, section: str = "[Container]") -> UnitTamper:
    def tamper(units: dict[str, str]) -> dict[str, str]:
        text = units[EVIL_UNIT]
        units[EVIL_UNIT] = text.replace(f"{section}\n", f"{section}\n{line}\n", 1)
        return units

    return tamper


def evil_yaml(member_yaml: str = "", top_yaml: str = "") -> str:
    """The small test app ``evil`` with extra member fields (6-space indented YAML)."""
    command = '    command: ["sleep", "infinity"]\n'
    return manifest_yaml("evil").replace(command, command + member_yaml) + top_yaml


@dataclass(frozen=True)
class Hostile:
    manifest: str
    tamper: UnitTamper | None
    reason: str


def copy_unit_as(name: str) -> UnitTamper:
    def tamper(units: dict[str, str]) -> dict[str, str]:
        units[name] = units.pop(EVIL_UNIT)
        return units

    return tamper


# [Container] follows the two header comments, [Unit], Description= and a blank line
CONTINUED_LINE = 7
FOREIGN = volume_host_path("gate-vault", "vault", None)  # the honest app's volume dir
REFUSED = "its units are refused (not what the renderer writes for evil): "
CORPUS: dict[str, Hostile] = {
    "privileged unit (PodmanArgs=--privileged)": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit('PodmanArgs="--privileged"'),
        f'{REFUSED}unit {EVIL_UNIT}: [Container] PodmanArgs="--privileged": '
        "not what the app's manifest asks for",
    ),
    "Volume=/:/host": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit("Volume=/:/host"),
        f"{REFUSED}unit {EVIL_UNIT}: [Container] Volume=/:/host: not what the app's manifest "
        "asks for",
    ),
    "a foreign app's volume in the unit": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit(f"Volume={FOREIGN}:/steal"),
        f"{REFUSED}unit {EVIL_UNIT}: [Container] Volume={FOREIGN}:/steal: not what the app's "
        "manifest asks for",
    ),
    "a foreign app's volume in the manifest, not granted": Hostile(
        evil_yaml(f"    volumes:\n      - {{name: steal, path: /steal, host_path: {FOREIGN}}}\n"),
        None,
        f"{REFUSED}manifest: member evil mounts {FOREIGN}, outside the app's data dir and not "
        "granted in permissions.host_paths",
    ),
    "a foreign app's volume granted but writable": Hostile(
        evil_yaml(
            f"    volumes:\n      - {{name: steal, path: /steal, host_path: {FOREIGN}}}\n",
            f"permissions:\n  host_paths: [{FOREIGN}]\n",
        ),
        None,
        f"{REFUSED}manifest: member evil mounts another app's data {FOREIGN} writable "
        "(only read-only)",
    ),
    "AddCapability not in the manifest": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit("AddCapability=SYS_ADMIN"),
        f"{REFUSED}unit {EVIL_UNIT}: [Container] AddCapability=SYS_ADMIN: not what the app's "
        "manifest asks for",
    ),
    "a capability the policy forbids, in manifest and unit alike": Hostile(
        evil_yaml("    cap_add: [SYS_ADMIN]\n"),
        None,
        f"{REFUSED}manifest: member evil adds capability SYS_ADMIN, which the policy forbids",
    ),
    "DropCapability=ALL removed": Hostile(
        manifest_yaml("evil"),
        lambda units: {**units, EVIL_UNIT: units[EVIL_UNIT].replace("DropCapability=ALL\n", "")},
        f"{REFUSED}unit {EVIL_UNIT}: [Container] DropCapability=ALL is missing",
    ),
    "an extra ExecStartPre=": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit("ExecStartPre=/bin/sh -c 'cp /bin/sh /tmp/x'", "[Service]"),
        f"{REFUSED}unit {EVIL_UNIT}: [Service] ExecStartPre=/bin/sh -c 'cp /bin/sh /tmp/x': "
        "a key the renderer never writes",
    ),
    "a line continuation hiding a key": Hostile(
        manifest_yaml("evil"),
        add_to_evil_unit("Label=a\\\nPodmanArgs=--privileged"),
        f"{REFUSED}unit {EVIL_UNIT}: line {CONTINUED_LINE} continues a line (the renderer never "
        "does)",
    ),
    "a drop-in shipped in the catalog": Hostile(
        manifest_yaml("evil"),
        lambda units: {**units, f"{EVIL_UNIT}.d/x.conf": "[Container]\nPodmanArgs=--privileged\n"},
        f"{REFUSED}unit {EVIL_UNIT}.d/x.conf: not a unit the renderer writes for this app",
    ),
    "a unit named like another app's unit": Hostile(
        manifest_yaml("evil"),
        copy_unit_as(container_unit_file("gate-vault", "gate-vault")),
        f"{REFUSED}unit {container_unit_file('gate-vault', 'gate-vault')}: not a unit the "
        f"renderer writes for this app; unit {EVIL_UNIT} is missing",
    ),
}


@pytest.fixture
def node(tmp_path: Path) -> Callable[[Hostile], tuple[Result, Path]]:
    def setup(hostile: Hostile) -> tuple[Result, Path]:
        tampers = {"evil": hostile.tamper} if hostile.tamper is not None else {}
        repository = make_repository(
            tmp_path / "origin", {"gate-vault": VAULT, "evil": hostile.manifest},
            tamper_units=tampers,
        )  # fmt: skip
        init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
        assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
        assert run(tmp_path, "pull").exit_code == 0
        installed = run(tmp_path, "install", "gate-vault", "--json")
        assert installed.exit_code == 0, installed.output
        (tmp_path / "data/gate-vault/vault/notes.txt").write_bytes(b"the honest app's data")
        return installed, tmp_path

    return setup


@pytest.mark.parametrize("attack", sorted(CORPUS))
def test_a_hostile_app_is_refused_and_the_other_apps_files_are_untouched(
    attack: str, node: Callable[[Hostile], tuple[Result, Path]]
) -> None:
    hostile = CORPUS[attack]
    _, root = node(hostile)
    before = {part: tree(root / part) for part in ("units", "data", "state/secrets")}

    result = run(root, "install", "evil", "--json")

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    apps = {a["app"]: a for a in json.loads(result.stdout)["apps"]}
    assert (apps["evil"]["status"], apps["evil"]["reason"]) == ("failed", hostile.reason)
    after = {part: tree(root / part) for part in ("units", "data", "state/secrets")}
    assert after == before  # the honest app byte-identical; nothing of evil written
    assert not (root / "data/evil").exists()
    assert not (root / "state/secrets/evil").exists()
    # the honest app goes on being staged, unchanged
    again = run(root, "apply", "--json")
    statuses = {a["app"]: a["status"] for a in json.loads(again.stdout)["apps"]}
    assert statuses == {"gate-vault": "staged", "evil": "failed"}
    assert {part: tree(root / part) for part in ("units", "data", "state/secrets")} == before


def test_the_same_app_honestly_signed_installs(tmp_path: Path) -> None:
    """The corpus' baseline: without the tampering, evil is staged (so the refusals above
    come from the hostile lines, not from the app)."""
    repository = make_repository(
        tmp_path / "origin", {"gate-vault": VAULT, "evil": manifest_yaml("evil")}
    )
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    assert run(tmp_path, *init, "--data-root", str(tmp_path / "data")).exit_code == 0
    assert run(tmp_path, "pull").exit_code == 0
    result = run(tmp_path, "install", "evil", "--json")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "units" / EVIL_UNIT).is_file()


@pytest.mark.parametrize("attack", sorted(CORPUS))
def test_the_podman_and_quadlet_plan_refuses_the_hostile_app_alone(
    attack: str, tmp_path: Path
) -> None:
    """The engines that run containers plan through reconcile: the same refusal, no action."""
    hostile = CORPUS[attack]
    tampers = {"evil": hostile.tamper} if hostile.tamper is not None else {}
    repository = make_repository(
        tmp_path / "origin", {"gate-vault": VAULT, "evil": hostile.manifest}, tamper_units=tampers
    )
    assert repository.catalog is not None
    plan = plan_reconcile(repository.catalog, {"gate-vault", "evil"}, ObservedState(), {},
                          data_root=str(tmp_path / "data"), architecture="amd64")  # fmt: skip
    evil = plan.app("evil")
    assert (evil.change, evil.reason, evil.actions) == ("refused", hostile.reason, ())
    assert plan.app("gate-vault").change == "install"


def test_a_hostile_update_keeps_the_applied_version_and_never_writes_its_units(
    tmp_path: Path,
) -> None:
    honest = make_repository(tmp_path / "honest", {"evil": manifest_yaml("evil")})
    assert honest.catalog is not None
    applied = {"evil": AppliedApp.of(honest.catalog.apps["evil"], str(tmp_path / "data"))}
    hostile = make_repository(
        tmp_path / "hostile",
        {"evil": manifest_yaml("evil", revision=2)},
        tamper_units={"evil": add_to_evil_unit("Volume=/:/host")},
    )
    assert hostile.catalog is not None
    plan = plan_reconcile(hostile.catalog, {"evil"}, ObservedState(), applied,
                          data_root=str(tmp_path / "data"), architecture="amd64")  # fmt: skip
    evil = plan.app("evil")
    assert evil.change == "refused"
    assert evil.reason is not None and "Volume=/:/host" in evil.reason
    written = [a.units for a in evil.actions if isinstance(a, WriteUnits)]
    assert written == [tuple(sorted(honest.catalog.apps["evil"].units.items()))]
