"""The publish workflow run for real: every step of ``publish.yml``, in order, as written.

Each ``run`` script is read from the workflow file (never re-typed) and run by bash the way
the runner runs it (``bash --noprofile --norc -eo pipefail``), in the working directory the
step names, with its ``env`` and ``if`` evaluated from a context of outputs, secrets and
variables.  The remote is a local bare git repository (``main`` and the ``repository``
branch); the seed is a local HTTP seed; the S3 origin is a local SeaweedFS.

Before it, the signing-event workflow's steps open the event the same way (its last step,
which pushes a branch and opens a pull request on GitHub, is done by hand: the event is
signed by two of three maintainers with ``archy ceremony sign`` and merged into ``main``).
Then a node pulls from the S3 origin, and the catalog it verified names, as its ``node``
target, the bundle the workflow's build step produced.

Stand-ins, and why:
- ``actions/checkout``: a ``git clone`` of the local remote (the ref and path it names).
- ``scripts/bootstrap`` in the test's repository: no package index is reachable, so ``.venv``
  links to this test's environment (the same locked packages).  Its ``pyinstaller`` serves
  the one-dir bundle of these very sources from the frozen-test cache (``frozen_build.py``,
  built at most once per session, a minute or two on 2 cores); the test checks that the
  signed commit's sources key is the cached bundle's key, so the bytes are what PyInstaller
  builds from that commit.  The real ``scripts/build-node-binary`` runs around it and packs
  the bundle, byte for byte as the cache's build packed it.
- The push to GitHub: ``git push`` goes to the local bare remote, redirected by git's
  ``url.<path>.insteadOf`` (from the environment), so the step runs unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from catalog.address import blake3_hex
from node_runtime.seed.http_server import HttpSeedServer
from node_runtime.seed.store import SeedStore
from node_runtime.store.blob_store import BlobStore
from tests.integration.s3.seaweedfs import ACCESS_KEY, SECRET_KEY, SeaweedFS
from tests.support.apprepo import AppRepo
from tests.support.ceremony_setup import PASSPHRASE, make_ceremony
from tests.support.frozen_build import (
    frozen_binary,
    frozen_build,
    frozen_bundle_archive,
    sources_key,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
WORKFLOWS = REPO / ".github" / "workflows"
VENV = Path(sys.executable).parents[1]
SEED_TOKEN = "a-workflow-seed-token-0123456789"
GH_TOKEN = "a-github-token-that-goes-nowhere"
GITHUB_REPOSITORY = "archipelago/registry"
IMAGE = "docker.io/library/nginx:1.27.3@sha256:" + "ab" * 32
EXPRESSION = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")

# what the test's repository carries from this checkout: the node's sources and the real
# build scripts (so the signed commit builds the same binary), next to its own apps/
COPIED = ("node_runtime", "catalog", "signing", "pyproject.toml", "requirements.lock")
COPIED_SCRIPTS = ("build-node-binary", "pull-companion-bases")

BOOTSTRAP_STAND_IN = """\
#!/usr/bin/env bash
# Stand-in for scripts/bootstrap (the workflow test has no package index): .venv links to the
# test's environment; its pyinstaller copies the frozen-test cache's bundle of these sources.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .venv/bin
ln -sfn "$ARCHY_TEST_VENV/pyvenv.cfg" .venv/pyvenv.cfg
ln -sfn "$ARCHY_TEST_VENV/lib" .venv/lib
for tool in "$ARCHY_TEST_VENV"/bin/*; do ln -sfn "$tool" ".venv/bin/${tool##*/}"; done
rm .venv/bin/pyinstaller
cat > .venv/bin/pyinstaller <<'SH'
#!/usr/bin/env bash
set -euo pipefail
while [[ $# -gt 0 ]]; do case "$1" in --distpath) dist="$2"; shift 2 ;; *) shift ;; esac; done
mkdir -p "$dist" && cp -a "$ARCHY_TEST_FROZEN_BUNDLE" "$dist/archy-node-linux-amd64"
SH
chmod +x .venv/bin/pyinstaller
"""


def git(cwd: Path, *arguments: str) -> str:
    environment = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
        "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
    }
    done = subprocess.run(
        ["git", *arguments], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def workflow_steps(name: str, job: str) -> list[dict[str, Any]]:
    workflow = YAML(typ="safe").load((WORKFLOWS / name).read_text())
    steps: list[dict[str, Any]] = workflow["jobs"][job]["steps"]
    return steps


def resolve(text: str, context: Mapping[str, str]) -> str:
    """``${{ steps.event.outputs.id }}`` and the like, from ``context``; unknown ones fail."""

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"the test has no value for ${{{{ {match.group(1)} }}}}"
        return context[match.group(1)]

    return EXPRESSION.sub(value, text)


def condition_holds(condition: str, context: Mapping[str, str]) -> bool:
    """The one form of ``if:`` the workflow uses: ``vars.NAME != ''``."""
    match = re.fullmatch(r"(vars\.\w+) != ''", condition.strip())
    assert match, f"the test cannot evaluate the condition {condition!r}"
    return context.get(match.group(1), "") != ""


class Runner:
    """One job's runner: its checkout, its RUNNER_TEMP, and the outputs of its steps."""

    def __init__(self, workspace: Path, remote: Path, context: dict[str, str]) -> None:
        self.workspace = workspace
        self.remote = remote
        self.temp = workspace.parent / f"{workspace.name}-temp"
        self.temp.mkdir()
        self.context = {**context, "runner.temp": str(self.temp)}
        self.environment = {
            **os.environ,
            "ARCHY_TEST_VENV": str(VENV),
            "ARCHY_TEST_FROZEN_BUNDLE": str(frozen_binary().parent),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_REPOSITORY": GITHUB_REPOSITORY,
            "PATH": f"/usr/bin:/bin:{VENV / 'bin'}",
        }
        self.ran: list[str] = []

    def checkout(self, step: dict[str, Any]) -> None:
        assert step["uses"].startswith("actions/checkout@"), step
        options = step.get("with", {})
        target = self.workspace / options.get("path", ".")
        branch = ["--branch", options["ref"]] if "ref" in options else []
        subprocess.run(
            ["git", "clone", "--quiet", *branch, str(self.remote), str(target)], check=True
        )

    def run(self, step: dict[str, Any], extra_env: Mapping[str, str] = {}) -> str:
        """Run one step as the runner would; return its stdout."""
        if "uses" in step:
            self.checkout(step)
            self.ran.append(step["uses"].split("@")[0])
            return ""
        if "if" in step and not condition_holds(step["if"], self.context):
            return ""
        output_file = self.temp / f"output-{len(self.ran)}"
        output_file.touch()
        environment = {
            **self.environment,
            **{k: resolve(str(v), self.context) for k, v in step.get("env", {}).items()},
            **extra_env,
            "GITHUB_OUTPUT": str(output_file),
        }
        directory = Path(resolve(step.get("working-directory", "."), self.context))
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.workspace / directory, env=environment, capture_output=True, text=True,
            timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"step {step.get('name')!r}:\n{done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            self.context[f"steps.{step.get('id')}.outputs.{key}"] = value
        self.ran.append(step["name"])
        return done.stdout


def source_repository(path: Path) -> tuple[Path, str]:
    """The project as its maintainers hold it: apps, ceremony, the node's sources, and an
    empty ``repository`` branch; returns (the maintainers' key directory, the apps commit)."""
    source = AppRepo(path)
    source.add_app("demo-web", image=IMAGE)
    for name in COPIED:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(REPO / name, path / name)
    for name in COPIED_SCRIPTS:
        (path / "scripts").mkdir(exist_ok=True)
        shutil.copy2(REPO / "scripts" / name, path / "scripts" / name)
    bootstrap = source.write("scripts/bootstrap", BOOTSTRAP_STAND_IN)
    bootstrap.chmod(0o755)
    source.write(".gitignore", ".venv/\n.cache/\nbuild/\ndist/\nkeys/\n")
    make_ceremony(path)  # path/ceremony (committed), path/keys (the maintainers' own)
    commit = source.commit("apps, ceremony and the node's sources")
    git(path, "switch", "--quiet", "--orphan", "repository")
    (path / "README.repository").write_text("the published repository\n")
    git(path, "add", "README.repository")
    git(path, "commit", "--quiet", "-m", "an empty repository branch")
    git(path, "switch", "--quiet", "--force", "main")
    return path / "keys", commit


def push_redirect(remote: Path) -> dict[str, str]:
    """Git configuration, from the environment, that sends the step's GitHub push to
    ``remote``."""
    github = f"https://x-access-token:{GH_TOKEN}@github.com/{GITHUB_REPOSITORY}.git"
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{remote}.insteadOf",
        "GIT_CONFIG_VALUE_0": github,
    }


# With a cold cache the bundle is built inside this test (PyInstaller and xz: up to 6 min at
# a load of 12-16 on 2 cores), and the two workflows pack it again (about 40 s of CPU each)
@pytest.mark.timeout(1500)
def test_the_publish_workflow_ships_a_catalog_whose_node_target_was_built_in_the_run(
    seaweedfs: SeaweedFS, bucket: str, tmp_path: Path
) -> None:
    keys, apps_commit = source_repository(tmp_path / "source")
    remote = tmp_path / "remote.git"
    subprocess.run(
        ["git", "clone", "--quiet", "--bare", str(tmp_path / "source"), str(remote)], check=True
    )

    # the signing-event workflow on the merge of the apps commit
    event_job = Runner(tmp_path / "event-runner", remote, {"github.token": GH_TOKEN})
    event_steps = workflow_steps("signing-event.yml", "open-event")
    *opening, push_for_review = event_steps
    assert push_for_review["name"].startswith("Push sign/")
    for step in opening:
        event_job.run(step)
    event_id = event_job.context["steps.event.outputs.id"]
    event_binary = event_job.temp / "node" / "archy-node-linux-amd64.tar.xz"

    # two of three maintainers sign (offline, each with their key), and the event is merged
    workspace = event_job.workspace
    passphrase = {"ARCHY_TEST_PASSPHRASE": PASSPHRASE.decode()}
    for maintainer in ("alice", "bob"):
        signed = subprocess.run(
            [str(workspace / ".venv/bin/archy"), "ceremony", "sign", "--event", event_id,
             "--key", str(keys / f"{maintainer}.key"), "--yes",
             "--passphrase-env", "ARCHY_TEST_PASSPHRASE"],
            cwd=workspace, env={**os.environ, **passphrase}, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        assert signed.returncode == 0, signed.stdout + signed.stderr
    git(workspace, "add", "ceremony/events")
    git(workspace, "commit", "--quiet", "-m", f"Merge signing event {event_id}")
    git(workspace, "push", "--quiet", "origin", "main")

    # the publish workflow on that merge
    seed_dir = tmp_path / "seed"
    (seed_dir / "blobs").mkdir(parents=True)
    (seed_dir / "metadata").mkdir()
    store = SeedStore(seed_dir / "blobs", seed_dir / "metadata")
    online_key = (keys / "online.key").read_text()
    with HttpSeedServer(store, upload_token=SEED_TOKEN) as seed:
        publish_job = Runner(
            tmp_path / "publish-runner",
            remote,
            {
                "github.token": GH_TOKEN,
                "secrets.ARCHY_ONLINE_KEY": online_key,
                "secrets.ARCHY_ONLINE_KEY_PASSPHRASE": PASSPHRASE.decode(),
                "vars.ARCHY_SEEDS": seed.url,
                "secrets.ARCHY_SEED_TOKEN": SEED_TOKEN,
                "vars.ARCHY_S3_URL": f"s3://{bucket}/registry",
                "vars.ARCHY_S3_ENDPOINT": seaweedfs.endpoint_url,
                "secrets.ARCHY_S3_ACCESS_KEY_ID": ACCESS_KEY,
                "secrets.ARCHY_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            },
        )
        stdout = {}
        for step in workflow_steps("publish.yml", "publish"):
            extra = push_redirect(remote) if step.get("name", "").startswith("Push") else {}
            extra = {**extra, "AWS_DEFAULT_REGION": "us-east-1"}
            stdout[step.get("name", step.get("uses"))] = publish_job.run(step, extra)

    names = [s.get("name", s.get("uses", "").split("@")[0]) for s in workflow_steps(
        "publish.yml", "publish")]  # fmt: skip
    assert publish_job.ran == names  # every step ran, in the workflow's order
    assert publish_job.context["steps.event.outputs.id"] == event_id
    assert publish_job.context["steps.event.outputs.commit"] == apps_commit
    signed_tree = publish_job.temp / "signed"
    assert sources_key(signed_tree) == frozen_build().name  # the bundle of that commit
    built = (publish_job.temp / "node" / "archy-node-linux-amd64.tar.xz").read_bytes()
    assert built == event_binary.read_bytes()  # the event signed what the publish ships
    assert built == frozen_bundle_archive().read_bytes()  # packed the same by every build
    assert f"seed {seed.url}: " in stdout["Publish (and send the seeds what they lack)"]

    # the published repository went to the repository branch of the remote
    published = git(remote, "ls-tree", "-r", "--name-only", "repository")
    assert "metadata/timestamp.json" in published.splitlines()
    assert git(remote, "log", "-1", "--format=%s", "repository") == f"Publish {event_id}"

    # a node pulls from the S3 origin and verifies the catalog; its node target is that binary
    node = tmp_path / "node"
    archy_node = str(frozen_binary())
    root = publish_job.workspace / "origin" / "metadata" / "1.root.json"
    origin = seaweedfs.public_url(bucket, "registry")
    for command in (
        ["init", "--root", str(root), "--origin", origin, "--engine", "stage"],
        ["pull"],
    ):
        done = subprocess.run(
            [archy_node, *command, "--state-root", str(node)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    pointer = json.loads((node / "state" / "catalog.json").read_text())["current"]
    catalog = json.loads((node / "blobs" / pointer["blake3"]).read_bytes())
    assert pointer["commit"] == apps_commit
    target = catalog["node"]["linux-amd64"]
    assert (target["blake3"], target["length"]) == (blake3_hex(built), len(built))
    key = f"registry/targets/{target['target']}"
    s3_object = seaweedfs.client().get_object(Bucket=bucket, Key=key)
    assert s3_object["Body"].read() == built
    assert target["blake3"] in set(BlobStore(store.blobs_dir).blobs())  # and the seed has it
