"""Where the node files each secret of an app: an app's own under the app, an exported one
under ``cap`` (one Podman secret per capability, whichever provider is installed), an
owner setting under the app with nothing to generate."""

from __future__ import annotations

from catalog.manifest import GeneratedSecret
from catalog.secret_homes import SecretHome, secret_home, secret_homes
from tests.realparts import REPO_ROOT
from tests.support.catalogs import changed, manifest_from_folder


def test_an_exported_secret_is_filed_under_its_capability_an_own_one_under_the_app() -> None:
    bitcoin = manifest_from_folder(REPO_ROOT / "apps" / "bitcoin-core")
    document = bitcoin.to_document()
    mixed = changed(
        bitcoin,
        generated_secrets=[*document["generated_secrets"],
                           {"name": "own", "length": 16, "charset": "hex"}],
        owner_settings=[{"name": "alias", "help": "the node's alias"}],
    )  # fmt: skip
    assert secret_home(mixed, "rpc-password") == ("cap", "bitcoin_rpc-password")
    assert secret_home(mixed, "own") == ("bitcoin-core", "own")
    homes = secret_homes(mixed)
    assert homes == [
        SecretHome(GeneratedSecret(name="bitcoin_rpc-password", length=32),
                   "cap", "bitcoin_rpc-password", exported=True),
        SecretHome(GeneratedSecret(name="own", length=16, charset="hex"),
                   "bitcoin-core", "own", exported=False),
        SecretHome(None, "bitcoin-core", "alias", exported=False),
    ]  # fmt: skip
    assert [type(home.exported) for home in homes] == [bool, bool, bool]
    assert [home.podman_name for home in homes] == [
        "archy-cap_bitcoin_rpc-password",
        "archy-bitcoin-core_own",
        "archy-bitcoin-core_alias",
    ]
