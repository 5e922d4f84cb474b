"""``archy-node credentials APP``: the generated secrets a manifest marks ``show_to_owner``.

The only place the node ever shows a secret value: read from the node's 0600 secret
file (never through a symlink), for an installed app, and only the secrets its
manifest marks for the owner (an admin password); every other secret stays unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from catalog.manifest import Manifest
from catalog.secret_homes import secret_home
from node_runtime.apply.secrets import read_secret_file
from node_runtime.store.paths import secret_file


@dataclass(frozen=True)
class Credential:
    name: str
    value: str | None
    """None: not generated on this node yet (the app was never applied or staged)."""


def owner_credentials(manifest: Manifest, state_root: Path) -> list[Credential]:
    """The app's ``show_to_owner`` secrets with their values on this node, in manifest order."""
    shown: list[Credential] = []
    for secret in manifest.generated_secrets:
        if not secret.show_to_owner:
            continue
        owner, name = secret_home(manifest, secret.name)
        value = read_secret_file(secret_file(state_root, owner, name), state_root)
        shown.append(Credential(secret.name, None if value is None else value.decode()))
    return shown
