"""validate, app validate, ceremony rotate-root and refresh-timestamp run as the commands they are.

Each runs ``archy`` as a process (what CI and a maintainer run), and checks what they see:
exit code, the exact lines printed, the files left behind, and no traceback on a refusal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.ceremony.event_publish import publish_signing_event
from pipeline.publish.file_origin import FileOrigin
from signing.metadata import Metadata, Timestamp
from tests.integration.publish.test_file_publish import signed_event
from tests.realparts import REPO_ROOT
from tests.support.ceremony_setup import NOW, PASSPHRASE, ThrowawayCeremony, make_ceremony
from tests.support.small_build import SmallApp

ARCHY = [sys.executable, "-m", "pipeline.cli"]


def archy(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*ARCHY, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr  # a refusal, never a crash
    return done


@pytest.fixture
def apps(tmp_path: Path) -> Path:
    """A good copy of a real app and a copy with a broken field."""
    for kind in ("ok", "bad"):
        shutil.copytree(REPO_ROOT / "apps/adguard-home", tmp_path / kind / "adguard-home")
    manifest = tmp_path / "bad/adguard-home/manifest.yml"
    manifest.write_text(manifest.read_text().replace("\nrevision: 1\n", "\nrevision: zero\n"))
    return tmp_path


@pytest.mark.parametrize("command", [["validate"], ["app", "validate"]])
def test_validate_passes_a_good_app_and_names_file_line_field_of_a_bad_one(
    apps: Path, command: list[str]
) -> None:
    good = archy(*command, apps / "ok/adguard-home")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip().endswith("1 apps checked: 0 errors, 1 warnings")
    bad_manifest = apps / "bad/adguard-home/manifest.yml"
    bad = archy(*command, bad_manifest.parent)
    assert bad.returncode == 1
    assert bad.stderr == f"{bad_manifest}:5: revision: expected a whole number\n"
    assert bad.stdout.strip().endswith("0 apps checked: 1 errors, 0 warnings")
    report = json.loads(archy(*command, "--json", bad_manifest.parent).stdout)
    assert report["ok"] is False and report["errors"] == 1
    assert [(p["file"], p["line"], p["field"]) for p in report["problems"]] == [
        (str(bad_manifest), 5, "revision")
    ]


def test_validate_with_required_digests_refuses_an_unpinned_image(apps: Path) -> None:
    done = archy("validate", "--require-digests", apps / "ok/adguard-home")
    assert done.returncode == 1
    assert "is not pinned" in done.stderr and "(P015)" in done.stderr


@pytest.fixture
def ceremony(tmp_path: Path) -> ThrowawayCeremony:
    return make_ceremony(tmp_path)


def test_rotate_root_opens_an_event_and_refuses_an_unknown_key(
    ceremony: ThrowawayCeremony,
) -> None:
    events_before = sorted(p.name for p in ceremony.state.path.rglob("*"))
    refused = archy(
        "ceremony", "rotate-root", "--dir", ceremony.state.path, "--remove-root-key", "f" * 64
    )
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: cannot rotate root: {'f' * 64!r} names no single key of root\n"
    )
    assert sorted(p.name for p in ceremony.state.path.rglob("*")) == events_before
    opened = archy("ceremony", "rotate-root", "--dir", ceremony.state.path, "--root-threshold", "3")
    assert opened.returncode == 0, opened.stderr
    lines = opened.stdout.splitlines()
    assert lines[0].startswith("opened root rotation root-v2-")
    event_id = lines[0].removeprefix("opened root rotation ")
    assert lines[2] == "  root: threshold 2 -> 3"
    assert lines[3].endswith(f"`archy ceremony sign --event {event_id} --key KEYFILE`")
    assert sorted(p.name for p in ceremony.state.path.rglob("*")) != events_before


def test_refresh_timestamp_re_signs_the_timestamp_and_refuses_a_wrong_passphrase(
    ceremony: ThrowawayCeremony, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    event = signed_event(ceremony, tmp_path / "dist", [SmallApp("demo-web")], "a" * 40)
    publish_signing_event(
        ceremony.state, event.event_id, tmp_path / "dist", FileOrigin(repo), ceremony.online, NOW
    )
    timestamp = repo / "metadata/timestamp.json"
    before = timestamp.read_bytes()
    args = [
        "refresh-timestamp", "--to", f"file://{repo}", "--ceremony", ceremony.state.path,
        "--online-key", ceremony.key_files["online"], "--passphrase-env", "ONLINE_PASSPHRASE",
    ]  # fmt: skip
    refused = archy(*args, env={"ONLINE_PASSPHRASE": "nope"})
    assert refused.returncode == 1
    assert refused.stderr == f"error: {ceremony.key_files['online']}: wrong passphrase\n"
    assert timestamp.read_bytes() == before  # nothing written
    done = archy(*args, env={"ONLINE_PASSPHRASE": PASSPHRASE.decode()})
    assert done.returncode == 0, done.stderr
    assert PASSPHRASE.decode() not in done.stdout + done.stderr
    assert done.stdout == (
        f"published to {repo}: targets v1, snapshot v1, timestamp v2 "
        "(1 files written, 0 already there)\n"
    )
    old = Metadata.from_bytes(before, Timestamp).signed.version
    assert Metadata.from_bytes(timestamp.read_bytes(), Timestamp).signed.version == old + 1
