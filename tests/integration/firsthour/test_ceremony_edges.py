"""Issue 21, the ceremony's rows: an empty event, a signature after the rotation took effect,
and ids cut in a pipe."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pipeline.ceremony.steps import open_catalog_event, open_root_rotation, sign_event
from tests.support.ceremony_setup import NOW, PASSPHRASE, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp, write_build

REPO = Path(__file__).resolve().parents[3]


def archy(*args: str) -> subprocess.CompletedProcess[str]:
    """``archy ARGS`` in a child process, stdout a pipe, 80 columns (a script, a CI log)."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(REPO),
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "80",
            "ARCHY_TEST_PASSPHRASE": PASSPHRASE.decode(),
        },
        check=False,
        timeout=120,
    )


def accepted_catalog(tmp_path: Path) -> ThrowawayCeremony:
    """A ceremony whose targets v1 (demo-web) met its threshold."""
    ceremony = make_ceremony(tmp_path)
    write_build(tmp_path / "dist", [SmallApp("demo-web")])
    event, _review = open_catalog_event(ceremony.state, tmp_path / "dist", NOW)
    for key in ceremony.maintainers[:2]:
        sign_event(ceremony.state, event.event_id, key, NOW)
    return ceremony


def test_open_with_nothing_changed_refuses_and_opens_no_event(tmp_path: Path) -> None:
    ceremony = accepted_catalog(tmp_path)
    before = ceremony.state.event_ids()

    result = archy(
        "ceremony", "open", "--dir", str(ceremony.state.path), "--dist", str(tmp_path / "dist")
    )

    assert result.returncode == 1
    assert result.stderr == (
        "error: nothing changed since the last accepted catalog (targets v1); no event was "
        "opened (to sign the same catalog again before it expires, pass --renew)\n"
    )
    assert ceremony.state.event_ids() == before


def test_open_skip_unchanged_exits_0_with_no_event_for_ci_on_a_merge_that_changed_no_app(
    tmp_path: Path,
) -> None:
    ceremony = accepted_catalog(tmp_path)
    before = ceremony.state.event_ids()
    dist = str(tmp_path / "dist")

    said = archy("ceremony", "open", "--dir", str(ceremony.state.path), "--dist", dist,
                 "--skip-unchanged")  # fmt: skip
    as_json = archy("ceremony", "open", "--dir", str(ceremony.state.path), "--dist", dist,
                    "--skip-unchanged", "--json")  # fmt: skip

    assert (said.returncode, said.stderr) == (0, "")
    assert said.stdout.startswith(
        "skipped: nothing changed since the last accepted catalog (targets v1); no event was "
    )
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["event_id"] is None and document["unchanged"] is True
    assert ceremony.state.event_ids() == before


def test_open_skip_unchanged_still_opens_a_changed_catalog(tmp_path: Path) -> None:
    ceremony = accepted_catalog(tmp_path)
    write_build(tmp_path / "dist", [SmallApp("demo-web"), SmallApp("demo-two", host_port=18081)])

    result = archy("ceremony", "open", "--dir", str(ceremony.state.path), "--dist",
                   str(tmp_path / "dist"), "--skip-unchanged", "--json")  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["event_id"] in ceremony.state.event_ids()
    assert len(ceremony.state.event_ids()) == 2


def test_open_renew_opens_the_unchanged_catalog_on_purpose(tmp_path: Path) -> None:
    ceremony = accepted_catalog(tmp_path)

    result = archy(
        "ceremony", "open", "--dir", str(ceremony.state.path), "--dist", str(tmp_path / "dist"),
        "--renew", "--json",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert "no changes" in document["review"]
    assert len(ceremony.state.event_ids()) == 2


def test_a_third_signature_after_the_rotation_took_effect_is_refused_and_not_recorded(
    tmp_path: Path,
) -> None:
    ceremony = make_ceremony(tmp_path)
    event, _review = open_root_rotation(ceremony.state, {}, {}, {"targets": 3}, NOW)
    for key in ceremony.maintainers[:2]:  # 2-of-3 of root v1 and of root v2: in effect
        sign_event(ceremony.state, event.event_id, key, NOW)
    assert ceremony.state.trusted_root().version == 2
    path = ceremony.state.event_dir(event.event_id) / "metadata.json"
    before = path.read_bytes()

    result = archy(
        "ceremony", "sign", "--dir", str(ceremony.state.path), "--event", event.event_id,
        "--key", str(ceremony.key_files["carol"]), "--yes",
        "--passphrase-env", "ARCHY_TEST_PASSPHRASE",
    )  # fmt: skip

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr == (
        f"error: event {event.event_id} (root v2) is already in effect: the trusted root is "
        "v2; nothing was signed\n"
    )
    assert result.stdout == ""  # refused before any diff is shown
    assert path.read_bytes() == before
    status = json.loads(
        archy("ceremony", "status", "--dir", str(ceremony.state.path), "--json").stdout
    )
    (document,) = [e for e in status["events"] if e["event_id"] == event.event_id]
    assert document["in_effect"] is True
    assert [(q["role"], len(q["signed_by"]), q["threshold"]) for q in document["quorums"]] == [
        ("root v1 (current)", 2, 2),  # judged by the root it replaced, as when it was signed
        ("root v2 (next)", 2, 2),
    ]


def test_status_in_a_pipe_prints_whole_event_ids_that_paste_back(tmp_path: Path) -> None:
    ceremony = accepted_catalog(tmp_path)
    (event_id,) = ceremony.state.event_ids()
    directory = str(ceremony.state.path)

    status = archy("ceremony", "status", "--dir", directory)

    assert status.returncode == 0, status.stderr
    rows = [line.split("\t") for line in status.stdout.splitlines()]
    assert ["event", "signatures", "threshold", "event expires", "metadata expires"] in rows
    (row,) = [row for row in rows if row[0].startswith("targets-")]
    assert row[0] == event_id and row[2] == "met"
    keyids = {k for row in rows if row[0] == "root" for k in row[1].split(", ")}
    assert keyids == {key.keyid for key in ceremony.maintainers}  # whole, not 12 characters
    again = archy("ceremony", "status", "--dir", directory, "--event", row[0])
    assert again.returncode == 0, again.stderr
