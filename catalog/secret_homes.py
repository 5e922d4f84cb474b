"""Where the node keeps each generated secret of an app: under the app, or under a capability.

An app's own secret is filed under ``(app, name)``; a secret it exports with a
capability under ``("cap", "<capability>_<name>")``, so every dependent and whichever
provider is installed share one Podman secret.  Owner settings are listed too, with no
secret to generate.  Pure: a manifest in, values out.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.manifest import GeneratedSecret, Manifest
from catalog.runtime_names import capability_secret_home, podman_secret_name


def secret_home(manifest: Manifest, secret_name: str) -> tuple[str, str]:
    """(owner, name) under which the node keeps one of ``manifest``'s generated secrets.

    An app's own secret is ``(app, name)``; a secret it exports with a capability
    is ``("cap", "<capability>_<name>")``: kept once per node for the capability,
    so every dependent and whichever provider is installed use one Podman secret
    (``archy-cap_<capability>_<name>``), and switching providers keeps its value.
    """
    exported = manifest.exported_secret(secret_name)
    if exported is None:
        return manifest.id, secret_name
    return capability_secret_home(exported.capability, secret_name)


@dataclass(frozen=True)
class SecretHome:
    """One generated secret of an app and where the node keeps it.

    ``secret`` carries the name the node files it under (``name``), so generating
    it needs nothing else; ``exported`` is True for a capability's secret.  An owner
    setting (``owner_settings``) has no ``secret``: the node never generates it, the
    owner supplies it with ``archy-node configure``.
    """

    secret: GeneratedSecret | None
    owner: str
    name: str
    exported: bool

    @property
    def podman_name(self) -> str:
        return podman_secret_name(self.owner, self.name)


def secret_homes(manifest: Manifest) -> list[SecretHome]:
    """Every generated secret of ``manifest`` with the (owner, name) the node keeps it under."""
    homes: list[SecretHome] = []
    for secret in manifest.generated_secrets:
        owner, name = secret_home(manifest, secret.name)
        homes.append(
            SecretHome(
                secret.model_copy(update={"name": name}),
                owner,
                name,
                exported=owner != manifest.id,
            )
        )
    homes += [
        SecretHome(None, manifest.id, setting.name, exported=False)
        for setting in manifest.owner_settings
    ]
    return homes
