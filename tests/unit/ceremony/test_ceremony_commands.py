"""`archy ceremony …` as maintainers use it: one-line refusals, exit 1, nothing written."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from tests.support.ceremony_setup import PASSPHRASE, make_ceremony
from tests.support.small_build import SmallApp, write_build

ENV = {"ARCHY_TEST_PASSPHRASE": PASSPHRASE.decode()}
NEW_PASSPHRASE = "lantern-orbit-velvet-88"
KEYGEN_ENV = {"ARCHY_TEST_PASSPHRASE": NEW_PASSPHRASE}


def archy(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), env=env or ENV, input=stdin)


def one_line_error(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def ceremony_with_event(tmp_path: Path):
    ceremony = make_ceremony(tmp_path)
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    result = archy(
        "ceremony",
        "open",
        "--dir",
        str(ceremony.state.path),
        "--dist",
        str(tmp_path / "dist"),
        "--json",
    )
    assert result.exit_code == 0, result.output
    event_id = json.loads(result.stdout)["event_id"]
    return ceremony, event_id


def test_keygen_writes_a_0600_key_and_never_prints_the_passphrase(tmp_path: Path) -> None:
    out = tmp_path / "me.key"
    result = archy(
        "ceremony",
        "keygen",
        "--out",
        str(out),
        "--kdf-cost",
        "interactive",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
        env=KEYGEN_ENV,
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert NEW_PASSPHRASE not in result.output
    assert (tmp_path / "me.key.pub").is_file()


def test_keygen_prompts_twice_for_a_new_passphrase(tmp_path: Path) -> None:
    out = tmp_path / "me.key"
    result = archy(
        "ceremony",
        "keygen",
        "--out",
        str(out),
        "--kdf-cost",
        "interactive",
        stdin="s3cret-words-of-mine\ns3cret-words-of-mine\n",
    )
    assert result.exit_code == 0, result.output
    assert "s3cret-words-of-mine" not in result.output


def test_init_command_creates_root_v1(tmp_path: Path) -> None:
    ceremony = make_ceremony(tmp_path / "keys-only")
    files = ceremony.key_files
    directory = tmp_path / "ceremony"
    result = archy(
        "ceremony",
        "init",
        "--dir",
        str(directory),
        "--root-key",
        str(files["alice"]),
        "--root-key",
        str(files["bob"]),
        "--root-key",
        f"{files['carol']}.pub",
        "--root-threshold",
        "2",
        "--targets-key",
        f"{files['alice']}.pub",
        "--targets-key",
        f"{files['bob']}.pub",
        "--targets-threshold",
        "2",
        "--online-key",
        f"{files['online']}.pub",
        "--expiry",
        "targets=30",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )
    assert result.exit_code == 0, result.output
    assert "root 2-of-3, targets 2-of-2" in result.stdout
    assert (directory / "metadata" / "1.root.json").is_file()


def test_sign_with_the_right_key_shows_the_diff_and_counts_the_signature(
    ceremony_with_event,
) -> None:
    ceremony, event_id = ceremony_with_event
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--event",
        event_id,
        "--key",
        str(ceremony.key_files["alice"]),
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
        stdin="y\n",
    )
    assert result.exit_code == 0, result.output
    assert "+ demo-web 1.0.0-r1 (new app)" in result.stdout
    assert "targets: 1 of 2 needed" in result.stdout
    status = archy("ceremony", "status", "--dir", str(ceremony.state.path), "--json")
    document = json.loads(status.stdout)
    [event] = document["events"]
    assert event["threshold_met"] is False
    assert event["quorums"][0]["signed_by"] == [ceremony.maintainers[0].keyid]


def test_declining_the_confirmation_signs_nothing(ceremony_with_event) -> None:
    ceremony, event_id = ceremony_with_event
    before = (ceremony.state.event_dir(event_id) / "metadata.json").read_bytes()
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--key",
        str(ceremony.key_files["alice"]),
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
        stdin="n\n",
    )
    assert result.exit_code == 1
    assert (ceremony.state.event_dir(event_id) / "metadata.json").read_bytes() == before


def test_a_wrong_passphrase_is_one_line_and_signs_nothing(ceremony_with_event) -> None:
    ceremony, event_id = ceremony_with_event
    before = (ceremony.state.event_dir(event_id) / "metadata.json").read_bytes()
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--key",
        str(ceremony.key_files["alice"]),
        "--yes",
        "--passphrase-env",
        "WRONG",
        env={"WRONG": "not it"},
    )
    assert result.exit_code == 1
    assert "wrong passphrase" in one_line_error(result)
    assert "not it" not in result.output
    assert (ceremony.state.event_dir(event_id) / "metadata.json").read_bytes() == before


def test_a_missing_key_file_is_one_line(ceremony_with_event, tmp_path: Path) -> None:
    ceremony, _ = ceremony_with_event
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--key",
        str(tmp_path / "gone.key"),
        "--yes",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )
    assert result.exit_code == 1
    assert "gone.key: no such key file" in one_line_error(result)


def test_a_key_outside_the_role_is_one_line(ceremony_with_event) -> None:
    ceremony, _ = ceremony_with_event
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--key",
        str(ceremony.key_files["online"]),
        "--yes",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )
    assert result.exit_code == 1
    assert "is not a key of targets" in one_line_error(result)


def test_a_tampered_event_is_one_line(ceremony_with_event) -> None:
    ceremony, event_id = ceremony_with_event
    path = ceremony.state.event_dir(event_id) / "metadata.json"
    path.write_text(path.read_text().replace('"version": 1', '"version": 7'))
    result = archy(
        "ceremony",
        "sign",
        "--dir",
        str(ceremony.state.path),
        "--key",
        str(ceremony.key_files["alice"]),
        "--yes",
        "--passphrase-env",
        "ARCHY_TEST_PASSPHRASE",
    )
    assert result.exit_code == 1
    assert "was altered after it was opened" in one_line_error(result)


def test_a_passphrase_is_never_an_argument_value() -> None:
    result = archy("ceremony", "sign", "--passphrase", "x", "--key", "k")
    assert result.exit_code == 2


def test_sign_reads_the_passphrase_from_a_file_and_status_shows_the_threshold(
    ceremony_with_event, tmp_path: Path
) -> None:
    ceremony, _ = ceremony_with_event
    passphrase_file = tmp_path / "passphrase"
    passphrase_file.write_bytes(PASSPHRASE + b"\n")
    directory = str(ceremony.state.path)
    for name in ("alice", "carol"):
        result = archy(
            "ceremony",
            "sign",
            "--dir",
            directory,
            "--key",
            str(ceremony.key_files[name]),
            "--yes",
            "--passphrase-file",
            str(passphrase_file),
        )
        assert result.exit_code == 0, result.output
    assert "targets: 2 of 2 needed — met" in result.stdout
    status = archy("ceremony", "status", "--dir", directory)
    assert status.exit_code == 0, status.output
    assert "Trusted root v1" in status.stdout and "met" in status.stdout
