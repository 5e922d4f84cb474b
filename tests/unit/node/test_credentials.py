"""``archy-node credentials APP``: a secret the manifest marks ``show_to_owner`` is shown
there, and no secret value appears in any unit, state file, catalog or output the
node writes while staging the app."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from node_runtime.commands import main
from node_runtime.store.node_config import STATE_ROOT_ENV
from tests.support.repos import make_repository

MANIFEST = """\
schema: 1
id: cred-app
name: Cred App
version: "1.0.0"
revision: 1
summary: An app with an admin password the owner may see.
description: One generated secret for the owner, one that stays unseen.
category: developer
license: MIT
homepage: https://example.org/cred-app
source: https://example.org/cred-app/src
architectures: [amd64, arm64]
containers:
  - name: cred-app
    image: docker.io/library/busybox:1.36
    command: [httpd, -f, -p, "8080", -h, /www]
    env:
      ADMIN_PASSWORD: {secret: admin-password}
      INTERNAL_KEY: {secret: internal-key}
    volumes:
      - {name: data, path: /data}
generated_secrets:
  - {name: admin-password, length: 24, show_to_owner: true}
  - {name: internal-key, length: 48, charset: hex}
"""


def run(tmp_path: Path, *args: str) -> Result:
    env = {
        STATE_ROOT_ENV: str(tmp_path / "state"),
        "ARCHY_NODE_ENGINE": "stage",
        "ARCHY_NODE_QUADLET_DIR": str(tmp_path / "units"),
    }
    return CliRunner().invoke(main, list(args), env=env)


def written_files(tmp_path: Path) -> dict[str, bytes]:
    """Every file under the node's dirs except the secret files themselves."""
    return {
        str(path): path.read_bytes()
        for path in tmp_path.rglob("*")
        if path.is_file() and "secrets" not in path.relative_to(tmp_path).parts
    }


def test_only_credentials_shows_the_owners_secret_and_no_file_or_output_holds_one(
    tmp_path: Path,
) -> None:
    repository = make_repository(tmp_path / "origin", {"cred-app": MANIFEST})
    init = ("init", "--root", str(repository.root_path), "--origin", repository.origin)
    outputs = [run(tmp_path, *init, "--data-root", str(tmp_path / "data"))]
    outputs.append(run(tmp_path, "pull"))
    before = run(tmp_path, "credentials", "cred-app")
    assert before.exit_code == 1
    assert before.output == (
        "error: 'cred-app' is not installed; `archy-node install cred-app` first\n"
    )
    for args in (("install", "cred-app"), ("install", "cred-app", "--json"), ("apply",),
                 ("apply", "--json"), ("status",), ("status", "--json"), ("list",)):  # fmt: skip
        outputs.append(run(tmp_path, *args))
    assert all(result.exit_code == 0 for result in outputs), [r.output for r in outputs]

    secrets_dir = tmp_path / "state/secrets/cred-app"
    admin = (secrets_dir / "admin-password").read_text()
    internal = (secrets_dir / "internal-key").read_text()
    assert len(admin) == 24 and len(internal) == 48

    shown = run(tmp_path, "credentials", "cred-app", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {
        "app": "cred-app", "credentials": [{"name": "admin-password", "value": admin}]
    }  # fmt: skip
    text = run(tmp_path, "credentials", "cred-app")
    assert text.output == f"admin-password: {admin}\n"

    files = written_files(tmp_path)
    assert any(name.endswith(".container") for name in files)  # the staged units are scanned
    assert any(name.endswith("installed.json") for name in files)
    for value in (admin, internal):
        assert not [name for name, data in files.items() if value.encode() in data]
        assert not [r.output for r in outputs if value in r.output]
    assert internal not in shown.output + text.output
