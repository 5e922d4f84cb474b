"""Real parts for the several-registries tests: signed repositories on file origins and in
SeaweedFS, developers' registries signed with did:keys, a nostr-sdk relay on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from node_runtime.commands import main as node_main
from pipeline.market.dev_registry import PublishedRegistry, publish_developer_registry
from pipeline.market.identity import DeveloperIdentity
from tests.integration.s3.fixtures import no_ambient_aws_configuration, seaweedfs  # noqa: F401
from tests.support.market import (  # noqa: F401
    developer,
    new_app,
    other_developer,
    relay_url,
)
from tests.support.repos import RepositoryHandle, make_repository, manifest_yaml

OFFICIAL_APPS = {
    # the template web app of `archy app new` publishes host port 18000
    "notes": manifest_yaml("notes", host_port=18000),
    "web": manifest_yaml("web", host_port=18081),
    "btc": manifest_yaml(
        "btc",
        extra_yaml=(
            "generated_secrets:\n  - {name: rpc-password}\n"
            "provides:\n  - capability: bitcoin\n    secrets: [rpc-password]\n"
        ),
    ),
}

# a provider of "bitcoin" that exports its RPC password, as bitcoin-core does
EXPORTING_PROVIDER = (
    "generated_secrets:\n  - {name: rpc-password}\n"
    "provides:\n  - capability: bitcoin\n    secrets: [rpc-password]\n"
)


def official_repository(directory: Path) -> RepositoryHandle:
    return make_repository(directory, OFFICIAL_APPS)


def developer_app(
    apps_dir: Path,
    app_id: str,
    *,
    host_port: int = 18500,
    member: str | None = None,
    requires: str | None = None,
    provides: str | None = None,
    extra_yaml: str = "",
    env: str | None = None,
) -> Path:
    """The template web app of ``archy app new``, renamed and re-ported."""
    folder = new_app(apps_dir, app_id)
    manifest = folder / "manifest.yml"
    text = manifest.read_text().replace("host: 18000", f"host: {host_port}")
    if member is not None:
        text = text.replace(f"- name: {app_id}", f"- name: {member}")
        text = text.replace(f"container: {app_id}", f"container: {member}")
        text = text.replace(f"adopt: [{app_id}]", f"adopt: [{member}]")
    if requires is not None:
        text += f"requires:\n  - {{app: {requires}}}\n"
    if provides is not None:
        text += f"provides: [{provides}]\n"
    if env is not None:
        text = text.replace("      TZ: UTC", f"      TZ: UTC\n      {env}")
    manifest.write_text(text + extra_yaml)
    return folder


@dataclass
class DeveloperRegistry:
    published: PublishedRegistry
    identity: DeveloperIdentity

    @property
    def origin(self) -> str:
        return self.published.repo_dir.as_uri()


def developer_registry(
    tmp: Path, identity: DeveloperIdentity, folder: Path, name: str = "repo"
) -> DeveloperRegistry:
    published = publish_developer_registry(folder, identity.signer, tmp / name, datetime.now(UTC))
    return DeveloperRegistry(published, identity)


def node(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """``archy-node ARGS``: (exit code, stdout, stderr); a crash fails the test."""
    result = CliRunner().invoke(node_main, list(args), input=input)
    assert "Traceback" not in result.stderr, result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def node_json(*args: str) -> tuple[int, object]:
    code, out, err = node(*args, "--json")
    return code, (json.loads(out) if out.strip() else err)


@dataclass
class Node:
    state_root: Path

    def run(self, *args: str, input: str | None = None) -> tuple[int, str, str]:
        return node(*args, "--state-root", str(self.state_root), input=input)


def new_node(tmp: Path, official: RepositoryHandle, **options: str) -> Node:
    state_root = tmp / "node"
    args = ["init", "--root", str(official.root_path), "--origin", official.origin,
            "--engine", "stage", "--data-root", str(tmp / "data")]  # fmt: skip
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", value]
    code, _out, err = node(*args, "--state-root", str(state_root))
    assert code == 0, err
    return Node(state_root)
