"""A developer revokes their did:key on a real relay; a node that sees it stops offering the
key's apps, says why, and keeps the revocation when a relay later withholds it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from nostr_sdk import Keys

from catalog.announcement import Revocation
from catalog.catalog_model import parse_catalog
from node_runtime.commands import main as node_main
from node_runtime.market.discover import refresh_revocations
from node_runtime.market.revocation import remembered_revocations, revoked_apps
from pipeline.cli import main as archy_main
from pipeline.market.identity import DeveloperIdentity, open_identity
from pipeline.market.revoke import make_revocation
from signing.developer import sign_revocation
from tests.support.market import (
    PASSPHRASE,
    Registry,
    announcement,
    keys_of,
    publish,
    send_announcement,
    send_event,
)

ENV = {"DEV_PASSPHRASE": PASSPHRASE.decode()}


def archy(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(archy_main, list(args), env=ENV)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def discover(relay: str, state_root: Path, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        node_main, ["discover", "--relay", relay, "--allow-file-origins", "--state-root",
                    str(state_root), *extra],
    )  # fmt: skip
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def new_identity(directory: Path) -> DeveloperIdentity:
    code, _out, err = archy(
        "dev", "keygen", "--dir", str(directory), "--kdf-cost", "interactive",
        "--passphrase-env", "DEV_PASSPHRASE",
    )  # fmt: skip
    assert code == 0, err
    return open_identity(directory, PASSPHRASE)


def send_revocation(url: str, revocation: Revocation, keys: Keys) -> str:
    tags = [["d", revocation.d_tag()], ["t", "archy-revocation"]]
    return send_event(url, keys, revocation.content(), tags)


def test_archy_dev_revoke_makes_nodes_show_the_app_as_revoked_with_the_reason(
    tmp_path: Path, relay_url: str
) -> None:
    identity_dir = tmp_path / "identity"
    identity = new_identity(identity_dir)
    registry = publish(tmp_path, identity)
    send_announcement(relay_url, announcement(registry), keys_of(identity))
    node = tmp_path / "node"
    node.mkdir()
    code, out, _ = discover(relay_url, node)
    assert code == 0 and out.startswith("devreg/demo-notes  1.0.0-r1  score ")

    code, out, err = archy(
        "dev", "revoke", "--reason", "laptop stolen", "--relay", relay_url,
        "--dir", str(identity_dir), "--passphrase-env", "DEV_PASSPHRASE",
    )  # fmt: skip
    assert (code, out, err) == (0, f"revoked {identity.public.did} (1 relay(s))\n", "")
    assert identity.nostr_secret_hex not in out

    code, out, err = discover(relay_url, node)
    assert (code, err) == (0, "")
    assert out == (
        f"devreg/demo-notes  revoked: {identity.public.did} was revoked by its developer: "
        "laptop stolen\n"
    )
    code, out, _ = discover(relay_url, node, "--json")
    document = json.loads(out)
    assert (document["apps"], document["rejected"]) == ([], [])
    [revoked] = document["revoked"]
    assert {k: revoked[k] for k in ("registry", "app", "did", "reason")} == {
        "registry": "devreg", "app": "demo-notes", "did": identity.public.did,
        "reason": "laptop stolen",
    }  # fmt: skip

    # the identity refuses to announce again, and says what to do
    catalog = tmp_path / "app-catalog.json"
    catalog.write_bytes(registry.published.catalog_bytes)
    code, out, err = archy(
        "dev", "announce", "--dir", str(identity_dir), "--catalog", str(catalog),
        "--root", str(registry.published.root_file), "--registry", "devreg",
        "--origin", registry.origin, "--relay", relay_url,
        "--passphrase-env", "DEV_PASSPHRASE",
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"error: {identity_dir}: this identity's did:key was revoked (laptop stolen); "
        "nothing was announced\nhint: make a new identity with `archy dev keygen --dir NEW_DIR`\n"
    )


def test_a_relay_that_withholds_the_revocation_later_does_not_undo_it(
    tmp_path: Path, relay_url: str, second_relay_url: str, registry: Registry
) -> None:
    keys = keys_of(registry.identity)
    send_announcement(relay_url, announcement(registry), keys)
    send_revocation(relay_url, make_revocation(registry.identity, "key leaked"), keys)
    send_announcement(second_relay_url, announcement(registry), keys)  # no revocation there
    node = tmp_path / "node"
    node.mkdir()
    assert "revoked" in discover(relay_url, node)[1]
    code, out, err = discover(second_relay_url, node)
    assert (code, err) == (0, "")
    assert out == (
        f"devreg/demo-notes  revoked: {registry.identity.public.did} was revoked by its "
        "developer: key leaked\n"
    )
    # a node that never saw it (no state) lists the app from that relay
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert discover(second_relay_url, fresh)[1].startswith("devreg/demo-notes  1.0.0-r1  score ")


def test_a_revocation_not_signed_by_the_did_key_is_rejected_and_the_app_stays_listed(
    tmp_path: Path, relay_url: str, registry: Registry, other_developer: DeveloperIdentity
) -> None:
    send_announcement(relay_url, announcement(registry), keys_of(registry.identity))
    did = registry.identity.public.did
    forged = Revocation(
        did=did, reason="fake", signature=sign_revocation(other_developer.signer, "fake")
    )
    event_id = send_revocation(relay_url, forged, Keys.generate())
    node = tmp_path / "node"
    node.mkdir()
    code, out, _ = discover(relay_url, node, "--json")
    document = json.loads(out)
    assert code == 0
    assert [app["app"] for app in document["apps"]] == ["demo-notes"]
    assert document["revoked"] == []
    assert document["rejected"] == [
        {
            "event": event_id,
            "reason": f"revocation {event_id[:12]}: the revocation is not signed by {did}",
        }
    ]
    assert not (node / "market" / "revocations.json").exists()


def test_a_certificate_made_in_advance_is_sent_later_without_the_identity(
    tmp_path: Path, relay_url: str
) -> None:
    identity_dir = tmp_path / "identity"
    identity = new_identity(identity_dir)
    registry = publish(tmp_path, identity)
    send_announcement(relay_url, announcement(registry), keys_of(identity))
    certificate = tmp_path / "revocation-certificate.json"
    code, out, err = archy(
        "dev", "revoke", "--reason", "key lost", "--certificate-out", str(certificate),
        "--dir", str(identity_dir), "--passphrase-env", "DEV_PASSPHRASE",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote a revocation certificate for {identity.public.did} to ")
    assert not (identity_dir / "revocation.json").exists()  # nothing sent yet
    node = tmp_path / "node"
    node.mkdir()
    assert discover(relay_url, node)[1].startswith("devreg/demo-notes  1.0.0-r1  score ")

    code, out, err = archy("dev", "revoke", "--certificate", str(certificate), "--relay", relay_url)
    assert (code, out, err) == (0, f"revoked {identity.public.did} (1 relay(s))\n", "")
    assert discover(relay_url, node)[1] == (
        f"devreg/demo-notes  revoked: {identity.public.did} was revoked by its developer: "
        "key lost\n"
    )


def test_revoke_refuses_bad_input_in_one_line_and_sends_nothing(
    tmp_path: Path, relay_url: str, registry: Registry
) -> None:
    identity_dir = tmp_path / "identity"
    new_identity(identity_dir)
    common = ["--dir", str(identity_dir), "--passphrase-env", "DEV_PASSPHRASE"]
    code, out, err = archy("dev", "revoke", "--reason", "x" * 501, "--relay", relay_url, *common)
    assert (code, out, err) == (
        1, "", "error: --reason: give 1 to 500 characters (it is public), not 501\n"
    )  # fmt: skip
    code, _out, err = archy("dev", "revoke", "--relay", relay_url, *common)
    assert code == 2 and "give --reason (or --certificate FILE)" in err
    code, _out, err = archy("dev", "revoke", "--reason", "r", *common)
    assert code == 2 and "give --relay URL (or --certificate-out FILE)" in err
    cert = tmp_path / "cert.json"
    code, _out, err = archy("dev", "revoke", "--reason", "r", "--certificate-out", str(cert),
                            "--relay", relay_url, *common)  # fmt: skip
    assert code == 2 and "--certificate-out sends nothing: no --relay" in err
    assert not cert.exists()
    tampered = tmp_path / "certificate.json"
    genuine = make_revocation(registry.identity, "key lost")
    tampered.write_text(genuine.model_copy(update={"reason": "other"}).content())
    code, out, err = archy("dev", "revoke", "--certificate", str(tampered), "--relay", relay_url)
    did = registry.identity.public.did
    assert (code, out, err) == (
        1, "", f"error: {tampered}: the revocation is not signed by {did}\n"
    )  # fmt: skip
    assert not (identity_dir / "revocation.json").exists()
    node = tmp_path / "node"
    node.mkdir()
    code, out, _ = discover(relay_url, node, "--json")
    assert json.loads(out)["revoked"] == []


def test_the_rest_of_the_node_can_ask_the_relays_for_revocations_alone(
    tmp_path: Path, relay_url: str, registry: Registry
) -> None:
    send_revocation(relay_url, make_revocation(registry.identity, "key leaked"), Keys.generate())
    node = tmp_path / "node"
    node.mkdir()
    revoked = refresh_revocations([relay_url], node)
    assert list(revoked) == [registry.identity.public.did]
    assert remembered_revocations(node) == revoked
    catalog = parse_catalog(registry.published.catalog_bytes)
    assert revoked_apps(catalog, remembered_revocations(node)) == {
        "demo-notes": f"apps.demo-notes: signed by {registry.identity.public.did} was revoked "
        "by its developer: key leaked"
    }
