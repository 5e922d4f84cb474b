"""The GitHub workflows: actionlint and zizmor (offline) pass, and each does its job."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

WORKFLOWS = Path(__file__).resolve().parents[3] / ".github" / "workflows"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the dev extra; run scripts/bootstrap)")
    return found


def load(name: str) -> dict[str, Any]:
    return YAML(typ="safe").load((WORKFLOWS / name).read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 readers turn the key `on` into True; ruamel's safe loader keeps "on".
    return workflow.get("on") or workflow.get(True) or {}


def test_actionlint_passes() -> None:
    result = subprocess.run(
        [tool("actionlint"), "-no-color"], cwd=WORKFLOWS.parents[1], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_passes_offline() -> None:
    result = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit_and_drops_its_credentials() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job in load(path.name)["jobs"].values():
            for step in job.get("steps", []):
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step
                    if step["uses"].startswith("actions/checkout@"):
                        assert step["with"]["persist-credentials"] is False, path.name


def test_a_merge_to_main_opens_a_signing_event_as_a_sign_branch_pull_request() -> None:
    workflow = load("signing-event.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["open-event"]["steps"])
    assert "archy ceremony open" in script
    assert 'git switch --create "sign/${EVENT_ID}"' in script
    assert "gh pr create" in script
    assert "secrets." not in (WORKFLOWS / "signing-event.yml").read_text()


def test_a_merge_that_changes_no_app_opens_no_event_and_no_pull_request() -> None:
    steps = {
        step.get("name", ""): step
        for step in load("signing-event.yml")["jobs"]["open-event"]["steps"]
    }
    opening = steps["Open the signing event"]
    assert "--skip-unchanged" in opening["run"]
    assert '["event_id"] or ""' in opening["run"]
    assert steps["Push sign/<event-id> and open the pull request"]["if"] == (
        "steps.event.outputs.id != ''"
    )


def test_signatures_pushed_to_a_sign_branch_report_the_threshold() -> None:
    workflow = load("signing-status.yml")
    assert triggers(workflow)["push"]["branches"] == ["sign/**"]
    assert "archy ceremony status" in (WORKFLOWS / "signing-status.yml").read_text()
    assert "secrets." not in (WORKFLOWS / "signing-status.yml").read_text()


def test_a_merged_signed_event_is_published_with_the_online_key() -> None:
    workflow = load("publish.yml")
    assert triggers(workflow)["push"]["paths"] == ["ceremony/events/**"]
    text = (WORKFLOWS / "publish.yml").read_text()
    assert "archy publish --to" in text and "--online-key-env ARCHY_ONLINE_KEY" in text
    assert workflow["concurrency"]["group"] == load("timestamp.yml")["concurrency"]["group"]


def test_a_scheduled_job_re_signs_the_timestamp() -> None:
    workflow = load("timestamp.yml")
    assert triggers(workflow)["schedule"]
    assert "archy refresh-timestamp" in (WORKFLOWS / "timestamp.yml").read_text()


def test_a_pull_request_shows_what_would_be_published_without_secrets() -> None:
    workflow = load("publish-dry-run.yml")
    assert "pull_request" in triggers(workflow)
    assert workflow["permissions"] == {"contents": "read"}
    text = (WORKFLOWS / "publish-dry-run.yml").read_text()
    assert "secrets." not in text and "archy publish" not in text
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["dry-run"]["steps"])
    assert "archy build --out dist --require-digests" in script
    assert 'cp -r ceremony "${RUNNER_TEMP}/ceremony"' in script  # the real one is untouched
    assert "GITHUB_STEP_SUMMARY" in script


def test_companion_base_images_must_be_pinned_before_anything_is_pulled(tmp_path: Path) -> None:
    script = WORKFLOWS.parents[1] / "scripts" / "pull-companion-bases"
    context = tmp_path / "apps" / "demo-ui" / "build"
    context.mkdir(parents=True)
    (context / "Containerfile").write_text(
        "FROM --platform=linux/amd64 docker.io/library/nginx:1.27\n"
    )
    done = subprocess.run(
        [str(script), str(tmp_path / "apps")], capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin"},  # no podman on this PATH: a pull would fail loudly
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        "error: base image docker.io/library/nginx:1.27 is not pinned by digest "
        "(write docker.io/library/nginx:1.27@sha256:<digest>)\n"
    )


def test_the_event_and_the_publish_build_the_node_binary_the_same_way() -> None:
    """The publish rebuilds the signed catalog; its node target must be byte-identical, so
    both workflows build it with the commit's time and a fixed hash seed, then ship it."""
    for name in ("signing-event.yml", "publish.yml"):
        text = (WORKFLOWS / name).read_text()
        assert "PYTHONHASHSEED=0" in text and "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct" in text
        assert '--node-binary "${RUNNER_TEMP}/node/archy-node-linux-amd64.tar.xz"' in text
        assert "scripts/pull-companion-bases" in text
