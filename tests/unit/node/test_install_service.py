"""``archy-node install-service``: the unit it renders, and its refusals (one line, exit 1)."""

from __future__ import annotations

import json
import os
import pwd
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from node_runtime import daemon
from node_runtime.commands import main
from node_runtime.service import (
    ABANDONED_EXIT_STATUS,
    SELF_UPDATE_EXIT_STATUS,
    ServiceSettings,
    render_node_service,
    state_directory,
)

ME = pwd.getpwuid(os.getuid()).pw_name


def node_root(tmp_path: Path) -> Path:
    root = tmp_path / "state"
    root.mkdir()
    config = {"schema": 1, "origin": "file:///x", "data_root": "/srv/apps"}
    (root / "config.json").write_text(json.dumps(config))
    return root


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_print_shows_a_hardened_notify_unit_for_the_user(tmp_path: Path) -> None:
    root = node_root(tmp_path)
    code, out, err = invoke(
        "install-service", "--user", ME, "--binary", sys.executable, "--no-pull",
        "--state-root", str(root), "--print",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    for expected in (
        "Type=notify", f"User={ME}", "NoNewPrivileges=yes", "ProtectSystem=strict",
        "PrivateTmp=yes", "Restart=on-failure", "RestartSteps=5", "WantedBy=multi-user.target",
    ):  # fmt: skip
        assert expected in lines, expected
    uid = os.getuid()
    assert f"Environment=XDG_RUNTIME_DIR=/run/user/{uid}" in lines
    assert f"ExecStart={sys.executable} daemon --state-root {root} --no-pull" in lines
    [writable] = [line for line in lines if line.startswith("ReadWritePaths=")]
    assert writable.split("=", 1)[1].split() == [
        str(root), "/srv/apps", pwd.getpwuid(uid).pw_dir, f"/run/user/{uid}",
    ]  # fmt: skip
    assert not (tmp_path / "archy-node.service").exists()


def test_a_state_root_under_var_lib_is_the_state_directory() -> None:
    assert state_directory("/var/lib/archy-node") == "archy-node"
    assert state_directory("/srv/archy-node") is None
    text = render_node_service(
        ServiceSettings("node", 1000, "node", "/home/node", "/usr/local/bin/archy-node",
                        "/var/lib/archy-node", "/var/lib/archipelago")
    )  # fmt: skip
    assert "StateDirectory=archy-node" in text.splitlines()
    # SIGTERM to the agent alone, a stop timeout longer than its grace, its abandon is clean
    for line in ("KillMode=mixed", "TimeoutStopSec=90s", "SuccessExitStatus=143 75",
                 "RestartForceExitStatus=75"):  # fmt: skip
        assert line in text.splitlines()
    assert "--self-update" not in text
    updating = render_node_service(
        ServiceSettings("node", 1000, "node", "/home/node", "/var/lib/archy-bin/archy-node",
                        "/var/lib/archy-node", "/var/lib/archipelago", self_update=True)
    )  # fmt: skip
    assert "ReadWritePaths=/var/lib/archipelago /home/node /run/user/1000 /var/lib/archy-bin" in (
        updating.splitlines()
    )
    assert "--self-update" in updating
    assert (ABANDONED_EXIT_STATUS, SELF_UPDATE_EXIT_STATUS) == (
        daemon.ABANDONED_EXIT_STATUS,
        daemon.SELF_UPDATE_EXIT_STATUS,
    )
    assert "ReadWritePaths=/var/lib/archipelago /home/node /run/user/1000" in text.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "no-such-user-archy"], "error: --user: there is no user 'no-such-user-archy'"),
        (["--user", ME, "--binary", "/nonexistent/archy-node"], "is not an executable file"),
    ],
)
def test_refusals_are_one_line_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    root = node_root(tmp_path)
    code, _, err = invoke(
        "install-service", *args, "--state-root", str(root), "--unit-dir", str(tmp_path)
    )
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "archy-node.service").exists()


def test_an_uninitialised_node_is_refused(tmp_path: Path) -> None:
    code, _, err = invoke(
        "install-service", "--user", ME, "--binary", sys.executable,
        "--state-root", str(tmp_path / "none"), "--print",
    )  # fmt: skip
    assert code == 1 and "this node is not initialised" in err


def test_self_update_needs_the_link_of_a_one_dir_install(tmp_path: Path) -> None:
    """The unit runs <prefix>/archy-node, the link self-update swaps; a plain file is refused."""
    root = node_root(tmp_path)
    plain = tmp_path / "bin" / "archy-node"
    plain.parent.mkdir()
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o755)
    bundle = tmp_path / "opt" / "archy-node-0123456789abcdef"
    bundle.mkdir(parents=True)
    (bundle / "archy-node").write_text("#!/bin/sh\n")
    (bundle / "archy-node").chmod(0o755)
    link = tmp_path / "opt" / "archy-node"
    link.symlink_to("archy-node-0123456789abcdef/archy-node")
    common = ("install-service", "--user", ME, "--self-update", "--state-root", str(root))

    code, _, err = invoke(*common, "--binary", str(plain), "--print")
    linked_code, unit, linked_err = invoke(*common, "--binary", str(link), "--print")

    assert code == 1 and "Traceback" not in err
    assert err.strip() == (
        f"error: --self-update: {plain} is not a symlink to archy-node-<blake3>/archy-node "
        "beside it (the one-dir install; see docs/self-update.md)"
    )
    assert linked_code == 0, linked_err
    [exec_start] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    assert exec_start.startswith(f"ExecStart={link} daemon ")  # the link, never the bundle
    assert f" {tmp_path / 'opt'}" in unit  # the link's directory is writable
